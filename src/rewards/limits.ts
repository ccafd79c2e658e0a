/**
 * Local limits, checked before any call to WeChat Pay (design.md invariant 3). Everything here is pure:
 * `now` is injected and read in Beijing time (Asia/Shanghai, UTC+8, no DST).
 *
 * - window and switch of a campaign, quiet hours, amount range: decided here, before the ledger;
 * - budget, packets, once-per-follower, follower daily count/amount, merchant daily count/amount:
 *   turned into {@link Reservation}s that the ledger checks and adds in the grant's transaction, so
 *   concurrent grants can't overshoot them;
 * - the send rate (per second, and per minute / per Beijing day when set): enforced by the outbox
 *   worker with `CounterStore.incrementWithin` ({@link rateWindows}); a send over it waits.
 *
 * @example
 * const plan = planGrant({ campaign, limits, now, openId, amountFen: 188 });
 * if (plan.refusal) reply(plan.refusal.outcome);
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import { hhmm, msToShanghaiMidnight, shanghaiMinuteOfDay, shanghaiParts, shanghaiToEpoch } from '../lib/clock';
import { fenToYuan } from '../lib/money';
import { amountRangeFor, type DailySpan, type Limits, type RedPacketCampaign } from './config-schema';
import type { Reservation } from './ledger';
import type { GrantOutcome } from './rewards-port';

/** A refusal decided by a limit: the follower-facing outcome and a reason for the ledger. */
export interface LimitRefusal {
  outcome: Exclude<GrantOutcome, 'granted'>;
  reason: string;
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * Whether `now` falls in a daily span (`from > to` wraps midnight; `from == to` is never).
 *
 * @example inDailySpan(Date.parse('2026-01-01T07:59:00+08:00'), { fromMinute: 0, toMinute: 480 }) // → true
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function inDailySpan(now: number, span: DailySpan): boolean {
  const m = shanghaiMinuteOfDay(now);
  if (span.fromMinute === span.toMinute) return false;
  return span.fromMinute < span.toMinute ? m >= span.fromMinute && m < span.toMinute : m >= span.fromMinute || m < span.toMinute;
}

/**
 * When the quiet hours around `now` end (epoch ms), or undefined when `now` is outside them.
 *
 * @example quietHoursEnd(Date.parse('2026-01-01T01:00:00+08:00'), limits.quietHours) // → 2026-01-01T08:00+08:00
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function quietHoursEnd(now: number, quiet: Limits['quietHours']): number | undefined {
  if (!quiet || !inDailySpan(now, quiet)) return undefined;
  const m = shanghaiMinuteOfDay(now);
  const day = m < quiet.toMinute ? shanghaiParts(now) : shanghaiParts(now + DAY_MS);
  return shanghaiToEpoch(day.year, day.month, day.day, Math.floor(quiet.toMinute / 60), quiet.toMinute % 60);
}

/**
 * Refuses a grant of a campaign with `require_safe_mode` that a plain-mode message asked for. Plain
 * mode signs no body: anyone holding one signed URL from a log could have written this message (see
 * README, "What plain mode protects"). Recorded as refused (`failed`, with this reason) like any
 * other limit, so the ledger shows why; grants no message asked for (`via` absent) pass.
 *
 * @example safeModeRefusal({ name: 'welcome', requireSafeMode: true }, 'plain') // → { outcome: 'failed', reason: '…' }
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
 */
export function safeModeRefusal(campaign: { name: string; requireSafeMode: boolean }, via: 'encrypted' | 'plain' | undefined): LimitRefusal | undefined {
  if (!campaign.requireSafeMode || via !== 'plain') return undefined;
  return {
    outcome: 'failed',
    reason: `campaign ${campaign.name} grants only for encrypted (safe-mode) messages (require_safe_mode); this one arrived in plain mode`,
  };
}

/**
 * Refuses when the campaign is switched off, not started, over, or outside its daily hours.
 *
 * @example checkCampaignWindow(campaign, now) // → undefined | { outcome: 'outside_hours', reason }
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function checkCampaignWindow(campaign: Pick<RedPacketCampaign, 'enabled' | 'window'>, now: number): LimitRefusal | undefined {
  if (!campaign.enabled) return { outcome: 'campaign_over', reason: 'campaign is switched off (enabled: false)' };
  const w = campaign.window;
  if (!w) return undefined;
  const today = shanghaiParts(now).isoDate;
  if (w.from && today < w.from) return { outcome: 'outside_hours', reason: `campaign starts on ${w.from}` };
  if (w.to && today > w.to) return { outcome: 'campaign_over', reason: `campaign ended on ${w.to}` };
  if (w.hours && !inDailySpan(now, w.hours))
    return { outcome: 'outside_hours', reason: `campaign runs ${hhmm(w.hours.fromMinute)}–${hhmm(w.hours.toMinute)} Beijing time` };
  return undefined;
}

/**
 * Refuses a packet whose per-person amount is outside the allowed range (1.00–200.00 yuan by default;
 * the `*_with_scene` range when the campaign sets `scene_id`).
 *
 * @example checkAmount(20001, campaign, limits) // → { outcome: 'limit_reached', reason: 'amount …' }
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function checkAmount(amountFen: number, campaign: Pick<RedPacketCampaign, 'sceneId' | 'totalNum'>, limits: Limits): LimitRefusal | undefined {
  const { min, max } = amountRangeFor(campaign, limits);
  const n = campaign.totalNum;
  if (!Number.isSafeInteger(amountFen) || amountFen < min * n || amountFen > max * n)
    return {
      outcome: 'limit_reached',
      reason: `amount ${fenToYuan(amountFen)} yuan is outside ${fenToYuan(min)}–${fenToYuan(max)} yuan per packet`,
    };
  return undefined;
}

/**
 * The reservations of one grant, in the order their refusals take precedence: once-per-follower,
 * campaign budget and packets, follower daily count and amount, merchant daily count and amount.
 * `day` is the Beijing date (yyyymmdd) on which the packet will be sent.
 *
 * @example reservationsFor({ campaign, limits, openId, amountFen: 188, day: '20260102' })
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function reservationsFor(input: {
  campaign: Pick<RedPacketCampaign, 'name' | 'perUser' | 'budgetFen' | 'maxPackets'>;
  limits: Limits;
  openId: string;
  amountFen: number;
  day: string;
}): Reservation[] {
  const { campaign: c, limits, openId, amountFen, day } = input;
  return [
    {
      kind: 'per_user',
      key: `per-user:${c.name}:${openId}`,
      count: 1,
      amountFen,
      maxCount: c.perUser,
      maxAmountFen: null,
      outcome: 'already_claimed',
      reason: c.perUser === 1 ? 'already received this campaign' : `already received this campaign ${c.perUser} times`,
    },
    {
      kind: 'budget',
      key: `budget:${c.name}`,
      count: 1,
      amountFen,
      maxCount: c.maxPackets,
      maxAmountFen: c.budgetFen,
      outcome: 'campaign_over',
      reason: `campaign budget (${fenToYuan(c.budgetFen)} yuan) or packets (${c.maxPackets}) used up`,
    },
    {
      kind: 'follower_daily',
      key: `follower-day:${day}:${openId}`,
      count: 1,
      amountFen,
      maxCount: limits.followerDaily.count,
      maxAmountFen: limits.followerDaily.amountFen,
      outcome: 'limit_reached',
      reason: `follower daily limit (${limits.followerDaily.count} packets / ${fenToYuan(limits.followerDaily.amountFen)} yuan) reached`,
    },
    {
      kind: 'merchant_daily',
      key: `merchant-day:${day}`,
      count: 1,
      amountFen,
      maxCount: limits.merchantDaily.count,
      maxAmountFen: limits.merchantDaily.amountFen,
      outcome: 'limit_reached',
      reason: `merchant daily limit (${limits.merchantDaily.count ?? 'no count cap'} / ${fenToYuan(limits.merchantDaily.amountFen)} yuan) reached`,
    },
  ];
}

/** What {@link planGrant} decided. */
export type GrantPlan =
  | { refusal: LimitRefusal }
  | {
      refusal?: undefined;
      /** When the worker may send (now, or the end of quiet hours). */
      dueAt: number;
      deferred: boolean;
      /** Beijing date (yyyymmdd) of `dueAt`: the day the daily limits count it on. */
      day: string;
      reservations: Reservation[];
      note?: string;
    };

/**
 * Everything decided before the ledger for one red packet: window, amount, quiet hours (defer to
 * their end, or refuse, per the campaign or `limits.quiet_hours.mode`), then the reservations.
 *
 * @example planGrant({ campaign, limits, now, openId: 'o1', amountFen: 188 })
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function planGrant(input: { campaign: RedPacketCampaign; limits: Limits; now: number; openId: string; amountFen: number }): GrantPlan {
  const { campaign, limits, now } = input;
  const refusal = checkCampaignWindow(campaign, now) ?? checkAmount(input.amountFen, campaign, limits);
  if (refusal) return { refusal };
  let dueAt = now;
  let deferred = false;
  let note: string | undefined;
  const quietEnd = quietHoursEnd(now, limits.quietHours);
  if (quietEnd !== undefined && limits.quietHours) {
    const span = `${hhmm(limits.quietHours.fromMinute)}–${hhmm(limits.quietHours.toMinute)}`;
    if ((campaign.quietHours ?? limits.quietHours.mode) === 'refuse') return { refusal: { outcome: 'outside_hours', reason: `quiet hours ${span} Beijing time` } };
    dueAt = quietEnd;
    deferred = true;
    note = `deferred until ${shanghaiParts(quietEnd).isoDate} ${hhmm(limits.quietHours.toMinute)} (quiet hours ${span})`;
  }
  const day = shanghaiParts(dueAt).ymd;
  return { dueAt, deferred, day, note, reservations: reservationsFor({ ...input, day }) };
}

/**
 * The counter key of the shared per-second send rate (one counter per wall-clock second, shared by
 * every worker through `CounterStore.incrementWithin`).
 *
 * @example await counters.incrementWithin(rateKey(now), 1, limits.sendRatePerSecond, 2)
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function rateKey(now: number): string {
  return `rewards:send-rate:${Math.floor(now / 1000)}`;
}

/**
 * The counter key of the shared per-minute send rate (one counter per wall-clock minute).
 *
 * @example await counters.incrementWithin(rateKeyPerMinute(now), 1, 50, 120)
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function rateKeyPerMinute(now: number): string {
  return `rewards:send-rate-min:${Math.floor(now / 60_000)}`;
}

/**
 * The counter key of the merchant's red packets sent in one Beijing day (`send_rate_per_day`).
 *
 * @example rateKeyPerDay(Date.parse('2026-03-02T10:00:00+08:00')) // → 'rewards:send-day:20260302'
 * @see https://pay.weixin.qq.com/doc/v2/merchant/4011974053
 */
export function rateKeyPerDay(now: number): string {
  return `rewards:send-day:${shanghaiParts(now).ymd}`;
}

/** Milliseconds from `now` to the next Beijing midnight (UTC+8, no DST). */
export const msToBeijingMidnight = msToShanghaiMidnight;

/** One fixed window of the shared send rate: its counter, cap, and when it ends. */
export interface RateWindow {
  key: string;
  limit: number;
  /** How long the counter must outlive its window (seconds). */
  ttlSeconds: number;
  /** Milliseconds from `now` until the window ends and a new counter starts. */
  endsInMs: number;
  /**
   * Counts packets, not calls: a bill number is counted on its first send only (a resend with the
   * same bill after an unknown outcome is the same packet to WeChat Pay). The per-day window.
   */
  perPacket?: boolean;
}

/**
 * The send-rate windows in force at `now`, per second first, then per minute; a rate that is
 * `Infinity` (or a per-minute rate that is unset) has no window. Every worker counts in the same
 * counters, so the caps hold across processes.
 *
 * @example rateWindows({ perSecond: 30, perMinute: 50 }, now) // → [{ key: 'rewards:send-rate:…', limit: 30, … }, { …, limit: 50 }]
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function rateWindows(rates: { perSecond: number; perMinute: number | null; perDay?: number | null }, now: number): RateWindow[] {
  const windows: RateWindow[] = [];
  if (Number.isFinite(rates.perSecond)) windows.push({ key: rateKey(now), limit: rates.perSecond, ttlSeconds: 2, endsInMs: 1000 - (now % 1000) });
  if (rates.perMinute !== null && Number.isFinite(rates.perMinute))
    windows.push({ key: rateKeyPerMinute(now), limit: rates.perMinute, ttlSeconds: 120, endsInMs: 60_000 - (now % 60_000) });
  // Last, so a refusal by a shorter window never spends a day's slot.
  if (rates.perDay !== undefined && rates.perDay !== null && Number.isFinite(rates.perDay))
    windows.push({ key: rateKeyPerDay(now), limit: rates.perDay, ttlSeconds: 2 * 24 * 3600, endsInMs: msToBeijingMidnight(now), perPacket: true });
  return windows;
}

/**
 * The shared send-rate windows of `limits.yaml` at `now`; `ratePerSecond` (the worker's option)
 * overrides `send_rate_per_second`, and `Infinity` there lifts every window (tests, bench).
 *
 * @example sendWindows(limits, undefined, now) // the per-second window, then per minute and per day when set
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function sendWindows(
  limits: Pick<Limits, 'sendRatePerSecond' | 'sendRatePerMinute' | 'sendRatePerDay'>,
  ratePerSecond: number | undefined,
  now: number,
): RateWindow[] {
  const perSecond = ratePerSecond ?? limits.sendRatePerSecond;
  const lifted = !Number.isFinite(perSecond);
  return rateWindows({ perSecond, perMinute: lifted ? null : limits.sendRatePerMinute, perDay: lifted ? null : limits.sendRatePerDay }, now);
}

/**
 * What the send-rate settings mean, in one line for `check-config`.
 *
 * @example describeSendRates(defaultLimits()) // → 'red-packet sends: at most 30 a second (shared by every worker); …'
 * @see https://pay.weixin.qq.com/doc/v2/merchant/4011974053
 */
export function describeSendRates(limits: Pick<Limits, 'sendRatePerSecond' | 'sendRatePerMinute' | 'sendRatePerDay'>): string {
  const caps = [`${limits.sendRatePerSecond} a second`];
  caps.push(limits.sendRatePerMinute === null ? 'no cap per minute (send_rate_per_minute unset)' : `${limits.sendRatePerMinute} a minute`);
  caps.push(limits.sendRatePerDay === null ? 'no cap per Beijing day (send_rate_per_day unset)' : `${limits.sendRatePerDay} per Beijing day`);
  return (
    `red-packet sends: at most ${caps.join(', ')} — counted in the shared store across every worker; ` +
    'a packet over a cap waits for the next second, minute or day, and is never dropped or sent twice'
  );
}
