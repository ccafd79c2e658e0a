/**
 * WeChat Pay API v2 request/response signatures (MD5 and HMAC-SHA256).
 *
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=4_3
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** The two v2 signature algorithms. Red-packet endpoints take no `sign_type` and always use MD5. */
export type PaySignType = 'MD5' | 'HMAC-SHA256';

/** Field values as they go on the wire; `undefined`, `null` and `''` are left out of the signature. */
export type PayFields = Record<string, string | number | undefined>;

/**
 * The string that is hashed: non-empty fields except `sign`, sorted by ASCII key, `k=v` joined with `&`,
 * then `&key=<API key>`. Exported for tests only — it contains the key, never log it.
 *
 * @example stringToSignPayV2({ b: '2', a: '1' }, key) // 'a=1&b=2&key=…'
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=4_3
 */
export function stringToSignPayV2(fields: Readonly<Record<string, unknown>>, key: string): string {
  const pairs: string[] = [];
  for (const name of Object.keys(fields).sort(compareAscii)) {
    if (name === 'sign') continue;
    const value = fields[name];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string' && typeof value !== 'number') continue; // nested elements are not signed
    const text = String(value);
    if (text === '') continue;
    pairs.push(`${name}=${text}`);
  }
  pairs.push(`key=${key}`);
  return pairs.join('&');
}

/**
 * Signs a v2 request (or computes the expected signature of a response).
 *
 * @example signPayV2({ appid: 'wxd930ea5d5a258f4f', mch_id: '10000100', device_info: '1000', body: 'test', nonce_str: 'ibuaiVcKdpRxkhJA' }, '192006250b4c09247ec02edce69f6a2d')
 *   // '9A0A8659F005D6984697E2CA0A9CF3B7'
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=4_3
 */
export function signPayV2(fields: Readonly<Record<string, unknown>>, key: string, type: PaySignType = 'MD5'): string {
  if (typeof key !== 'string' || key === '') throw new TypeError('signPayV2: the API key is empty');
  const text = stringToSignPayV2(fields, key);
  if (type === 'MD5') return createHash('md5').update(text, 'utf8').digest('hex').toUpperCase();
  if (type === 'HMAC-SHA256') return createHmac('sha256', key).update(text, 'utf8').digest('hex').toUpperCase();
  throw new TypeError(`signPayV2: unknown sign type "${String(type)}" (expected MD5 or HMAC-SHA256)`);
}

/**
 * Checks `fields.sign` against the signature of the other fields, in constant time. A missing `sign`
 * is a failed check.
 *
 * @example verifyPayV2({ ...fields, sign: '9A0A…' }, key) // true
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=4_3
 */
export function verifyPayV2(fields: Readonly<Record<string, unknown>>, key: string, type: PaySignType = 'MD5'): boolean {
  const given = fields.sign;
  if (typeof given !== 'string' || given === '') return false;
  const expected = Buffer.from(signPayV2(fields, key, type), 'utf8');
  const actual = Buffer.from(given.toUpperCase(), 'utf8');
  if (expected.length !== actual.length) return false;
  return timingSafeEqual(expected, actual);
}

function compareAscii(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
