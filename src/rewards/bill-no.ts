/**
 * `mch_billno`: the merchant's order number of one red packet, 28 characters, derived — never random —
 * when the grant is recorded: `mch_id + yyyymmdd (Beijing date of recording) + a per-day sequence`,
 * zero-padded to fill 28 characters (10 digits for the usual 10-digit mch_id). The same grant keeps it
 * for its whole life, so every retry is re-entrant on WeChat's side and can never pay twice.
 *
 * @example billNo('1900000109', Date.parse('2026-01-02T10:00:00+08:00'), 7) // → '1900000109202601020000000007'
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import { shanghaiParts } from '../lib/clock';

/** Length of a bill number, as WeChat Pay documents (String(28)). */
export const BILL_NO_LENGTH = 28;

/** Thrown for a bad mch_id, a sequence out of range, or a malformed bill number. */
export class BillNoError extends Error {
  override readonly name = 'BillNoError';
}

/**
 * The part shared by every bill of one merchant and one Beijing day: `mch_id + yyyymmdd`. The ledger
 * keeps one sequence per prefix.
 *
 * @example billNoPrefix('1900000109', now) // → '190000010920260102'
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function billNoPrefix(mchId: string, nowMs: number): string {
  if (!/^\d{1,18}$/.test(mchId)) throw new BillNoError(`mch_id must be 1–18 digits to leave room for a sequence (got ${mchId.length} characters)`);
  const digits = BILL_NO_LENGTH - mchId.length - 8;
  if (digits < 2) throw new BillNoError('mch_id is too long for a 28-character bill number');
  return `${mchId}${shanghaiParts(nowMs).ymd}`;
}

/** How many sequence numbers one prefix allows per day (10^10 − 1 for a 10-digit mch_id). */
export function billNoCapacity(prefix: string): number {
  return 10 ** (BILL_NO_LENGTH - prefix.length) - 1;
}

/**
 * The bill number of the `seq`-th grant (1-based) recorded under `prefix`.
 *
 * @example formatBillNo('190000010920260102', 7) // → '1900000109202601020000000007'
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function formatBillNo(prefix: string, seq: number): string {
  if (!Number.isSafeInteger(seq) || seq < 1 || seq > billNoCapacity(prefix))
    throw new BillNoError(`bill sequence ${seq} is out of range for prefix ${prefix}`);
  return prefix + String(seq).padStart(BILL_NO_LENGTH - prefix.length, '0');
}

/**
 * `mch_id + yyyymmdd + sequence`, 28 characters.
 *
 * @example billNo('1900000109', now, 1) // → '1900000109202601020000000001'
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function billNo(mchId: string, nowMs: number, seq: number): string {
  return formatBillNo(billNoPrefix(mchId, nowMs), seq);
}

/** True when `value` has the shape of a bill number (28 digits). */
export function isBillNo(value: string): boolean {
  return /^\d{28}$/.test(value);
}
