/**
 * PostgreSQL only (the other ledgers serialise every write): a worker whose lease just expired must not
 * mark its grant SENDING while another worker's claim of it is being committed. `markSending` reads the
 * outbox row; without a lock on it, that read sees the lease as it was before the concurrent claim and
 * both workers send the bill (the second without querying first).
 */
import type { PoolClient } from 'pg';
import type { Ledger } from '../../src/rewards/ledger';
import { withLedgerRules } from '../../src/rewards/ledger-plans';
import { ledgerTagRules } from '../../src/rewards/bill-no';
import { PostgresLedger } from '../../src/store/postgres-ledger';
import { describeService } from '../store/service-probe';
import { grantInput } from './ledger-contract';
import { DATABASE_URL, pgSchemaPool, T0 } from './helpers';

describeService('PostgresLedger.markSending under a concurrent claim', [[DATABASE_URL, 5432]], () => {
  let pg: Awaited<ReturnType<typeof pgSchemaPool>>;
  let ledger: Ledger;

  beforeAll(async () => {
    pg = await pgSchemaPool(4);
    ledger = withLedgerRules(await PostgresLedger.create(pg.pool, { tags: ledgerTagRules() }));
  });
  afterAll(async () => {
    await pg?.drop();
  });

  /** Resolves once some backend waits for a lock that `holder` (a backend pid) holds. */
  async function blockedBy(admin: PoolClient, holder: number): Promise<'blocked'> {
    for (let poll = 0; poll < 5000; poll++) {
      const { rows } = await admin.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [holder]);
      if (Number(rows[0].n) > 0) return 'blocked';
      await new Promise((r) => setTimeout(r, 2));
    }
    throw new Error('markSending never waited for the lock');
  }

  it('should wait for the claim being committed and then refuse: the lease is no longer this worker’s', async () => {
    const { grant } = await ledger.recordGrant(grantInput());
    expect(await ledger.claimDue({ owner: 'A', now: T0, leaseMs: 1000, limit: 1 })).toHaveLength(1);
    // Worker B claims the grant at T0 + 1000 (A's lease has just run out); its transaction is not committed yet.
    const b = await pg.pool.connect();
    const admin = await pg.pool.connect();
    try {
      const holder = (await b.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      await b.query('BEGIN');
      await b.query('UPDATE ledger_outbox SET lease_owner = $1, lease_until = $2 WHERE grant_id = $3', ['B', T0 + 61_000, grant.id]);
      // A, a moment late by its own clock, still believes in its lease.
      const marking = ledger.markSending(grant.id, { owner: 'A', now: T0 + 999 });
      const first = await Promise.race([marking.then((ok) => ({ markedBeforeTheClaimCommitted: ok })), blockedBy(admin, holder)]);
      expect(first).toBe('blocked');
      await b.query('COMMIT');
      expect(await marking).toBe(false);
      expect(await ledger.getGrant(grant.id)).toMatchObject({ status: 'PENDING', attempts: 0 });
      expect(await ledger.markSending(grant.id, { owner: 'B', now: T0 + 1000 })).toBe(true);
    } finally {
      b.release();
      admin.release();
    }
  });
});
