/**
 * Ledger schema step 5 (the grants' history, the search indexes) on a ledger that already holds
 * grants: SQLite and PostgreSQL upgrade in place; old grants read as before, with no history, are
 * found by the console's search, and get a history from their next change on. Step 6 (WeChat Pay's
 * raw return_code / result_code beside each answer): events written before read as they did.
 */
import path from 'node:path';
import type { Ledger } from '../../src/rewards/ledger';
import { withLedgerRules } from '../../src/rewards/ledger-plans';
import { migratePg, schemaVersionPg } from '../../src/store/pg-migrate';
import { PG_LEDGER_MIGRATIONS, PostgresLedger } from '../../src/store/postgres-ledger';
import { SQLITE_LEDGER_MIGRATIONS, SqliteLedger } from '../../src/store/sqlite-ledger';
import { migrate, openSqlite, schemaVersion } from '../../src/store/sqlite-migrate';
import { describeService } from '../store/service-probe';
import { DATABASE_URL, pgSchemaPool, T0, tempDir } from './helpers';
import { ledgerTagRules } from '../../src/rewards/bill-no';

/** A PENDING grant row as schema version 4 had it (with its outbox entry). */
const V4_ROW = {
  dedupe_key: 'msg:v4',
  rule_id: 'follow',
  kind: 'red_packet',
  campaign: 'c1',
  open_id: 'oOldFollower01',
  amount_fen: 288,
  bill_no: '1900000109202603021230000009',
  status: 'PENDING',
  outcome: 'granted',
  payload: '{}',
  reservations: '[]',
  created_at: T0,
  updated_at: T0,
};
const COLS = Object.keys(V4_ROW);

async function expectUpgraded(ledger: Ledger): Promise<void> {
  const old = (await ledger.findByBillNo(V4_ROW.bill_no))!;
  expect(old).toMatchObject({ status: 'PENDING', openId: 'oOldFollower01', amountFen: 288, operatorAction: null });
  expect(await ledger.grantEvents(old.id)).toEqual([]);
  expect((await ledger.findGrants({ openId: 'oOldFollower01' }, { limit: 10 })).map((g) => g.id)).toEqual([old.id]);
  expect(await ledger.countGrants({ createdFrom: T0, createdBefore: T0 + 1 })).toBe(1);
  expect(await ledger.settle(old.id, { status: 'SENT', now: T0 + 5, sendListId: 'L1' })).toBe(true);
  expect(await ledger.grantEvents(old.id)).toMatchObject([{ type: 'settled', status: 'SENT', detail: 'PENDING → SENT; send_listid L1' }]);
}

describe('SqliteLedger schema step 5', () => {
  it('should upgrade a version-4 ledger with grants in place', async () => {
    const tmp = tempDir('ledger-v4-');
    const db = openSqlite(path.join(tmp.dir, 'v4.sqlite'));
    try {
      migrate(db, 'ledger', SQLITE_LEDGER_MIGRATIONS.slice(0, 4));
      const id = db.prepare(`INSERT INTO ledger_grants (${COLS.join(', ')}) VALUES (${COLS.map((c) => `@${c}`).join(', ')})`).run(V4_ROW).lastInsertRowid;
      db.prepare('INSERT INTO ledger_outbox (grant_id, campaign, due_at) VALUES (?, ?, ?)').run(id, 'c1', T0);
      const ledger = withLedgerRules(SqliteLedger.create(db, { tags: ledgerTagRules() }));
      expect(schemaVersion(db, 'ledger')).toBe(6); // steps 5 and 6 (6: the answers' return_code / result_code)
      await expectUpgraded(ledger);
    } finally {
      db.close();
      tmp.remove();
    }
  });
});

