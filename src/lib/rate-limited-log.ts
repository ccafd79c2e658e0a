/**
 * A log line that may be written at most once per window per key, with how many were suppressed since
 * the last one, so a flood of the same setup error (a wrong WECHAT_TOKEN) tells the operator once a
 * minute, with a count, instead of once per request. No timer: the count of a window is reported with
 * the first line after it (the metrics counters have the running total).
 *
 * @example
 * const warn = rateLimitedWarn({ log, clock, windowMs: 60_000 });
 * warn('bad_signature', { reqId }, 'bad signature: check WECHAT_TOKEN');
 */
import { type Clock, systemClock } from './clock';
import type { Logger } from './logger';

export interface RateLimitedWarnOptions {
  log: Logger;
  clock?: Clock;
  /** Default 60 000 (one line per key per minute). */
  windowMs?: number;
}

export type RateLimitedWarn = (key: string, fields: Record<string, unknown>, msg: string) => void;

export function rateLimitedWarn(options: RateLimitedWarnOptions): RateLimitedWarn {
  const { log } = options;
  const clock = options.clock ?? systemClock;
  const windowMs = options.windowMs ?? 60_000;
  const windows = new Map<string, { startedAt: number; suppressed: number }>();
  return function warnRateLimited(key, fields, msg) {
    const now = clock.now();
    const w = windows.get(key);
    if (w && now - w.startedAt < windowMs) {
      w.suppressed++;
      return;
    }
    const suppressed = w?.suppressed ?? 0;
    windows.set(key, { startedAt: now, suppressed: 0 });
    log.warn(suppressed > 0 ? { ...fields, suppressed, windowSeconds: windowMs / 1000 } : fields, msg);
  };
}
