import { fixedClock } from '../../src/lib/clock';
import { silentLogger } from '../../src/lib/logger';
import type { RewardsConfig } from '../../src/rewards/config-schema';
import type { Ledger } from '../../src/rewards/ledger';
import { createRewards } from '../../src/rewards/rewards';
import { REWARD_KINDS } from '../../src/config/reward-kinds';
import { pickAmount } from '../../src/rewards/red-packet-kind';
import type { RewardsPort } from '../../src/rules/actions';
import { createMemoryLedger } from '../../src/store/memory-ledger';
import { makeConfig, MCH_ID, redCampaign, T0 } from './helpers';
import { withLedgerRules } from '../../src/rewards/ledger-plans';
import { ledgerTagRules } from '../../src/rewards/bill-no';

function setup(config: RewardsConfig, opts: { ledger?: Ledger; random?: () => number } = {}) {
  const ledger = opts.ledger ?? withLedgerRules(createMemoryLedger({ tags: ledgerTagRules() }));
  const clock = fixedClock(T0);
  const rewards = createRewards({ ledger, config: () => config, clock, mchId: MCH_ID, log: silentLogger(), random: opts.random, kinds: REWARD_KINDS });
  return { ledger, clock, rewards };
}

const req = (i: number | string, overrides: Record<string, unknown> = {}) => ({
  campaign: 'welcome',
  openId: `oUser${i}`,
  dedupeKey: `evt:${i}`,
  ruleId: 'follow',
  now: T0,
  ...overrides,
});

describe('createRewards', () => {
  it('should validate its dependencies', () => {
    const config = makeConfig({});
    expect(() =>
      createRewards({
        ledger: withLedgerRules(createMemoryLedger({ tags: ledgerTagRules() })),
        config: () => config,
        clock: fixedClock(0),
        mchId: 'abc',
        log: silentLogger(),
      }),
    ).toThrow(/mch_id/);
    expect(() => createRewards({ ledger: undefined as never, config: () => config, clock: fixedClock(0), mchId: MCH_ID, log: silentLogger() })).toThrow(/ledger/);
  });

  it('should implement the rules engine’s RewardsPort', () => {
    const port: RewardsPort = setup(makeConfig({})).rewards;
    expect(typeof port.grant).toBe('function');
  });
});

describe('grant', () => {
  it('should grant once and answer a retry of the same message with the same result', async () => {
    const { rewards, ledger } = setup(makeConfig({ welcome: redCampaign({ amount: 1.88 }) }));
    const first = await rewards.grant(req(1));
    expect(first).toMatchObject({ outcome: 'granted', amountFen: 188, status: 'PENDING', duplicate: false });
    expect(first.billNo).toBe(`190000010920260302${ledger.billTag}0000001`);
    const retry = await rewards.grant(req(1, { now: T0 + 3000 }));
    expect(retry).toMatchObject({ outcome: 'granted', amountFen: 188, billNo: first.billNo, duplicate: true });
    expect(await ledger.openCount()).toBe(1);
  });

  it('should answer already_claimed to another message from a follower who got the packet', async () => {
    const { rewards } = setup(makeConfig({ welcome: redCampaign() }));
    await rewards.grant(req(1));
    const other = await rewards.grant(req(1, { dedupeKey: 'evt:other' }));
    expect(other).toMatchObject({ outcome: 'already_claimed', reason: 'already received this campaign', amountFen: undefined });
  });

  it('should allow per_user grants per follower', async () => {
    const { rewards } = setup(makeConfig({ welcome: redCampaign({ per_user: 2 }) }));
    const outcomes = [];
    for (const k of ['a', 'b', 'c']) outcomes.push((await rewards.grant(req(1, { dedupeKey: k }))).outcome);
    expect(outcomes).toEqual(['granted', 'granted', 'already_claimed']);
  });

  it('should pick a random amount within [min, max] with the injected random and store it', async () => {
    const values = [0, 0.999999, 0.5];
    const { rewards, ledger } = setup(makeConfig({ welcome: redCampaign({ amount: { min: 1, max: 2 } }) }), { random: () => values.shift()! });
    const got = [];
    for (const i of [1, 2, 3]) got.push((await rewards.grant(req(i))).amountFen);
    expect(got).toEqual([100, 200, 150]);
    expect((await ledger.listAll()).map((g) => g.amountFen)).toEqual([100, 200, 150]);
    expect((await ledger.listAll())[0].payload).toMatchObject({ amountFen: 100, kind: 'normal', sendName: '沙盒商户', totalNum: 1 });
  });

  it('should answer campaign_over when the budget is spent, and record the refusal', async () => {
    const { rewards, ledger } = setup(makeConfig({ welcome: redCampaign({ amount: 1, budget: 2, max_packets: 100 }) }));
    const outcomes = [];
    for (const i of [1, 2, 3]) outcomes.push((await rewards.grant(req(i))).outcome);
    expect(outcomes).toEqual(['granted', 'granted', 'campaign_over']);
    expect((await ledger.summary()).map((r) => [r.status, r.count])).toEqual([
      ['PENDING', 2],
      ['REFUSED', 1],
    ]);
  });

  it('should defer in quiet hours and answer granted with the time', async () => {
    const { rewards } = setup(makeConfig({ welcome: redCampaign() }));
    const night = Date.parse('2026-03-02T02:00:00+08:00');
    const r = await rewards.grant(req(1, { now: night }));
    expect(r).toMatchObject({ outcome: 'granted', status: 'DEFERRED', deferredUntil: Date.parse('2026-03-02T08:00:00+08:00') });
    expect(r.reason).toContain('deferred until 2026-03-02 08:00');
  });

  it('should answer outside_hours in quiet hours in refuse mode', async () => {
    const { rewards } = setup(makeConfig({ welcome: redCampaign({ quiet_hours: 'refuse' }) }));
    const r = await rewards.grant(req(1, { now: Date.parse('2026-03-02T02:00:00+08:00') }));
    expect(r).toMatchObject({ outcome: 'outside_hours', status: 'REFUSED' });
  });

  it('should answer campaign_over while the campaign is paused, and grant again after resume', async () => {
    const { rewards } = setup(makeConfig({ welcome: redCampaign() }));
    await rewards.pause('welcome', 'operator says stop');
    expect(await rewards.grant(req(1))).toMatchObject({ outcome: 'campaign_over', reason: 'campaign paused: operator says stop' });
    expect(await rewards.resume('welcome')).toBe(true);
    expect((await rewards.grant(req(2))).outcome).toBe('granted');
  });

  it('should answer failed for an unknown campaign and for a bad request', async () => {
    const { rewards } = setup(makeConfig({}));
    expect(await rewards.grant(req(1, { campaign: 'nope' }))).toMatchObject({ outcome: 'failed', reason: 'no campaign named nope in campaigns.yaml' });
    expect((await rewards.grant(req(2, { openId: '' }))).outcome).toBe('failed');
    expect((await rewards.grant(req(3, { campaign: 'toString' }))).outcome).toBe('failed');
  });

  it('should answer failed, not throw, when the ledger is down', async () => {
    const ledger = withLedgerRules(createMemoryLedger({ tags: ledgerTagRules() }));
    ledger.recordGrant = async () => {
      throw new Error('disk full');
    };
    const { rewards } = setup(makeConfig({ welcome: redCampaign() }), { ledger });
    expect(await rewards.grant(req(1))).toEqual({ outcome: 'failed', reason: 'the ledger is unavailable' });
  });
});

