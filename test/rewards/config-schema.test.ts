import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkAmount } from '../../src/rewards/limits';
import { campaignsFileSchema, checkCampaignsAgainstLimits, defaultLimits, limitsFileSchema } from '../../src/rewards/config-schema';
import { loadRewardsConfig, parseRewardsConfig, RewardsConfigError } from '../../src/config/load-rewards-config';
import { redCampaign } from './helpers';

describe('limitsFileSchema', () => {
  it('should default to WeChat Pay’s published limits', () => {
    expect(defaultLimits()).toEqual({
      amount: { minFen: 100, maxFen: 20000, minWithSceneFen: 100, maxAmountWithSceneFen: 20000 },
      quietHours: { fromMinute: 0, toMinute: 480, mode: 'defer' },
      sendRatePerSecond: 30,
      sendRatePerMinute: null,
      sendRatePerDay: null,
      merchantDaily: { count: null, amountFen: 100_000_000 },
      followerDaily: { count: 10, amountFen: 100_000 },
    });
    expect(limitsFileSchema.parse(null)).toEqual(defaultLimits());
  });

  it('should read every setting, and quiet_hours: off', () => {
    const l = limitsFileSchema.parse({
      amount: { min: 0.5, max: 100 },
      quiet_hours: { from: '23:30', to: '07:00', mode: 'refuse' },
      send_rate_per_second: 5,
      send_rate_per_minute: 50,
      send_rate_per_day: 10_000,
      merchant_daily: { count: 100, amount: 50 },
      follower_daily: { count: 2, amount: 3.5 },
    });
    expect(l).toMatchObject({
      amount: { minFen: 50, maxFen: 10000 },
      quietHours: { fromMinute: 1410, toMinute: 420, mode: 'refuse' },
      sendRatePerSecond: 5,
      sendRatePerMinute: 50,
      sendRatePerDay: 10_000,
      merchantDaily: { count: 100, amountFen: 5000 },
      followerDaily: { count: 2, amountFen: 350 },
    });
    expect(limitsFileSchema.parse({ quiet_hours: 'off' }).quietHours).toBeNull();
  });

  it('should name the path of a bad value', () => {
    const r = limitsFileSchema.safeParse({ quiet_hours: { from: '25:00' }, follower_daily: { amount: 1.234 }, extra: 1 });
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['quiet_hours.from', 'follower_daily.amount']));
    expect(r.error!.issues.some((i) => i.code === 'unrecognized_keys')).toBe(true);
  });
});

describe('campaignsFileSchema', () => {
  it('should parse a campaign into fen and camelCase, with defaults', () => {
    const { campaigns } = campaignsFileSchema.parse({
      campaigns: { spring: redCampaign({ amount: { min: 1, max: 2.5 }, window: { from: '2026-01-01', hours: '08:00-22:00' } }) },
    });
    expect(campaigns.spring).toMatchObject({
      name: 'spring',
      kind: 'red_packet',
      type: 'normal',
      amount: { minFen: 100, maxFen: 250, random: true },
      totalNum: 1,
      budgetFen: 1_000_000,
      perUser: 1,
      window: { from: '2026-01-01', hours: { fromMinute: 480, toMinute: 1320 } },
      restoreBudgetOnRefund: false,
      notifyOnFailure: false,
      enabled: true,
    });
  });

  it('should accept an empty file as no campaigns', () => {
    expect(campaignsFileSchema.parse(null)).toEqual({ campaigns: {} });
    expect(campaignsFileSchema.parse({ campaigns: null })).toEqual({ campaigns: {} });
  });

  it.each([
    [{ amount: 1.999 }, 'amount'],
    [{ amount: 250 }, 'amount'],
    [{ amount: { min: 3, max: 2 } }, 'amount.min'],
    [{ type: 'fission', amount: 10, total_num: 2 }, 'total_num'],
    [{ total_num: 2 }, 'total_num'],
    [{ send_name: 'x'.repeat(33) }, 'send_name'],
    [{ wishing: 'x'.repeat(129) }, 'wishing'],
    [{ remark: 'x'.repeat(257) }, 'remark'],
    [{ scene_id: 'PRODUCT_9' }, 'scene_id'],
    [{ budget: 0.5 }, 'budget'],
    [{ window: { from: '2026-02-01', to: '2026-01-01' } }, 'window'],
    [{ quiet_hours: 'sometimes' }, 'quiet_hours'],
    [{ service_provider: { sub_mch_id: 'abc', msgappid: 'wx0000sandbox0000' } }, 'service_provider.sub_mch_id'],
    [{ surprise: true }, ''],
  ])('should reject %p at %s', (override, at) => {
    const r = campaignsFileSchema.safeParse({ campaigns: { c: redCampaign(override) } });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.slice(2).join('.'))).toContain(at);
  });

  it('should allow amounts outside 1–200 yuan only with a scene_id', () => {
    expect(campaignsFileSchema.safeParse({ campaigns: { c: redCampaign({ amount: 300, scene_id: 'PRODUCT_1', budget: 1000 }) } }).success).toBe(true);
    expect(campaignsFileSchema.safeParse({ campaigns: { c: redCampaign({ amount: 0.5 }) } }).success).toBe(false);
  });

  it('should keep kind a discriminated union (unknown kinds rejected at campaigns.NAME.kind)', () => {
    const r = campaignsFileSchema.safeParse({ campaigns: { c: { kind: 'lottery' } } });
    expect(r.error!.issues[0].path).toEqual(['campaigns', 'c', 'kind']);
  });

  it('should reject campaign names that are not identifiers', () => {
    const r = campaignsFileSchema.safeParse({ campaigns: { 'bad name!': redCampaign() } });
    expect(r.success).toBe(false);
  });
});