describeService('PostgresLedger schema step 5', [[DATABASE_URL, 5432]], () => {
  it('should upgrade a version-4 ledger with grants in place', async () => {
    const pg = await pgSchemaPool(4);
    try {
      await migratePg(pg.pool, 'ledger', PG_LEDGER_MIGRATIONS.slice(0, 4));
      const { rows } = await pg.pool.query<{ id: string }>(
        `INSERT INTO ledger_grants (${COLS.join(', ')}) VALUES (${COLS.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING id`,
        Object.values(V4_ROW),
      );
      await pg.pool.query('INSERT INTO ledger_outbox (grant_id, campaign, due_at) VALUES ($1, $2, $3)', [rows[0]!.id, 'c1', T0]);
      const ledger = withLedgerRules(await PostgresLedger.create(pg.pool, { tags: ledgerTagRules() }));
      expect(await schemaVersionPg(pg.pool, 'ledger')).toBe(6); // steps 5 and 6
      await expectUpgraded(ledger);
    } finally {
      await pg.drop();
    }
  });
});

/** An `answered` event as schema version 5 wrote it (no wire codes). */
const V5_EVENT = ['answered', 'FAILED', null, 'sendredpack', 'failed', 'SENDNUM_LIMIT', '超过限制', null] as const;
const OLD_ANSWER = { call: 'sendredpack', outcome: 'failed', code: 'SENDNUM_LIMIT', message: '超过限制', detail: null };
const WIRE_ANSWER = { call: 'gethbinfo', outcome: 'found', code: null, message: null, detail: 'SENT', returnCode: 'SUCCESS', resultCode: 'SUCCESS' };

async function expectStep6(ledger: Ledger, grantId: number): Promise<void> {
  expect((await ledger.grantEvents(grantId))[0]!.answer).toEqual(OLD_ANSWER);
  expect(await ledger.settle(grantId, { status: 'SENT', now: T0 + 5, sendListId: 'L1', answer: WIRE_ANSWER })).toBe(true);
  expect((await ledger.grantEvents(grantId))[1]!.answer).toEqual(WIRE_ANSWER);
}

const EVENT_COLS = 'grant_id, at, type, status, detail, pay_call, pay_outcome, pay_code, pay_message, pay_detail';

describe('SqliteLedger schema step 6', () => {
  it("should keep a version-5 history as it was and store the answers' return_code / result_code from then on", async () => {
    const tmp = tempDir('ledger-v5-');
    const db = openSqlite(path.join(tmp.dir, 'v5.sqlite'));
    try {
      migrate(db, 'ledger', SQLITE_LEDGER_MIGRATIONS.slice(0, 5));
      const id = Number(db.prepare(`INSERT INTO ledger_grants (${COLS.join(', ')}) VALUES (${COLS.map((c) => `@${c}`).join(', ')})`).run(V4_ROW).lastInsertRowid);
      db.prepare('INSERT INTO ledger_outbox (grant_id, campaign, due_at) VALUES (?, ?, ?)').run(id, 'c1', T0);
      db.prepare(`INSERT INTO ledger_grant_events (${EVENT_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(id, T0, ...V5_EVENT);
      const ledger = withLedgerRules(SqliteLedger.create(db, { tags: ledgerTagRules() }));
      expect(schemaVersion(db, 'ledger')).toBe(6);
      await expectStep6(ledger, id);
    } finally {
      db.close();
      tmp.remove();
    }
  });
});

describeService('PostgresLedger schema step 6', [[DATABASE_URL, 5432]], () => {
  it("should keep a version-5 history as it was and store the answers' return_code / result_code from then on", async () => {
    const pg = await pgSchemaPool(4);
    try {
      await migratePg(pg.pool, 'ledger', PG_LEDGER_MIGRATIONS.slice(0, 5));
      const { rows } = await pg.pool.query<{ id: string }>(
        `INSERT INTO ledger_grants (${COLS.join(', ')}) VALUES (${COLS.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING id`,
        Object.values(V4_ROW),
      );
      const id = Number(rows[0]!.id);
      await pg.pool.query('INSERT INTO ledger_outbox (grant_id, campaign, due_at) VALUES ($1, $2, $3)', [id, 'c1', T0]);
      await pg.pool.query(`INSERT INTO ledger_grant_events (${EVENT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, [id, T0, ...V5_EVENT]);
      const ledger = withLedgerRules(await PostgresLedger.create(pg.pool, { tags: ledgerTagRules() }));
      expect(await schemaVersionPg(pg.pool, 'ledger')).toBe(6);
      await expectStep6(ledger, id);
    } finally {
      await pg.drop();
    }
  });
});
