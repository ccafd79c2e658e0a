import { signPayV2 } from '../../src/pay/sign';
import { PayNotifyError } from '../../src/spend/payment-order';
import { parseV2Notification, v2Answer } from '../../src/spend/parse-v2-notification';
import { buildXml, parseXml } from '../../src/wechat/xml';
import { APPID, KEY, MCH_ID, T0, v2 } from './helpers';

const opts = { key: KEY, appIds: [APPID], mchId: MCH_ID };
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof PayNotifyError ? err.code : `other: ${String(err)}`;
  }
  return 'accepted';
};
/** Re-signs a notification after changing fields (a correctly signed but different notification). */
function resigned(xml: string, change: Record<string, string | undefined>, key = KEY): string {
  const f = { ...(parseXml(xml) as Record<string, string>), ...change };
  delete f.sign;
  return buildXml({ ...f, sign: signPayV2(f, key, f.sign_type === 'HMAC-SHA256' ? 'HMAC-SHA256' : 'MD5') });
}

describe('parseV2Notification', () => {
  it.each(['MD5', 'HMAC-SHA256'] as const)('should accept a notification signed with %s and translate it', (type) => {
    const parsed = parseV2Notification(v2({ attach: 'promo:a', goodsTag: 'drinks' }, type), opts);
    expect(parsed).toEqual({
      kind: 'order',
      order: {
        transactionId: '4200002026030200000000000001',
        outTradeNo: 'out-1',
        appId: APPID,
        mchId: MCH_ID,
        openId: 'o-payer-0001',
        totalFen: 12000,
        paid: true,
        state: 'SUCCESS',
        attach: 'promo:a',
        productTags: ['drinks'],
        paidAt: T0,
        protocol: 'v2',
        tradeType: 'JSAPI',
      },
    });
  });

  it('should refuse a notification signed with another key', () => {
    expect(code(() => parseV2Notification(v2({}, 'MD5', 'x'.repeat(32)), opts))).toBe('bad_signature');
  });

  it('should refuse a changed field under the original signature (amount raised)', () => {
    const forged = v2().replace('<total_fee>12000</total_fee>', '<total_fee>99900</total_fee>');
    expect(forged).not.toBe(v2());
    expect(code(() => parseV2Notification(forged, opts))).toBe('bad_signature');
  });

  it('should refuse a notification without a signature', () => {
    expect(code(() => parseV2Notification(v2().replace(/<sign>.*?<\/sign>/, ''), opts))).toBe('bad_signature');
  });

  it('should refuse an MD5 signature presented as HMAC-SHA256', () => {
    const md5 = parseXml(v2()) as Record<string, string>;
    expect(code(() => parseV2Notification(buildXml({ ...md5, sign_type: 'HMAC-SHA256' }), opts))).toBe('bad_signature');
  });

  it('should refuse another appid and another merchant, even correctly signed', () => {
    expect(code(() => parseV2Notification(resigned(v2(), { appid: 'wx1111111111111111' }), opts))).toBe('wrong_appid');
    expect(code(() => parseV2Notification(resigned(v2(), { mch_id: '1900000999' }), opts))).toBe('wrong_mchid');
  });

  it('should refuse an unknown sign_type', () => {
    expect(code(() => parseV2Notification(resigned(v2(), { sign_type: 'SHA1' }), opts))).toBe('malformed');
  });

  it('should read a failed payment as an unpaid order', () => {
    const parsed = parseV2Notification(v2({ failed: true }), opts);
    expect(parsed.kind === 'order' && parsed.order).toMatchObject({ paid: false, state: 'PAYERROR' });
  });

  it('should ignore a notification whose return_code is FAIL (it carries no order)', () => {
    expect(parseV2Notification(buildXml({ return_code: 'FAIL', return_msg: 'x' }), opts)).toEqual({ kind: 'ignored', reason: 'return_code FAIL' });
  });

  it.each([
    ['not XML', 'hello'],
    ['a DOCTYPE with an external entity', '<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><return_code>&x;</return_code></xml>'],
    ['deep nesting', `${'<a>'.repeat(100)}${'</a>'.repeat(100)}`],
    ['two roots', '<xml></xml><xml></xml>'],
  ])('should refuse %s as malformed', (_name, body) => {
    expect(code(() => parseV2Notification(body, opts))).toBe('malformed');
  });

  it('should refuse a paid order without a transaction id or with a non-integer total_fee, even signed', () => {
    expect(code(() => parseV2Notification(resigned(v2(), { transaction_id: undefined }), opts))).toBe('malformed');
    expect(code(() => parseV2Notification(resigned(v2(), { total_fee: '120.00' }), opts))).toBe('malformed');
  });
});

describe('v2Answer', () => {
  it('should build the protocol answers', () => {
    expect(v2Answer('SUCCESS', 'OK')).toBe('<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>');
    expect(parseXml(v2Answer('FAIL', 'a]]>b'))).toEqual({ return_code: 'FAIL', return_msg: 'a]]>b' });
  });
});