describe('record', () => {
  it('should use an explicit amount and still check the amount range', async () => {
    const { rewards } = setup(makeConfig({ welcome: redCampaign() }));
    expect(await rewards.record({ ...req(1), amountFen: 520 })).toMatchObject({ outcome: 'granted', amountFen: 520 });
    expect((await rewards.record({ ...req(2), amountFen: 50_000 })).outcome).toBe('limit_reached');
  });
});

describe('pickAmount', () => {
  it('should stay within the range for any random value', () => {
    for (const r of [0, 0.3, 0.9999999, 1, -1, NaN]) {
      const v = pickAmount({ minFen: 100, maxFen: 200 }, () => r);
      expect(v).toBeGreaterThanOrEqual(100);
      expect(v).toBeLessThanOrEqual(200);
    }
  });
});

describe('grant: require_safe_mode', () => {
  const config = makeConfig({
    welcome: redCampaign({ require_safe_mode: true }),
    coupon: { kind: 'card', card: 'coffee-cash', max_cards: 5, require_safe_mode: true },
    open: redCampaign(),
  });

  it('should record a refusal with the reason for a message that arrived in plain mode, and pay nothing', async () => {
    const { rewards, ledger } = setup(config);
    const result = await rewards.grant(req(1, { via: 'plain' }));
    expect(result).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('require_safe_mode') });
    const rows = await ledger.listAll();
    expect(rows.map((g) => [g.status, g.outcome])).toEqual([['REFUSED', 'failed']]);
    expect(rows[0].reason).toMatch(/arrived in plain mode/);
    // A retry of the same plain message gets the same answer (the refusal is keyed like any grant).
    expect((await rewards.grant(req(1, { via: 'plain' }))).outcome).toBe('failed');
  });

  it('should refuse a card campaign alike', async () => {
    const { rewards } = setup(config);
    expect(await rewards.grant(req(2, { campaign: 'coupon', via: 'plain' }))).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('require_safe_mode') });
  });

  it.each([
    ['an encrypted message', 'encrypted'],
    ['a grant no message asked for (batch file, payment)', undefined],
  ])('should grant for %s', async (_what, via) => {
    const { rewards } = setup(config);
    expect((await rewards.grant(req(3, { via }))).outcome).toBe('granted');
  });

  it('should grant plain messages for a campaign without the setting', async () => {
    const { rewards } = setup(config);
    expect((await rewards.grant(req(4, { campaign: 'open', via: 'plain' }))).outcome).toBe('granted');
  });
});
