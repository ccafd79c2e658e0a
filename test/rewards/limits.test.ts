import { campaignsFileSchema, defaultLimits, limitsFileSchema, type RedPacketCampaign } from '../../src/rewards/config-schema';
import {
  checkAmount,
  checkCampaignWindow,
  inDailySpan,
  msToBeijingMidnight,
  planGrant,
  quietHoursEnd,
  rateKey,
  rateWindows,
  reservationsFor,
} from '../../src/rewards/limits';
import { redCampaign } from './helpers';

const at = (beijing: string) => Date.parse(`${beijing}+08:00`);

function campaign(overrides: Record<string, unknown> = {}): RedPacketCampaign {
  return campaignsFileSchema.parse({ campaigns: { c: redCampaign(overrides) } }).campaigns.c as RedPacketCampaign;
}

describe('inDailySpan', () => {
  it.each([
    ['2026-03-02T00:00:00', true],
    ['2026-03-02T07:59:59', true],
    ['2026-03-02T08:00:00', false],
    ['2026-03-02T23:59:59', false],
  ])('should place %s inside 00:00–08:00: %p', (t, inside) => {
    expect(inDailySpan(at(t), { fromMinute: 0, toMinute: 480 })).toBe(inside);
  });

  it('should wrap midnight when from > to', () => {
    const span = { fromMinute: 22 * 60, toMinute: 6 * 60 };
    expect([at('2026-03-02T23:00:00'), at('2026-03-02T05:00:00'), at('2026-03-02T12:00:00')].map((t) => inDailySpan(t, span))).toEqual([true, true, false]);
  });
});

describe('quietHoursEnd', () => {
  it('should give 08:00 Beijing time of the same day', () => {
    expect(quietHoursEnd(at('2026-03-02T01:30:00'), defaultLimits().quietHours)).toBe(at('2026-03-02T08:00:00'));
    expect(quietHoursEnd(at('2026-03-02T08:00:00'), defaultLimits().quietHours)).toBeUndefined();
  });

  it('should give the next day when quiet hours start before midnight', () => {
    const q = limitsFileSchema.parse({ quiet_hours: { from: '22:00', to: '07:00' } }).quietHours;
    expect(quietHoursEnd(at('2026-03-02T22:30:00'), q)).toBe(at('2026-03-03T07:00:00'));
    expect(quietHoursEnd(at('2026-03-02T06:00:00'), null)).toBeUndefined();
  });
});

describe('checkCampaignWindow', () => {
  const c = campaign({ window: { from: '2026-03-01', to: '2026-03-31', hours: '09:00-21:00' } });
  it.each([
    ['2026-02-28T12:00:00', 'outside_hours', 'campaign starts on 2026-03-01'],
    ['2026-04-01T12:00:00', 'campaign_over', 'campaign ended on 2026-03-31'],
    ['2026-03-15T08:59:00', 'outside_hours', 'campaign runs 09:00–21:00 Beijing time'],
  ])('should refuse at %s with %s', (t, outcome, reason) => {
    expect(checkCampaignWindow(c, at(t))).toEqual({ outcome, reason });
  });

  it('should accept inside the window, including its last day', () => {
    expect(checkCampaignWindow(c, at('2026-03-31T20:59:00'))).toBeUndefined();
    expect(checkCampaignWindow(campaign({ enabled: false }), at('2026-03-31T20:59:00'))?.outcome).toBe('campaign_over');
  });
});

describe('checkAmount', () => {
  it('should enforce 1.00–200.00 yuan without scene_id and the scene range with it', () => {
    const limits = defaultLimits();
    expect(checkAmount(100, campaign(), limits)).toBeUndefined();
    expect(checkAmount(20001, campaign(), limits)?.outcome).toBe('limit_reached');
    expect(checkAmount(99, campaign(), limits)?.reason).toBe('amount 0.99 yuan is outside 1.00–200.00 yuan per packet');
    expect(checkAmount(30000, campaign({ scene_id: 'PRODUCT_2' }), limits)?.outcome).toBe('limit_reached'); // not raised
    const raised = limitsFileSchema.parse({ amount: { max_with_scene: 300 } });
    expect(checkAmount(30000, campaign({ scene_id: 'PRODUCT_2' }), raised)).toBeUndefined();
    expect(checkAmount(30000, campaign(), raised)?.outcome).toBe('limit_reached');
  });

  it('should check a fission group per person', () => {
    const group = campaign({ type: 'fission', amount: 3, total_num: 3 });
    expect(checkAmount(300, group, defaultLimits())).toBeUndefined();
    expect(checkAmount(299, group, defaultLimits())?.outcome).toBe('limit_reached');
  });
});

