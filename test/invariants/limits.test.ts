/**
 * Invariant 3 (design.md): local limits are checked before any call to WeChat Pay — amount range,
 * quiet hours (00:00–08:00 Beijing time), send rate, per-follower daily count and amount, merchant daily
 * total, campaign budget, once per follower per campaign — reserved atomically with the grant, so
 * concurrent requests can't overshoot any of them; a grant over a limit is recorded as refused with
 * its reason and never reaches Pay.
 */
import { Pool } from 'pg';
import { fixedClock } from '../../src/lib/clock';
import { silentLogger } from '../../src/lib/logger';
import type { RewardsConfig } from '../../src/rewards/config-schema';
import type { Ledger } from '../../src/rewards/ledger';
import { createOutboxWorker } from '../../src/rewards/outbox-worker';
import { createRewards } from '../../src/rewards/rewards';
import path from 'node:path';
import { MemoryCounterStore } from '../../src/store/memory';
import { SqliteStore } from '../../src/store/sqlite';
import { PostgresLedger } from '../../src/store/postgres-ledger';
import { describeService } from '../store/service-probe';
import { DATABASE_URL, makeConfig, MCH_ID, openIdOf, pgSchemaPool, redCampaign, sqliteLedger, startPayRig, T0, tempDir, type PayRig } from '../rewards/helpers';
import { recordInProcesses } from './processes';
import { withLedgerRules } from '../../src/rewards/ledger-plans';
import { ledgerTagRules } from '../../src/rewards/bill-no';

const at = (beijing: string) => Date.parse(`${beijing}+08:00`);

function rewardsOn(ledger: Ledger, config: RewardsConfig, now = T0) {
  const clock = fixedClock(now);
  return { clock, rewards: createRewards({ ledger, config: () => config, clock, mchId: MCH_ID, log: silentLogger() }) };
}

const budget50 = { promo: redCampaign({ amount: 2, budget: 100, max_packets: 1000 }) };

async function hundredAtOnce(ledger: Ledger): Promise<string[]> {
  const { rewards } = rewardsOn(ledger, makeConfig(budget50));
  const answers = await Promise.all(
    Array.from({ length: 100 }, (_, i) => rewards.grant({ campaign: 'promo', openId: openIdOf(i), dedupeKey: `m${i}`, ruleId: 'r', now: T0 })),
  );
  return answers.map((a) => a.outcome);
}

function expectExactly50(outcomes: string[]): void {
  expect(outcomes.filter((o) => o === 'granted')).toHaveLength(50);
  expect(outcomes.filter((o) => o === 'campaign_over')).toHaveLength(50);
}

