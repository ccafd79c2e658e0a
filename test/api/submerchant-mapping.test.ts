/**
 * The sub-merchant field mapping: the API's camelCase input ↔ WeChat's `info` object, which is also the
 * shape of a sub-merchant in submerchants.yaml. Both directions go through one field table.
 */
import { toSubMerchantInfoBody, type SubMerchantInfoInput } from '../../src/api/submerchant';
import { submerchantsFileSchema } from '../../src/cards/submerchant-schema';

const REQUIRED: SubMerchantInfoInput = {
  brandName: '小咖啡馆',
  logoUrl: 'https://example.com/cafe.png',
  protocol: 'AUTH_LETTER',
  endTime: 1830268799,
  primaryCategoryId: 1,
  secondaryCategoryId: 102,
};
const REQUIRED_BODY = {
  brand_name: '小咖啡馆',
  logo_url: 'https://example.com/cafe.png',
  protocol: 'AUTH_LETTER',
  end_time: 1830268799,
  primary_category_id: 1,
  secondary_category_id: 102,
};
const OPTIONAL = { agreementMediaId: 'LICENCE', operatorMediaId: 'OPERATOR_ID', appId: 'wx1234567890abcdef' };
const OPTIONAL_BODY = { agreement_media_id: 'LICENCE', operator_media_id: 'OPERATOR_ID', app_id: 'wx1234567890abcdef' };

describe('toSubMerchantInfoBody', () => {
  it('should spell every field as WeChat does, leaving out unset or empty optional fields', () => {
    expect(toSubMerchantInfoBody({ ...REQUIRED, ...OPTIONAL })).toStrictEqual({ ...REQUIRED_BODY, ...OPTIONAL_BODY });
    expect(toSubMerchantInfoBody(REQUIRED)).toStrictEqual(REQUIRED_BODY);
    expect(toSubMerchantInfoBody({ ...REQUIRED, agreementMediaId: '', appId: '' })).toStrictEqual(REQUIRED_BODY);
  });
});

describe('submerchantsFileSchema', () => {
  it('should map a sub-merchant of the file to the API input, optional fields only when given', () => {
    const parse = (s: Record<string, unknown>) => submerchantsFileSchema.parse({ submerchants: { cafe: s } }).submerchants.cafe!.info;
    expect(parse({ ...REQUIRED_BODY, ...OPTIONAL_BODY })).toStrictEqual({ ...REQUIRED, ...OPTIONAL });
    expect(parse(REQUIRED_BODY)).toStrictEqual(REQUIRED);
  });

  it('should give back what toSubMerchantInfoBody sends, field for field', () => {
    const input = { ...REQUIRED, ...OPTIONAL };
    expect(submerchantsFileSchema.parse({ submerchants: { cafe: toSubMerchantInfoBody(input) } }).submerchants.cafe!.info).toStrictEqual(input);
  });
});
