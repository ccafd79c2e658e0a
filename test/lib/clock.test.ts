import {
  hhmm,
  isoDateOf,
  msToShanghaiMidnight,
  shanghaiCompactTime,
  shanghaiDateTimeText,
  shanghaiMinuteOfDay,
  shanghaiParts,
  shanghaiToEpoch,
} from '../../src/lib/clock';

const at = (beijing: string) => Date.parse(`${beijing}+08:00`);

describe('the Beijing-time helpers', () => {
  it('should read and write the Shanghai wall clock (UTC+8) across a UTC date change', () => {
    const t = at('2026-03-02T07:05:09'); // 2026-03-01 23:05:09 UTC
    expect(shanghaiParts(t)).toEqual({ year: 2026, month: 3, day: 2, hour: 7, minute: 5, second: 9, weekday: 1, ymd: '20260302', isoDate: '2026-03-02' });
    expect(shanghaiToEpoch(2026, 3, 2, 7, 5, 9)).toBe(t);
    expect(shanghaiToEpoch(2026, 2, 29)).toBe(at('2026-03-01T00:00:00')); // days roll over
  });

  it('should format dates and times the way templates, rules and Pay write them', () => {
    const t = at('2026-02-02T09:03:05') + 999;
    expect(shanghaiDateTimeText(t)).toBe('2026-02-02 09:03:05');
    expect(shanghaiCompactTime(t)).toBe('20260202090305');
    expect(isoDateOf(2026, 2, 2)).toBe('2026-02-02');
    expect([0, 5, 65, 23 * 60 + 59, 24 * 60].map(hhmm)).toEqual(['00:00', '00:05', '01:05', '23:59', '24:00']);
    expect(shanghaiMinuteOfDay(t)).toBe(9 * 60 + 3);
  });

  it('should count the milliseconds to the next Beijing midnight, a full day at midnight itself', () => {
    expect(msToShanghaiMidnight(at('2026-03-02T10:00:00'))).toBe(14 * 3600 * 1000);
    expect(msToShanghaiMidnight(at('2026-03-02T00:00:00'))).toBe(24 * 3600 * 1000);
    expect(msToShanghaiMidnight(at('2026-03-02T23:59:59') + 999)).toBe(1);
    expect(msToShanghaiMidnight(at('2026-12-31T16:00:00'))).toBe(8 * 3600 * 1000); // into the new year
  });
});
