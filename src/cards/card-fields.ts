/**
 * Field types shared by the card schemas (coupons in card-schema.ts, member cards in
 * member-card-schema.ts): text measured in Chinese characters, URLs, dates, yuan amounts.
 *
 * @example z.object({ title: cjkText(9), logo_url: httpsUrl, reduce_cost: yuan({ min: 1 }) })
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Create_a_Coupon_Voucher_or_Card.html
 */
import { z } from 'zod';
import { yuanToFen } from '../lib/money';
import { cjkLength } from './cjk-length';

/** Text measured in Chinese characters (see {@link cjkLength}). */
export function cjkText(max: number) {
  return z.string().superRefine((v, ctx) => {
    if (v.trim() === '') ctx.addIssue({ code: 'custom', message: 'must not be empty' });
    const n = cjkLength(v);
    if (n > max)
      ctx.addIssue({
        code: 'custom',
        message: `is ${n} Chinese characters long; at most ${max} allowed (a Latin letter or digit counts as half)`,
      });
  });
}

export const httpsUrl = z.string().regex(/^https?:\/\/\S+$/, { message: 'must be an http(s) URL' });

/** Epoch seconds from a number, or a `YYYY-MM-DD` / ISO date (Beijing midnight for plain dates). */
export const timestamp = z.union([z.number(), z.string(), z.date()]).transform((v, ctx) => {
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v > 0) return v;
  } else {
    const s = v instanceof Date ? v.toISOString() : v.trim();
    const ms = /^\d{4}-\d{2}-\d{2}$/.test(s) ? Date.parse(`${s}T00:00:00+08:00`) : Date.parse(s);
    if (Number.isFinite(ms)) return Math.floor(ms / 1000);
  }
  ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is not a date (YYYY-MM-DD, Beijing time) nor epoch seconds` });
  return z.NEVER;
});

export const yuan = (opts: { min: number }) =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    const fen = yuanToFen(v);
    if (fen === undefined || fen < opts.min) {
      ctx.addIssue({ code: 'custom', message: `"${v}" is not an amount in yuan with at most 2 decimals${opts.min > 0 ? ' above 0' : ''}` });
      return z.NEVER;
    }
    return fen;
  });
