/**
 * Invariant 1 (design.md): a follower's reward is granted at most once per (message, rule), however
 * often WeChat retries and however many instances run — on SQLite (threads of one process and several
 * processes sharing the file) and on PostgreSQL (several pools = several instances).
 */
import { Pool } from 'pg';
import { fixedClock } from '../../src/lib/clock';
import { silentLogger } from '../../src/lib/logger';
import type { Ledger } from '../../src/rewards/ledger';
import { createRewards, type GrantDetails } from '../../src/rewards/rewards';
import { PostgresLedger } from '../../src/store/postgres-ledger';
import { describeService } from '../store/service-probe';
import { DATABASE_URL, makeConfig, MCH_ID, pgSchemaPool, redCampaign, sqliteLedger, T0 } from '../rewards/helpers';
import { recordInProcesses } from './processes';
import { withLedgerRules } from '../../src/rewards/ledger-plans';
import { ledgerTagRules } from '../../src/rewards/bill-no';

const CAMPAIGNS = { welcome: redCampaign({ amount: { min: 1, max: 9 } }) };
const config = makeConfig(CAMPAIGNS);
const follow = { campaign: 'welcome', openId: 'oFollowerX00001', dedupeKey: 'evt:oFollowerX00001|1772416800|subscribe|', ruleId: 'follow', now: T0 };

function rewardsOn(ledger: Ledger) {
  return createRewards({ ledger, config: () => config, clock: fixedClock(T0), mchId: MCH_ID, log: silentLogger(), random: Math.random });
}

function expectOneGrant(answers: GrantDetails[]): void {
  expect(answers.every((a) => a.outcome === 'granted')).toBe(true);
  expect(new Set(answers.map((a) => a.billNo)).size).toBe(1);
  expect(new Set(answers.map((a) => a.amountFen)).size).toBe(1);
  expect(answers.filter((a) => a.duplicate === false)).toHaveLength(1);
}

describe('invariant: at most once per (message, rule)', () => {
  it('should grant once when the same follow is delivered 3 times at once (SQLite)', async () => {
    const s = sqliteLedger();
    const rewards = rewardsOn(s.ledger);
    const first = await Promise.all([1, 2, 3].map(() => rewards.grant(follow)));
    expectOneGrant(first);
    // A later retry, and a retry after a restart, answer the same.
    const later = [await rewards.grant({ ...follow, now: T0 + 4000 }), await rewardsOn(s.ledger).grant(follow)];
    expect(later).toEqual([
      expect.objectContaining({ outcome: 'granted', billNo: first[0].billNo, amountFen: first[0].amountFen, duplicate: true }),
      expect.objectContaining({ outcome: 'granted', billNo: first[0].billNo, amountFen: first[0].amountFen, duplicate: true }),
    ]);
    expect(await s.ledger.openCount()).toBe(1);
    await s.close();
  });

  it('should grant once per rule: two rules on one message are two grants, each at most once', async () => {
    const s = sqliteLedger();
    const rewards = createRewards({
      ledger: s.ledger,
      config: () => makeConfig({ a: redCampaign(), b: redCampaign() }),
      clock: fixedClock(T0),
      mchId: MCH_ID,
      log: silentLogger(),
    });
    const answers = await Promise.all(['a', 'b', 'a', 'b'].map((c) => rewards.grant({ ...follow, campaign: c, ruleId: `rule-${c}` })));
    expect(answers.map((a) => a.outcome)).toEqual(['granted', 'granted', 'granted', 'granted']);
    expect(new Set(answers.map((a) => a.billNo)).size).toBe(2);
    expect(await s.ledger.openCount()).toBe(2);
    await s.close();
  });

  it('should grant once when 3 processes receive the same follow at the same moment (one SQLite file)', async () => {
    const s = sqliteLedger(); // creates and migrates the file
    const perProcess = [1, 2, 3].map(() => [follow, follow]);
    const answers = (
      await recordInProcesses({ ledgerFile: s.file, config: { campaigns: { campaigns: CAMPAIGNS }, limits: {} }, now: T0, mchId: MCH_ID, perProcess })
    ).flat();
    expect(answers).toHaveLength(6);
    expectOneGrant(answers);
    expect((await s.ledger.listAll()).length).toBe(1);
    await s.close();
  }, 30_000);

  describeService('on PostgreSQL', [[DATABASE_URL, 5432]], () => {
    it('should grant once when 3 instances receive the same follow 3 times at once', async () => {
      const p = await pgSchemaPool();
      try {
        withLedgerRules(await PostgresLedger.create(p.pool, { tags: ledgerTagRules() }));
        const instances = await Promise.all(
          [1, 2, 3].map(async () => {
            const pool = new Pool({ connectionString: DATABASE_URL, max: 3, options: `-c search_path=${p.schema}` });
            return { pool, rewards: rewardsOn(withLedgerRules(await PostgresLedger.create(pool, { tags: ledgerTagRules() }))) };
          }),
        );
        const answers = await Promise.all(instances.flatMap((i) => [1, 2, 3].map(() => i.rewards.grant(follow))));
        expect(answers).toHaveLength(9);
        expectOneGrant(answers);
        const { rows } = await p.pool.query('SELECT COUNT(*)::int AS n FROM ledger_grants');
        expect(rows[0].n).toBe(1);
        for (const i of instances) await i.pool.end();
      } finally {
        await p.drop();
      }
    });
  });
});
