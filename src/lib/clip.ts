/**
 * Truncates a text stored in the ledger (`last_error`, `reason`, an operator's name) to `max`
 * characters, ending with `…` when cut; null and undefined stay null.
 *
 * @example clip('x'.repeat(600)) // → 499 × 'x' + '…'
 */
export function clip(text: string | undefined | null, max = 500): string | null {
  if (text === undefined || text === null) return null;
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
