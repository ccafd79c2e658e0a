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

/** A wall-clock date and time in Asia/Shanghai (month 1–12). */
export interface ShanghaiDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** {@link shanghaiParts}: the wall clock and the forms windows, limits and bill numbers use. */
export interface ShanghaiParts extends ShanghaiDateTime {
  /** 1 = Monday … 7 = Sunday */
  weekday: number;
  /** yyyymmdd */
  ymd: string;
  /** yyyy-mm-dd */
  isoDate: string;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** Wall-clock parts in Asia/Shanghai (UTC+8, no daylight saving), for windows and daily limits. */
export function shanghaiParts(ms: number): ShanghaiParts {
  const d = new Date(ms + SHANGHAI_OFFSET_MS);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth() + 1;
  const day = d.getUTCDate();
  const wd = d.getUTCDay();
  return {
    year,
    month,
    day,
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    weekday: wd === 0 ? 7 : wd,
    ymd: `${year}${pad2(month)}${pad2(day)}`,
    isoDate: isoDateOf(year, month, day),
  };
}

/** Epoch ms of a Shanghai wall-clock time (e.g. the next 08:00). */
export function shanghaiToEpoch(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): number {
  return Date.UTC(year, month - 1, day, hour, minute, second) - SHANGHAI_OFFSET_MS;
}

/** `yyyy-mm-dd` of a calendar date. */
export function isoDateOf(year: number, month: number, day: number): string {
  return `${year}-${pad2(month)}-${pad2(day)}`;
}

/** `yyyy-mm-dd HH:MM:SS`, Beijing time (template `{now}`, Pay's gethbinfo times). */
export function shanghaiDateTimeText(ms: number): string {
  const p = shanghaiParts(ms);
  return `${p.isoDate} ${pad2(p.hour)}:${pad2(p.minute)}:${pad2(p.second)}`;
}

/** `yyyyMMddHHmmss`, Beijing time (Pay's `send_time`, `time_end`). */
export function shanghaiCompactTime(ms: number): string {
  const p = shanghaiParts(ms);
  return `${p.ymd}${pad2(p.hour)}${pad2(p.minute)}${pad2(p.second)}`;
}

/** Minutes after Beijing midnight (0–1439) of an instant. */
export function shanghaiMinuteOfDay(ms: number): number {
  const p = shanghaiParts(ms);
  return p.hour * 60 + p.minute;
}

/** Milliseconds from `ms` to the next Beijing midnight (a full day at midnight itself). */
export function msToShanghaiMidnight(ms: number): number {
  const p = shanghaiParts(ms);
  return shanghaiToEpoch(p.year, p.month, p.day + 1) - ms;
}

/** `HH:MM` of a minute of the day (0–1440), as windows and quiet hours are written. */
export function hhmm(minuteOfDay: number): string {
  return `${pad2(Math.floor(minuteOfDay / 60))}:${pad2(minuteOfDay % 60)}`;
}

/**
 * A time as Beijing wall-clock text with the zone shown, for people (the console).
 *
 * @example beijingTime(Date.parse('2026-12-04T11:30:00Z')) // '2026-12-04 19:30 (UTC+8)'
 */
export function beijingTime(ms: number): string {
  const p = shanghaiParts(ms);
  return `${p.isoDate} ${pad2(p.hour)}:${pad2(p.minute)} (UTC+8)`;
}
