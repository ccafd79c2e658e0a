/**
 * "Did you mean …?": the allowed name nearest to a near miss, by Levenshtein distance. Used by the
 * config checks (unknown keys, enum values, campaign and template names) and by the CLI (campaign
 * names), so every operator typo gets the same suggestion.
 *
 * @example closestName('welcom-packet', ['welcome-packet', 'spring']) // 'welcome-packet'
 * @see https://en.wikipedia.org/wiki/Levenshtein_distance
 */

/**
 * The name within edit distance ≤ max(2, a third of its length) of `word` (case ignored), nearest
 * first; undefined if none, or if `word` is itself one of the names.
 *
 * @example closestName('subscrib', ['subscribe', 'SCAN']) // 'subscribe'
 * @see https://en.wikipedia.org/wiki/Levenshtein_distance
 */
export function closestName(word: string, names: readonly string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const n of names) {
    if (n === word) return undefined;
    const d = editDistance(word.toLowerCase(), n.toLowerCase());
    if (d <= Math.max(2, Math.floor(n.length / 3)) && (!best || d < best.d)) best = { name: n, d };
  }
  return best?.name;
}

/**
 * ` — did you mean "x"?` for a near miss, or an empty string.
 *
 * @example `unknown key "evnt"${didYouMean('evnt', ['event', 'eventKey'])}` // 'unknown key "evnt" — did you mean "event"?'
 * @see https://en.wikipedia.org/wiki/Levenshtein_distance
 */
export function didYouMean(word: string, names: readonly string[]): string {
  const near = closestName(word, names);
  return near === undefined ? '' : ` — did you mean "${near}"?`;
}

/** Levenshtein distance, O(a·b) time and O(b) memory (names are short). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}