describe('checkCampaignsAgainstLimits', () => {
  it('should check per-packet amounts against the configured ranges', () => {
    const { campaigns } = campaignsFileSchema.parse({
      campaigns: {
        big: redCampaign({ amount: 300, scene_id: 'PRODUCT_1', budget: 1000 }),
        group: redCampaign({ type: 'fission', amount: 6, total_num: 3 }),
      },
    });
    const raised = limitsFileSchema.parse({ amount: { max_with_scene: 1000 } });
    expect(checkCampaignsAgainstLimits(campaigns, raised)).toEqual([]);
    const tight = limitsFileSchema.parse({ amount: { max_with_scene: 250, min: 2.5 } });
    expect(checkCampaignsAgainstLimits(campaigns, tight).map((i) => i.path.join('.'))).toEqual(['campaigns.big.amount', 'campaigns.group.amount']);
  });
});

describe('amount with scene_id', () => {
  const big = (amount: number) => campaignsFileSchema.parse({ campaigns: { big: redCampaign({ amount, scene_id: 'PRODUCT_1', budget: 10_000 }) } }).campaigns;

  it('should refuse above 200.00 yuan by default, even with scene_id (the merchant has not raised it)', () => {
    expect(checkCampaignsAgainstLimits(big(300), defaultLimits())).toEqual([
      { path: ['campaigns', 'big', 'amount'], message: 'must be within 1.00–200.00 yuan per packet (scene_id PRODUCT_1, limits.amount.*_with_scene)' },
    ]);
  });

  it('should take a raised amount.max_with_scene up to 4999.00 yuan, and the send-time check the same', () => {
    const raised = limitsFileSchema.parse({ amount: { max_with_scene: 1000 } });
    expect(checkCampaignsAgainstLimits(big(1000), raised)).toEqual([]);
    expect(checkCampaignsAgainstLimits(big(1000.01), raised)).toHaveLength(1);
    const campaign = { sceneId: 'PRODUCT_1' as const, totalNum: 1 };
    expect(checkAmount(100_000, campaign, raised)).toBeUndefined();
    expect(checkAmount(100_001, campaign, raised)).toMatchObject({ outcome: 'limit_reached' });
    expect(checkAmount(30_000, campaign, defaultLimits())).toMatchObject({ reason: 'amount 300.00 yuan is outside 1.00–200.00 yuan per packet' });
    expect(limitsFileSchema.safeParse({ amount: { max_with_scene: 4999 } }).success).toBe(true);
    const beyond = limitsFileSchema.safeParse({ amount: { max_with_scene: 5000 } });
    expect(beyond.success).toBe(false);
    expect(beyond.error!.issues).toEqual([expect.objectContaining({ path: ['amount', 'max_with_scene'], message: expect.stringContaining('at most 4999.00') })]);
    expect(limitsFileSchema.safeParse({ amount: { max: 300 } }).success).toBe(false);
  });
});

describe('parseRewardsConfig', () => {
  it('should report every problem with its file and path', () => {
    const error = (() => {
      try {
        parseRewardsConfig({ campaigns: 'campaigns:\n  c:\n    kind: red_packet\n    amount: 1.234\n', limits: 'send_rate_per_second: 0\n' });
      } catch (e) {
        return e;
      }
      return undefined;
    })() as RewardsConfigError;
    expect(error).toBeInstanceOf(RewardsConfigError);
    expect(error.problems.some((p) => p.file === 'campaigns.yaml' && p.path === 'campaigns.c.amount')).toBe(true);
    expect(error.problems.some((p) => p.file === 'limits.yaml' && p.path === 'send_rate_per_second')).toBe(true);
  });

  it('should report YAML syntax errors', () => {
    expect(() => parseRewardsConfig({ campaigns: 'campaigns: [\n' })).toThrow(RewardsConfigError);
  });
});

describe('loadRewardsConfig', () => {
  it('should load the sample config/ files, including the welcome-packet campaign', () => {
    const config = loadRewardsConfig(path.join(__dirname, '../../config'));
    expect(config.campaigns['welcome-packet']).toMatchObject({ kind: 'red_packet', name: 'welcome-packet' });
    expect(config.limits.sendRatePerSecond).toBe(30);
  });

  it('should default when the files are absent', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfg-'));
    expect(loadRewardsConfig(dir)).toEqual({ campaigns: {}, limits: defaultLimits() });
    fs.rmSync(dir, { recursive: true });
  });
});
