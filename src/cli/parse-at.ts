/** `--at TIME` of the operator commands (rules explain, spend explain): a Beijing wall-clock time. */
import { shanghaiToEpoch } from '../lib/clock';

const AT_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/;

/** Parses `--at` (Beijing wall clock, `2026-02-01 09:30`) to epoch ms. */
export function parseAt(s: string): number {
  const m = AT_RE.exec(s.trim());
  if (!m) throw new Error(`--at "${s}" must be a Beijing time like "2026-02-01 09:30"`);
  return shanghaiToEpoch(+m[1], +m[2], +m[3], m[4] ? +m[4] : 0, m[5] ? +m[5] : 0, m[6] ? +m[6] : 0);
}