describe('reservationsFor', () => {
  it('should reserve per follower, budget, follower day and merchant day, in that order', () => {
    const r = reservationsFor({ campaign: campaign({ budget: 50, max_packets: 40 }), limits: defaultLimits(), openId: 'oA', amountFen: 188, day: '20260302' });
    expect(r.map((x) => [x.kind, x.key, x.maxCount, x.maxAmountFen, x.outcome])).toEqual([
      ['per_user', 'per-user:c:oA', 1, null, 'already_claimed'],
      ['budget', 'budget:c', 40, 5000, 'campaign_over'],
      ['follower_daily', 'follower-day:20260302:oA', 10, 100000, 'limit_reached'],
      ['merchant_daily', 'merchant-day:20260302', null, 100000000, 'limit_reached'],
    ]);
    expect(r.every((x) => x.amountFen === 188 && x.count === 1)).toBe(true);
  });
});

describe('planGrant', () => {
  const base = { limits: defaultLimits(), openId: 'oA', amountFen: 100 };

  it('should plan an immediate send during the day', () => {
    const plan = planGrant({ ...base, campaign: campaign(), now: at('2026-03-02T10:00:00') });
    expect(plan).toMatchObject({ dueAt: at('2026-03-02T10:00:00'), deferred: false, day: '20260302' });
  });

  it('should defer to 08:00 in quiet hours (defer mode) and count it on that day', () => {
    const plan = planGrant({ ...base, campaign: campaign(), now: at('2026-03-02T03:00:00') });
    expect(plan).toMatchObject({ dueAt: at('2026-03-02T08:00:00'), deferred: true, day: '20260302' });
    expect(plan.refusal).toBeUndefined();
    if (!plan.refusal) expect(plan.note).toBe('deferred until 2026-03-02 08:00 (quiet hours 00:00–08:00)');
  });

  it('should refuse in quiet hours when the campaign or the limits say refuse', () => {
    expect(planGrant({ ...base, campaign: campaign({ quiet_hours: 'refuse' }), now: at('2026-03-02T03:00:00') }).refusal).toEqual({
      outcome: 'outside_hours',
      reason: 'quiet hours 00:00–08:00 Beijing time',
    });
    const limits = limitsFileSchema.parse({ quiet_hours: { mode: 'refuse' } });
    expect(planGrant({ ...base, limits, campaign: campaign(), now: at('2026-03-02T03:00:00') }).refusal?.outcome).toBe('outside_hours');
    expect(planGrant({ ...base, limits, campaign: campaign({ quiet_hours: 'defer' }), now: at('2026-03-02T03:00:00') }).refusal).toBeUndefined();
  });

  it('should refuse an amount out of range before anything else is reserved', () => {
    expect(planGrant({ ...base, amountFen: 50_000, campaign: campaign(), now: at('2026-03-02T10:00:00') }).refusal?.outcome).toBe('limit_reached');
  });
});

describe('rateKey', () => {
  it('should change every second', () => {
    expect(rateKey(1_000_999)).toBe(rateKey(1_000_000));
    expect(rateKey(1_001_000)).not.toBe(rateKey(1_000_999));
  });
});

describe('rateWindows: send_rate_per_day', () => {
  const at = (beijing: string) => Date.parse(`${beijing}+08:00`);

  it('should add a per-packet window keyed by the Beijing day, ending at the next Beijing midnight, last of all', () => {
    const now = at('2026-03-02T23:59:30');
    const w = rateWindows({ perSecond: 30, perMinute: 50, perDay: 10_000 }, now);
    expect(w.map((x) => x.limit)).toEqual([30, 50, 10_000]);
    expect(w[2]).toEqual({ key: 'rewards:send-day:20260302', limit: 10_000, ttlSeconds: 172_800, endsInMs: 30_000, perPacket: true });
    // 16:00 UTC is 00:00 Beijing: a new day and a new counter.
    expect(rateWindows({ perSecond: 30, perMinute: null, perDay: 5 }, at('2026-03-03T00:00:00'))[1]).toMatchObject({
      key: 'rewards:send-day:20260303',
      endsInMs: 86_400_000,
    });
  });

  it('should have no day window when unset', () => {
    expect(rateWindows({ perSecond: 30, perMinute: null, perDay: null }, 0)).toHaveLength(1);
    expect(msToBeijingMidnight(at('2026-03-02T10:00:00'))).toBe(14 * 3600 * 1000);
  });
});
