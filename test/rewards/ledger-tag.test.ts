/**
 * The ledger's bill tag is drawn once, kept with the ledger, and read back by every later open, on
 * SQLite and PostgreSQL; a damaged tag stops the ledger from opening.
 */
import path from 'node:path';
import { billNoPrefix } from '../../src/rewards/bill-no';
import { PostgresLedger } from '../../src/store/postgres-ledger';
import { SqliteLedger } from '../../src/store/sqlite-ledger';
import { openSqlite } from '../../src/store/sqlite-migrate';
import { describeService } from '../store/service-probe';
import { grantInput } from './ledger-contract';
import { DATABASE_URL, MCH_ID, pgSchemaPool, T0, tempDir } from './helpers';

describe('SqliteLedger bill tag', () => {
  let tmp: ReturnType<typeof tempDir>;
  let file: string;
  beforeEach(() => {
    tmp = tempDir('ledger-tag-');
    file = path.join(tmp.dir, 'ledger.sqlite');
  });
  afterEach(() => tmp.remove());

  it('should keep its tag across restarts, and so keep numbering where it was', async () => {
    const first = SqliteLedger.create(openSqlite(file), { ownsDb: true });
    const a = await first.recordGrant(grantInput());
    await first.close();
    const again = SqliteLedger.create(openSqlite(file), { ownsDb: true });
    expect(again.billTag).toBe(first.billTag);
    const b = await again.recordGrant(grantInput());
    expect(b.grant.billNo).toBe(`${billNoPrefix(MCH_ID, T0)}${first.billTag}0000002`);
    expect(a.grant.billNo).toBe(`${billNoPrefix(MCH_ID, T0)}${first.billTag}0000001`);
    await again.close();
  });

  it('should number under the tag it finds in the ledger', async () => {
    const db = openSqlite(file);
    SqliteLedger.create(db);
    db.prepare("UPDATE ledger_meta SET value = '555' WHERE key = 'bill_tag'").run();
    const ledger = SqliteLedger.create(db, { ownsDb: true });
    expect(ledger.billTag).toBe('555');
    expect((await ledger.recordGrant(grantInput())).grant.billNo).toBe(`${billNoPrefix(MCH_ID, T0)}5550000001`);
    await ledger.close();
  });

  it('should refuse to open with a damaged tag, and draw a new one once the row is deleted', () => {
    const db = openSqlite(file);
    SqliteLedger.create(db);
    db.prepare("UPDATE ledger_meta SET value = '07' WHERE key = 'bill_tag'").run();
    expect(() => SqliteLedger.create(db)).toThrow(/bill_tag.*malformed: "07"/);
    db.prepare("DELETE FROM ledger_meta WHERE key = 'bill_tag'").run();
    expect(SqliteLedger.create(db).billTag).toMatch(/^[1-9]\d{2}$/);
    db.close();
  });
});

describeService('PostgresLedger bill tag', [[DATABASE_URL, 5432]], () => {
  it('should draw one tag per ledger database, shared by every instance that opens it', async () => {
    const { pool, drop } = await pgSchemaPool(4);
    try {
      const [a, b] = await Promise.all([PostgresLedger.create(pool), PostgresLedger.create(pool)]);
      expect(a.billTag).toMatch(/^[1-9]\d{2}$/);
      expect(b.billTag).toBe(a.billTag);
      const g = await a.recordGrant(grantInput());
      expect(g.grant.billNo).toBe(`${billNoPrefix(MCH_ID, T0)}${a.billTag}0000001`);
      await pool.query("UPDATE ledger_meta SET value = 'x' WHERE key = 'bill_tag'");
      await expect(PostgresLedger.create(pool)).rejects.toThrow(/bill_tag.*malformed/);
    } finally {
      await drop();
    }
  });
});
