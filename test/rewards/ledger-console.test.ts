/**
 * Runs the console queries' contract (`ledger-console-contract.ts`) on every adapter, and checks on
 * the SQL ones that a failing history write fails its change with it (rolled back, the caller told):
 * it can never let a payment's state move unrecorded, nor silently.
 */
import path from 'node:path';
import { Pool } from 'pg';
import { SqliteLedger } from '../../src/store/sqlite-ledger';
import { PostgresLedger } from '../../src/store/postgres-ledger';
import { openSqlite } from '../../src/store/sqlite-migrate';
import { createMemoryLedger } from '../../src/store/memory-ledger';
import { withLedgerRules } from '../../src/rewards/ledger-plans';
import type { Ledger } from '../../src/rewards/ledger';
import { describeService } from '../store/service-probe';
import { grantInput } from './ledger-contract';
import { runLedgerConsoleContract, type FreshLedger } from './ledger-console-contract';
import { DATABASE_URL, pgSchemaPool, sqliteLedger, T0, tempDir } from './helpers';
import { ledgerTagRules } from '../../src/rewards/bill-no';

/**
 * The message a promise was rejected with, or `resolved: …`. (The driver's errors are not always
 * `instanceof Error` in jest's realm, which `rejects.toThrow` needs: it then says "did not throw".)
 */
async function failureOf(p: Promise<unknown>): Promise<string> {
  return p.then(
    (value) => `resolved: ${JSON.stringify(value)}`,
    (error: unknown) => String((error as { message?: unknown })?.message ?? error),
  );
}

runLedgerConsoleContract('createMemoryLedger', async () => ({ ledger: withLedgerRules(createMemoryLedger({ tags: ledgerTagRules() })), close: async () => undefined }));
runLedgerConsoleContract('SqliteLedger', async () => sqliteLedger());

let pg: { pool: Pool; drop(): Promise<void>; ledger: Ledger } | undefined;
/** One schema for the file, emptied before each test (the history too). */
const freshPg: FreshLedger = async () => {
  if (!pg) {
    const p = await pgSchemaPool(4);
    pg = { ...p, ledger: withLedgerRules(await PostgresLedger.create(p.pool, { tags: ledgerTagRules() })) };
  }
  await pg.pool.query('TRUNCATE ledger_outbox, ledger_grants, ledger_usage, ledger_bill_seq, ledger_campaign_pause, ledger_grant_events RESTART IDENTITY');
  return { ledger: pg.ledger, close: async () => undefined };
};

describeService('PostgresLedger', [[DATABASE_URL, 5432]], () => {
  afterAll(async () => pg?.drop());
  runLedgerConsoleContract('PostgresLedger', freshPg);

  it('should fail (and roll back) a settle whose history cannot be written', async () => {
    const { ledger } = await freshPg();
    const { grant } = await ledger.recordGrant(grantInput());
    await pg!.pool.query('ALTER TABLE ledger_grant_events RENAME TO ledger_grant_events_gone');
    try {
      expect(await failureOf(ledger.settle(grant.id, { status: 'SENT', now: T0 + 1 }))).toMatch(/ledger_grant_events/);
    } finally {
      await pg!.pool.query('ALTER TABLE ledger_grant_events_gone RENAME TO ledger_grant_events');
    }
    expect(await ledger.getGrant(grant.id)).toMatchObject({ status: 'PENDING', sentAt: null });
    expect(await ledger.openCount()).toBe(1);
  });
});

describe('SqliteLedger history writes', () => {
  it('should fail (and roll back) a settle, an attempt or a grant whose history cannot be written', async () => {
    const tmp = tempDir('ledger-history-');
    const db = openSqlite(path.join(tmp.dir, 'ledger.sqlite'));
    const ledger = withLedgerRules(SqliteLedger.create(db, { tags: ledgerTagRules() }));
    try {
      const { grant } = await ledger.recordGrant(grantInput());
      await ledger.claimDue({ owner: 'w1', now: T0, leaseMs: 60_000, limit: 1 });
      // On the ledger's own connection, so its statements see the trigger at once.
      db.exec("CREATE TRIGGER refuse_history BEFORE INSERT ON ledger_grant_events BEGIN SELECT RAISE(ABORT, 'history write refused'); END");
      expect(await failureOf(ledger.settle(grant.id, { status: 'SENT', now: T0 + 1 }))).toMatch(/history write refused/);
      expect(await failureOf(ledger.markSending(grant.id, { owner: 'w1', now: T0 + 1 }))).toMatch(/history write refused/);
      expect(await failureOf(ledger.recordGrant(grantInput()))).toMatch(/history write refused/);
      expect(await ledger.countGrants({})).toBe(1);
      expect(await ledger.getGrant(grant.id)).toMatchObject({ status: 'PENDING', attempts: 0, sentAt: null });
      expect(await ledger.openCount()).toBe(1);
    } finally {
      db.close();
      tmp.remove();
    }
  });
});
