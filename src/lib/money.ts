/**
 * Money helpers: amounts are integer fen everywhere in the code; yuan appears only at the edges
 * (operator YAML and files, CLI output, follower-facing texts). These are the only conversions.
 *
 * @example
 * yuanToFen('1.88'); // → 188
 * fenToYuan(188);    // → "1.88"
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3 (total_amount is in fen)
 */

/** Converts yuan (number or numeric string, ≤ 2 decimals) to integer fen; undefined when not exact. */
export function yuanToFen(value: unknown): number | undefined {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return undefined;
    text = String(value);
    if (/e/i.test(text)) text = value.toFixed(6);
  } else if (typeof value === 'string') {
    text = value.trim();
  } else return undefined;
  const m = /^(\d+)(?:\.(\d{1,2})0*)?$/.exec(text);
  if (!m) return undefined;
  const fen = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  return Number.isSafeInteger(fen) ? fen : undefined;
}

/** Formats fen as yuan with 2 decimals (`188` → `"1.88"`). */
export function fenToYuan(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(Math.round(fen));
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}
