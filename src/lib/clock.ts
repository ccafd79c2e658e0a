/**
 * Injectable time, so limits, windows and expiry are testable without sleeping.
 *
 * @example const clock = fixedClock(Date.parse('2026-01-01T08:00:00+08:00')); clock.now();
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to. */
export interface ManualClock extends Clock {
  set(ms: number): void;
  advance(ms: number): void;
}

export function fixedClock(startMs: number): ManualClock {
  let t = startMs;
  return {
    now: () => t,
    set: (ms) => {
      t = ms;
    },
    advance: (ms) => {
      t += ms;
    },
  };
}

/** Epoch seconds of a clock. */
export function nowSeconds(clock: Clock): number {
  return Math.floor(clock.now() / 1000);
}

const SHANGHAI_OFFSET_MS = 8 * 3600 * 1000;

/** Wall-clock parts in Asia/Shanghai (UTC+8, no daylight saving), for windows and daily limits. */
export function shanghaiParts(ms: number): {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 1 = Monday … 7 = Sunday */
  weekday: number;
  /** yyyymmdd */
  ymd: string;
  /** yyyy-mm-dd */
  isoDate: string;
} {
  const d = new Date(ms + SHANGHAI_OFFSET_MS);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth() + 1;
  const day = d.getUTCDate();
  const pad = (n: number) => String(n).padStart(2, '0');
  const wd = d.getUTCDay();
  return {
    year,
    month,
    day,
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    weekday: wd === 0 ? 7 : wd,
    ymd: `${year}${pad(month)}${pad(day)}`,
    isoDate: `${year}-${pad(month)}-${pad(day)}`,
  };
}

/** Epoch ms of a Shanghai wall-clock time (e.g. the next 08:00). */
export function shanghaiToEpoch(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): number {
  return Date.UTC(year, month - 1, day, hour, minute, second) - SHANGHAI_OFFSET_MS;
}

/**
 * A time as Beijing wall-clock text with the zone shown, for people (the console).
 *
 * @example beijingTime(Date.parse('2026-12-04T11:30:00Z')) // '2026-12-04 19:30 (UTC+8)'
 */
export function beijingTime(ms: number): string {
  const p = shanghaiParts(ms);
  return `${p.isoDate} ${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')} (UTC+8)`;
}