describe('invariant: limits are reserved atomically and checked before Pay', () => {
  describe('budget under concurrency', () => {
    it('should grant exactly 50 of 100 concurrent grants against a budget of 50 packets (SQLite)', async () => {
      const s = sqliteLedger();
      expectExactly50(await hundredAtOnce(s.ledger));
      expect(await s.ledger.usage('budget:promo')).toEqual({ count: 50, amountFen: 10_000 });
      await s.close();
    });

    it('should grant exactly 50 when 4 processes share the SQLite file', async () => {
      const s = sqliteLedger();
      const perProcess = [0, 1, 2, 3].map((p) =>
        Array.from({ length: 25 }, (_, i) => ({ campaign: 'promo', openId: openIdOf(p * 25 + i), dedupeKey: `m${p * 25 + i}`, ruleId: 'r' })),
      );
      const answers = await recordInProcesses({ ledgerFile: s.file, config: { campaigns: { campaigns: budget50 }, limits: {} }, now: T0, mchId: MCH_ID, perProcess });
      expectExactly50(answers.flat().map((a) => a.outcome));
      expect(await s.ledger.usage('budget:promo')).toEqual({ count: 50, amountFen: 10_000 });
      expect(await s.ledger.openCount()).toBe(50);
      await s.close();
    }, 30_000);

    describeService('on PostgreSQL', [[DATABASE_URL, 5432]], () => {
      it('should grant exactly 50 of 100 concurrent grants from 4 instances', async () => {
        const p = await pgSchemaPool();
        try {
          withLedgerRules(await PostgresLedger.create(p.pool, { tags: ledgerTagRules() }));
          const pools = [1, 2, 3, 4].map(() => new Pool({ connectionString: DATABASE_URL, max: 5, options: `-c search_path=${p.schema}` }));
          const ledgers = await Promise.all(pools.map((pool) => PostgresLedger.create(pool, { tags: ledgerTagRules() }).then(withLedgerRules)));
          const config = makeConfig(budget50);
          const answers = await Promise.all(
            Array.from({ length: 100 }, (_, i) =>
              rewardsOn(ledgers[i % 4], config).rewards.grant({ campaign: 'promo', openId: openIdOf(i), dedupeKey: `m${i}`, ruleId: 'r', now: T0 }),
            ),
          );
          expectExactly50(answers.map((a) => a.outcome));
          expect(await ledgers[0].usage('budget:promo')).toEqual({ count: 50, amountFen: 10_000 });
          for (const pool of pools) await pool.end();
        } finally {
          await p.drop();
        }
      });
    });
  });

  describe('per follower and per day', () => {
    it('should allow one packet per follower per campaign, even under concurrency', async () => {
      const s = sqliteLedger();
      const { rewards } = rewardsOn(s.ledger, makeConfig({ once: redCampaign() }));
      const answers = await Promise.all(
        Array.from({ length: 5 }, (_, i) => rewards.grant({ campaign: 'once', openId: 'oSameFollower1', dedupeKey: `msg${i}`, ruleId: 'r', now: T0 })),
      );
      expect(answers.map((a) => a.outcome).sort()).toEqual(['already_claimed', 'already_claimed', 'already_claimed', 'already_claimed', 'granted']);
      await s.close();
    });

    it('should stop a follower at 10 packets a day across campaigns and allow more the next Beijing day', async () => {
      const s = sqliteLedger();
      const campaigns = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`c${i}`, redCampaign()]));
      const config = makeConfig(campaigns);
      const { rewards, clock } = rewardsOn(s.ledger, config, at('2026-03-02T23:00:00'));
      const today = await Promise.all(
        Array.from({ length: 11 }, (_, i) => rewards.grant({ campaign: `c${i}`, openId: 'oBusyFollower1', dedupeKey: `d1:${i}`, ruleId: 'r', now: clock.now() })),
      );
      expect(today.filter((a) => a.outcome === 'granted')).toHaveLength(10);
      const refused = today.find((a) => a.outcome === 'limit_reached')!;
      expect(refused.reason).toContain('follower daily limit');
      const tomorrow = await rewards.grant({ campaign: 'c11', openId: 'oBusyFollower1', dedupeKey: 'd2', ruleId: 'r', now: at('2026-03-03T09:00:00') });
      expect(tomorrow.outcome).toBe('granted');
      await s.close();
    });

    it('should stop a follower at 1,000 yuan a day and the merchant at its daily amount', async () => {
      const s = sqliteLedger();
      const config = makeConfig({ big: redCampaign({ amount: 200, per_user: 100 }) }, { merchant_daily: { amount: 1200 } });
      const { rewards } = rewardsOn(s.ledger, config);
      const one = await Promise.all(
        Array.from({ length: 6 }, (_, i) => rewards.grant({ campaign: 'big', openId: 'oRich00001', dedupeKey: `a${i}`, ruleId: 'r', now: T0 })),
      );
      expect(one.map((a) => a.outcome).sort()).toEqual(['granted', 'granted', 'granted', 'granted', 'granted', 'limit_reached']);
      const two = await Promise.all(
        Array.from({ length: 2 }, (_, i) => rewards.grant({ campaign: 'big', openId: 'oRich00002', dedupeKey: `b${i}`, ruleId: 'r', now: T0 })),
      );
      expect(two.map((a) => a.outcome).sort()).toEqual(['granted', 'limit_reached']);
      expect(two.find((a) => a.outcome === 'limit_reached')!.reason).toContain('merchant daily limit');
      await s.close();
    });
  });

  describe('before any call to Pay', () => {
    let pay: PayRig;
    beforeEach(async () => {
      pay = await startPayRig({ sandbox: { sendRate: 'unlimited' } }); // the bot's own limiter is under test, not WeChat's 30/s
    });
    afterEach(async () => {
      await pay.close();
    });

    it('should defer grants in quiet hours (00:00–08:00 Beijing time) and refuse them in refuse mode, without calling Pay', async () => {
      const s = sqliteLedger();
      const config = makeConfig({ defer: redCampaign(), refuse: redCampaign({ quiet_hours: 'refuse' }) });
      const { rewards, clock } = rewardsOn(s.ledger, config, at('2026-03-02T00:00:00'));
      const worker = createOutboxWorker({
        ledger: s.ledger,
        redpack: pay.redpack,
        counters: new MemoryCounterStore(clock),
        clock,
        log: silentLogger(),
        config: () => config,
      });
      const deferred = await rewards.grant({ campaign: 'defer', openId: openIdOf(1), dedupeKey: 'q1', ruleId: 'r', now: clock.now() });
      const refused = await rewards.grant({ campaign: 'refuse', openId: openIdOf(2), dedupeKey: 'q2', ruleId: 'r', now: clock.now() });
      expect(deferred).toMatchObject({ outcome: 'granted', status: 'DEFERRED', deferredUntil: at('2026-03-02T08:00:00') });
      expect(refused).toMatchObject({ outcome: 'outside_hours', status: 'REFUSED', reason: 'quiet hours 00:00–08:00 Beijing time' });
      for (const t of ['2026-03-02T00:00:00', '2026-03-02T04:00:00', '2026-03-02T07:59:59']) {
        clock.set(at(t));
        await worker.runOnce();
      }
      expect(pay.sandbox.calls).toHaveLength(0);
      clock.set(at('2026-03-02T08:00:00'));
      expect((await worker.runOnce()).sent).toBe(1);
      expect([...pay.sandbox.payments.values()].map((p) => p.openId)).toEqual([openIdOf(1)]);
      await s.close();
    });

    it('should record refused grants with their reason and never send them', async () => {
      const s = sqliteLedger();
      const config = makeConfig({ tiny: redCampaign({ budget: 1, max_packets: 1 }) });
      const { rewards, clock } = rewardsOn(s.ledger, config);
      const worker = createOutboxWorker({
        ledger: s.ledger,
        redpack: pay.redpack,
        counters: new MemoryCounterStore(clock),
        clock,
        log: silentLogger(),
        config: () => config,
      });
      await rewards.grant({ campaign: 'tiny', openId: openIdOf(1), dedupeKey: 'x1', ruleId: 'r', now: T0 });
      await rewards.grant({ campaign: 'tiny', openId: openIdOf(2), dedupeKey: 'x2', ruleId: 'r', now: T0 });
      await rewards.record({ campaign: 'tiny', openId: openIdOf(3), dedupeKey: 'x3', ruleId: 'r', now: T0, amountFen: 30_000 });
      await worker.runOnce();
      const refused = (await s.ledger.listAll()).filter((g) => g.status === 'REFUSED');
      expect(refused.map((g) => [g.openId, g.outcome, g.reason])).toEqual([
        [openIdOf(2), 'campaign_over', 'campaign budget (1.00 yuan) or packets (1) used up: 1 of 1 packet used'],
        [openIdOf(3), 'limit_reached', 'amount 300.00 yuan is outside 1.00–200.00 yuan per packet'],
      ]);
      expect(pay.sandbox.callsTo('sendredpack').map((c) => c.fields.re_openid)).toEqual([openIdOf(1)]);
      await s.close();
    });

    it('should say what was used and what the grant asked for when it would exceed the budget', async () => {
      const s = sqliteLedger();
      const config = makeConfig({ promo: redCampaign({ budget: 10, max_packets: 100 }) });
      const { rewards } = rewardsOn(s.ledger, config);
      await rewards.record({ campaign: 'promo', openId: openIdOf(1), dedupeKey: 'y1', ruleId: 'r', now: T0, amountFen: 875 });
      const r = await rewards.record({ campaign: 'promo', openId: openIdOf(2), dedupeKey: 'y2', ruleId: 'r', now: T0, amountFen: 200 });
      expect(r).toMatchObject({
        outcome: 'campaign_over',
        reason: "campaign budget (10.00 yuan) or packets (100) used up: 8.75 yuan and 1 packet used, this grant's 2.00 yuan would exceed 10.00 yuan",
      });
      await s.close();
    });

    /** 100 grants due now, and two workers sharing one CounterStore (as Redis is across processes). */
    async function hundredGrantsTwoWorkers(limits: Record<string, unknown>) {
      const s = sqliteLedger();
      const config = makeConfig({ promo: redCampaign() }, limits);
      const { rewards, clock } = rewardsOn(s.ledger, config);
      for (let i = 0; i < 100; i++) await rewards.grant({ campaign: 'promo', openId: openIdOf(i), dedupeKey: `r${i}`, ruleId: 'r', now: T0 });
      const counters = new MemoryCounterStore(clock);
      const workers = [1, 2].map((n) =>
        createOutboxWorker({ ledger: s.ledger, redpack: pay.redpack, counters, clock, log: silentLogger(), config: () => config, owner: `w${n}`, batchSize: 40 }),
      );
      return { s, clock, workers };
    }

    it('should cap sends at the configured rate per second, shared by every worker', async () => {
      const { s, clock, workers } = await hundredGrantsTwoWorkers({ send_rate_per_second: 30 });
      const perSecond: number[] = [];
      for (let second = 0; second < 5; second++) {
        const before = pay.sandbox.callsTo('sendredpack').length;
        const passes = await Promise.all([...workers, ...workers].map((w) => w.runOnce()));
        expect(passes.some((p) => p.rateLimited)).toBe(second < 3);
        perSecond.push(pay.sandbox.callsTo('sendredpack').length - before);
        clock.advance(1000);
      }
      expect(perSecond).toEqual([30, 30, 30, 10, 0]);
      expect(pay.sandbox.payments.size).toBe(100);
      await s.close();
    });

    it('should also cap sends per minute when send_rate_per_minute is set, shared by two workers on one CounterStore', async () => {
      const { s, clock, workers } = await hundredGrantsTwoWorkers({ send_rate_per_second: 30, send_rate_per_minute: 50 });
      const perSecond: number[] = [];
      for (let second = 0; second < 62; second++) {
        const before = pay.sandbox.callsTo('sendredpack').length;
        const passes = await Promise.all([...workers, ...workers].map((w) => w.runOnce()));
        if (second > 1 && second < 60) expect(passes.every((p) => p.rateLimited && p.rateWaitMs === (60 - second) * 1000)).toBe(true);
        perSecond.push(pay.sandbox.callsTo('sendredpack').length - before);
        clock.advance(1000);
      }
      expect(perSecond).toEqual([30, 20, ...Array<number>(58).fill(0), 30, 20]);
      expect(pay.sandbox.payments.size).toBe(100);
      await s.close();
    });

    it('should cap the merchant’s packets per Beijing day (send_rate_per_day) exactly across two instances counting in the store, and send the rest the next day', async () => {
      const s = sqliteLedger();
      const config = makeConfig({ promo: redCampaign() }, { send_rate_per_second: 30, send_rate_per_day: 70 });
      const { rewards, clock } = rewardsOn(s.ledger, config);
      for (let i = 0; i < 100; i++) await rewards.grant({ campaign: 'promo', openId: openIdOf(i), dedupeKey: `d${i}`, ruleId: 'r', now: T0 });
      // Two instances, each with its own connection to the shared store file (as two processes are).
      const tmp = tempDir('day-cap-');
      const stores = [1, 2].map(() => SqliteStore.open(path.join(tmp.dir, 'store.sqlite'), { clock }));
      const workers = stores.map((st, n) =>
        createOutboxWorker({
          ledger: s.ledger,
          redpack: pay.redpack,
          counters: st.counters,
          clock,
          log: silentLogger(),
          config: () => config,
          owner: `w${n}`,
          batchSize: 40,
        }),
      );
      const perSecond: number[] = [];
      for (let second = 0; second < 4; second++) {
        const before = pay.sandbox.callsTo('sendredpack').length;
        await Promise.all([...workers, ...workers].map((w) => w.runOnce()));
        perSecond.push(pay.sandbox.callsTo('sendredpack').length - before);
        clock.advance(1000);
      }
      expect(perSecond).toEqual([30, 30, 10, 0]);
      // Not dropped: the other 30 wait, PENDING, until 00:00 Beijing time.
      const waiting = await s.ledger.listByStatus(['PENDING']);
      expect(waiting).toHaveLength(30);
      expect(new Set(waiting.map((g) => g.nextAttemptAt))).toEqual(new Set([at('2026-03-03T00:00:00')]));
      expect(await stores[0]!.counters.get('rewards:send-day:20260302')).toBe(70);
      clock.set(at('2026-03-03T08:00:00')); // after the quiet hours of the next day
      await Promise.all([...workers, ...workers].map((w) => w.runOnce()));
      expect(pay.sandbox.payments.size).toBe(100);
      expect(pay.sandbox.callsTo('sendredpack')).toHaveLength(100); // each packet sent once
      for (const st of stores) await st.close();
      await s.close();
      tmp.remove();
    });
  });
});
