/**
 * Ledger schema step 3 (operator actions, the reissue link) on a ledger that already holds grants:
 * SQLite and PostgreSQL upgrade in place, old rows read with no action, and can be cancelled or
 * reissued afterwards.
 */
import path from 'node:path';
import type { Ledger } from '../../src/rewards/ledger';
import { migratePg } from '../../src/store/pg-migrate';
import { PG_LEDGER_MIGRATIONS, PostgresLedger } from '../../src/store/postgres-ledger';
import { SQLITE_LEDGER_MIGRATIONS, SqliteLedger } from '../../src/store/sqlite-ledger';
import { migrate, openSqlite, schemaVersion } from '../../src/store/sqlite-migrate';
import { describeService } from '../store/service-probe';
import { grantInput } from './ledger-contract';
import { DATABASE_URL, pgSchemaPool, T0, tempDir } from './helpers';
import { withLedgerRules } from '../../src/rewards/ledger-plans';
import { ledgerTagRules } from '../../src/rewards/bill-no';

/** The columns of a ledger_grants row as schema version 2 had them. */
const V2_ROW = {
  dedupe_key: 'msg:old',
  rule_id: 'follow',
  kind: 'red_packet',
  campaign: 'c1',
  open_id: 'oOld000001',
  amount_fen: 100,
  bill_no: '1900000109202603021230000001',
  status: 'FAILED',
  outcome: 'granted',
  reason: 'NO_AUTH: risk',
  payload: '{}',
  reservations: '[]',
  created_at: T0,
  updated_at: T0,
  settled_at: T0,
};
const PENDING_ROW = { ...V2_ROW, dedupe_key: 'msg:old2', bill_no: '1900000109202603021230000002', status: 'PENDING', reason: null, settled_at: null };

async function expectUpgraded(ledger: Ledger): Promise<void> {
  expect(await ledger.findByBillNo(V2_ROW.bill_no)).toMatchObject({ status: 'FAILED', operatorAction: null, reissueOf: null, reissuedAs: null });
  const r = await ledger.reissue(V2_ROW.bill_no, {
    by: 'alice',
    reason: 'after upgrade',
    now: T0 + 1,
    grant: grantInput({ dedupeKey: `reissue:${V2_ROW.bill_no}`, now: T0 + 1 }),
  });
  expect(r).toMatchObject({ ok: true, original: { reissuedAs: expect.any(String), operatorAction: { action: 'reissued', by: 'alice' } } });
  expect(await ledger.cancel(PENDING_ROW.bill_no, { by: 'bob', reason: 'after upgrade', now: T0 + 2 })).toMatchObject({ ok: true, grant: { status: 'CANCELLED' } });
}

describe('SqliteLedger schema step 3', () => {
  it('should upgrade a version-2 ledger with grants in place', async () => {
    const tmp = tempDir('ledger-v2-');
    const db = openSqlite(path.join(tmp.dir, 'v2.sqlite'));
    try {
      migrate(db, 'ledger', SQLITE_LEDGER_MIGRATIONS.slice(0, 2));
      const insert = db.prepare(
        `INSERT INTO ledger_grants (dedupe_key, rule_id, kind, campaign, open_id, amount_fen, bill_no, status, outcome, reason, payload, reservations, created_at, updated_at, settled_at)
         VALUES (@dedupe_key, @rule_id, @kind, @campaign, @open_id, @amount_fen, @bill_no, @status, @outcome, @reason, @payload, @reservations, @created_at, @updated_at, @settled_at)`,
      );
      insert.run(V2_ROW);
      const id = Number(insert.run(PENDING_ROW).lastInsertRowid);
      db.prepare('INSERT INTO ledger_outbox (grant_id, campaign, due_at) VALUES (?, ?, ?)').run(id, 'c1', T0);
      const ledger = withLedgerRules(SqliteLedger.create(db, { tags: ledgerTagRules() }));
      expect(schemaVersion(db, 'ledger')).toBe(SQLITE_LEDGER_MIGRATIONS.length);
      await expectUpgraded(ledger);
    } finally {
      db.close();
      tmp.remove();
    }
  });
});

describeService('PostgresLedger schema step 3', [[DATABASE_URL, 5432]], () => {
  it('should upgrade a version-2 ledger with grants in place', async () => {
    const pg = await pgSchemaPool(4);
    try {
      await migratePg(pg.pool, 'ledger', PG_LEDGER_MIGRATIONS.slice(0, 2));
      const cols = Object.keys(V2_ROW);
      const insert = `INSERT INTO ledger_grants (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING id`;
      await pg.pool.query(insert, Object.values(V2_ROW));
      const { rows } = await pg.pool.query<{ id: string }>(insert, Object.values(PENDING_ROW));
      await pg.pool.query('INSERT INTO ledger_outbox (grant_id, campaign, due_at) VALUES ($1, $2, $3)', [rows[0].id, 'c1', T0]);
      await expectUpgraded(withLedgerRules(await PostgresLedger.create(pg.pool, { tags: ledgerTagRules() })));
    } finally {
      await pg.drop();
    }
  });
});
