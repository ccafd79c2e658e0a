/**
 * Schema of `config/submerchants.yaml`: the sub-merchants for whom this account makes coupons
 * (developer-assisted coupon making, 第三方代制模式 — the no-official-account mode). Each is
 * registered with `submerchant submit NAME` and reviewed by WeChat; a card with `sub_merchant: NAME`
 * is created only once that review approved it.
 *
 * @example
 * const { submerchants } = submerchantsFileSchema.parse(YAML.parse(text));
 * toSubMerchantInput(submerchants['corner-cafe']); // → api.card.submerchant.submit(…)
 * @see https://developers.weixin.qq.com/doc/service/guide/product/card/Third-party_developer_mode.html
 */
import { z } from 'zod';
import { toSubMerchantInfoInput, type SubMerchantInfoInput } from '../api/submerchant';
import { namedEntriesFile } from '../lib/schema-helpers';
import { cjkLength } from './cjk-length';

const mediaId = z.string().regex(/^[A-Za-z0-9_\-=+/]{1,256}$/, { message: 'must be a media_id (upload the file as permanent material first)' });

const endTime = z.union([z.number(), z.string(), z.date()]).transform((v, ctx) => {
  if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
  const s = v instanceof Date ? v.toISOString().slice(0, 10) : String(v).trim();
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(s) ? Date.parse(`${s}T23:59:59+08:00`) : NaN;
  if (Number.isFinite(ms)) return Math.floor(ms / 1000);
  ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is not a date YYYY-MM-DD (Beijing time) nor epoch seconds` });
  return z.NEVER;
});

const subMerchantSchema = z
  .object({
    brand_name: z.string().superRefine((v, ctx) => {
      const n = cjkLength(v);
      if (v.trim() === '') ctx.addIssue({ code: 'custom', message: 'must not be empty' });
      if (n > 12) ctx.addIssue({ code: 'custom', message: `is ${n} Chinese characters long; at most 12 allowed (a Latin letter or digit counts as half)` });
    }),
    logo_url: z.string().regex(/^https?:\/\/\S+$/, { message: 'must be an http(s) URL' }),
    /** media_id of the authorization letter (授权函). */
    protocol: mediaId,
    /** When the authorization letter expires. */
    end_time: endTime,
    primary_category_id: z.number().int().positive(),
    secondary_category_id: z.number().int().positive(),
    /** media_id of the business licence (营业执照). */
    agreement_media_id: mediaId.optional(),
    /** media_id of the operator's ID (身份证). */
    operator_media_id: mediaId.optional(),
    /** The sub-merchant's own verified official account (its card pages then show that account). */
    app_id: z
      .string()
      .regex(/^wx[0-9a-zA-Z]{14,18}$/, { message: 'must be an AppID (wx…)' })
      .optional(),
  })
  .strict();

/** A sub-merchant of submerchants.yaml, parsed. */
export interface SubMerchantDefinition {
  name: string;
  info: SubMerchantInfoInput;
}

/**
 * The whole `submerchants.yaml` (`submerchants: { <name>: {...} }`). Empty or absent: none.
 *
 * @example submerchantsFileSchema.parse({ submerchants: { 'corner-cafe': { brand_name: '街角咖啡', … } } })
 * @see https://developers.weixin.qq.com/doc/service/guide/product/card/Third-party_developer_mode.html
 */
export const submerchantsFileSchema = namedEntriesFile('submerchants', subMerchantSchema, 'sub-merchant', (name, s): SubMerchantDefinition => ({
  name,
  info: toSubMerchantInfoInput(s),
}));

/** Parsed `submerchants.yaml`. */
export type SubMerchantsFile = z.output<typeof submerchantsFileSchema>;
