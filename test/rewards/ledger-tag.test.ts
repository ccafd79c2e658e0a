/**
 * The ledger's bill tag is drawn once (or set with BOT_BILLNO_TAG), kept with the ledger, and read
 * back by every later open, on SQLite and PostgreSQL; a damaged tag, a BOT_BILLNO_TAG other than the
 * ledger's, or (PostgreSQL) another schema's ledger with the same tag stops the ledger from opening.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Pool } from 'pg';
import { createBot } from '../../src/bot/create-bot';
import { loadSettings, SettingsError } from '../../src/config/settings';
import { silentLogger } from '../../src/lib/logger';
import { billNoPrefix, ledgerTagRules } from '../../src/rewards/bill-no';
import { createMemoryLedger } from '../../src/store/memory-ledger';
import { openDurableStores } from '../../src/store/open-stores';
import { PostgresLedger } from '../../src/store/postgres-ledger';
import { SqliteLedger } from '../../src/store/sqlite-ledger';
import { openSqlite } from '../../src/store/sqlite-migrate';
import { describeService } from '../store/service-probe';
import { grantInput } from './ledger-contract';
import { DATABASE_URL, MCH_ID, pgSchemaPool, T0, tempDir } from './helpers';
import { withLedgerRules } from '../../src/rewards/ledger-plans';

/** A ledger file in a temp folder of its own for each test of the calling describe. */
function tempLedgerFile(): { file: string } {
  const at = { file: '' };
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir('ledger-tag-');
    at.file = path.join(tmp.dir, 'ledger.sqlite');
  });
  afterEach(() => tmp.remove());
  return at;
}

describe('SqliteLedger bill tag', () => {
  const at = tempLedgerFile();

  it('should keep its tag across restarts, and so keep numbering where it was', async () => {
    const first = withLedgerRules(SqliteLedger.create(openSqlite(at.file), { ownsDb: true, tags: ledgerTagRules() }));
    const a = await first.recordGrant(grantInput());
    await first.close();
    const again = withLedgerRules(SqliteLedger.create(openSqlite(at.file), { ownsDb: true, tags: ledgerTagRules() }));
    expect(again.billTag).toBe(first.billTag);
    const b = await again.recordGrant(grantInput());
    expect(b.grant.billNo).toBe(`${billNoPrefix(MCH_ID, T0)}${first.billTag}0000002`);
    expect(a.grant.billNo).toBe(`${billNoPrefix(MCH_ID, T0)}${first.billTag}0000001`);
    await again.close();
  });

  it('should number under the tag it finds in the ledger', async () => {
    const db = openSqlite(at.file);
    SqliteLedger.create(db, { tags: ledgerTagRules() });
    db.prepare("UPDATE ledger_meta SET value = '555' WHERE key = 'bill_tag'").run();
    const ledger = withLedgerRules(SqliteLedger.create(db, { ownsDb: true, tags: ledgerTagRules() }));
    expect(ledger.billTag).toBe('555');
    expect((await ledger.recordGrant(grantInput())).grant.billNo).toBe(`${billNoPrefix(MCH_ID, T0)}5550000001`);
    await ledger.close();
  });

  it('should refuse to open with a damaged tag, and draw a new one once the row is deleted', () => {
    const db = openSqlite(at.file);
    SqliteLedger.create(db, { tags: ledgerTagRules() });
    db.prepare("UPDATE ledger_meta SET value = '07' WHERE key = 'bill_tag'").run();
    expect(() => SqliteLedger.create(db, { tags: ledgerTagRules() })).toThrow(/bill_tag.*malformed: "07"/);
    db.prepare("DELETE FROM ledger_meta WHERE key = 'bill_tag'").run();
    expect(SqliteLedger.create(db, { tags: ledgerTagRules() }).billTag).toMatch(/^[1-9]\d{2}$/);
    db.close();
  });
});

describe('BOT_BILLNO_TAG (billTag option)', () => {
  const at = tempLedgerFile();

  it('should give a fresh SQLite ledger the tag asked for, and number its bills with it', async () => {
    const { ledger, close } = await openDurableStores({ sqlitePath: at.file, billNoTag: '901' });
    expect(ledger.billTag).toBe('901');
    expect((await ledger.recordGrant(grantInput())).grant.billNo).toBe(`${billNoPrefix(MCH_ID, T0)}9010000001`);
    await close();
    const again = await openDurableStores({ sqlitePath: at.file, billNoTag: '901' });
    expect((await again.ledger.recordGrant(grantInput({ dedupeKey: 'evt:2' }))).grant.billNo).toBe(`${billNoPrefix(MCH_ID, T0)}9010000002`);
    await again.close();
  });

  it('should refuse to open a ledger whose tag is another, naming both, and leave its bills as they are', async () => {
    const first = withLedgerRules(SqliteLedger.create(openSqlite(at.file), { ownsDb: true, tags: ledgerTagRules('417') }));
    const recorded = (await first.recordGrant(grantInput())).grant.billNo;
    await first.close();
    await expect(openDurableStores({ sqlitePath: at.file, billNoTag: '555' })).rejects.toThrow(
      /BOT_BILLNO_TAG is 555 but this ledger numbers its bills with tag 417.*refusing to open/,
    );
    const kept = await openDurableStores({ sqlitePath: at.file });
    expect(kept.ledger.billTag).toBe('417');
    expect((await kept.ledger.findByBillNo(recorded!))?.billNo).toBe(`${billNoPrefix(MCH_ID, T0)}4170000001`);
    await kept.close();
  });

  it('should move to a new tag only when the operator changes the row, without renumbering recorded grants', async () => {
    const db = openSqlite(at.file);
    const old = withLedgerRules(SqliteLedger.create(db, { tags: ledgerTagRules('417') }));
    const a = (await old.recordGrant(grantInput())).grant;
    db.prepare("UPDATE ledger_meta SET value = '555' WHERE key = 'bill_tag'").run();
    const moved = withLedgerRules(SqliteLedger.create(db, { ownsDb: true, tags: ledgerTagRules('555') }));
    const b = (await moved.recordGrant(grantInput({ dedupeKey: 'evt:2' }))).grant;
    expect((await moved.getGrant(a.id))!.billNo).toBe(`${billNoPrefix(MCH_ID, T0)}4170000001`);
    expect(b.billNo).toBe(`${billNoPrefix(MCH_ID, T0)}5550000001`);
    await moved.close();
  });

  it.each(['055', '1000', '12', 'abc'])('should refuse a malformed tag %s before touching the ledger', async (tag) => {
    expect(() => createMemoryLedger({ tags: ledgerTagRules(tag) })).toThrow(/100–999/);
    await expect(openDurableStores({ sqlitePath: at.file, billNoTag: tag })).rejects.toThrow(/BOT_BILLNO_TAG.*100–999/);
  });

  it('should give the memory ledger the tag asked for', () => {
    expect(createMemoryLedger({ tags: ledgerTagRules('123') }).billTag).toBe('123');
  });
});

describe('BOT_BILLNO_TAG (setting)', () => {
  it('should read a 3-digit tag into settings.store.billNoTag, and leave it unset by default', () => {
    expect(loadSettings({ BOT_BILLNO_TAG: '901' }, '/srv/bot').store.billNoTag).toBe('901');
    expect(loadSettings({}, '/srv/bot').store.billNoTag).toBeUndefined();
  });

  it.each(['055', '1000', '9', 'x12'])('should refuse %s with a SettingsError naming BOT_BILLNO_TAG', (tag) => {
    expect(() => loadSettings({ BOT_BILLNO_TAG: tag }, '/srv/bot')).toThrow(SettingsError);
    expect(() => loadSettings({ BOT_BILLNO_TAG: tag }, '/srv/bot')).toThrow(/BOT_BILLNO_TAG.*100–999 \(no leading zero\)/);
  });

  it("should open the bot's ledger with it, and refuse to start on a ledger with another tag", async () => {
    const tmp = tempDir('ledger-tag-bot-');
    const root = path.resolve(__dirname, '../..');
    fs.cpSync(path.join(root, 'config'), path.join(tmp.dir, 'config'), { recursive: true });
    const env = { BOT_DATA_DIR: path.join(tmp.dir, 'data'), BOT_CONFIG_DIR: path.join(tmp.dir, 'config'), BOT_VIEWS_DIR: path.join(root, 'views') };
    try {
      const bot = await createBot({ settings: loadSettings({ ...env, BOT_BILLNO_TAG: '902' }, tmp.dir), log: silentLogger(), workers: false, watchConfig: false });
      expect(bot.ledger.billTag).toBe('902');
      await bot.close();
      await expect(
        createBot({ settings: loadSettings({ ...env, BOT_BILLNO_TAG: '903' }, tmp.dir), log: silentLogger(), workers: false, watchConfig: false }),
      ).rejects.toThrow(/BOT_BILLNO_TAG is 903 but this ledger numbers its bills with tag 902/);
    } finally {
      tmp.remove();
    }
  });
});

/** A tag no ledger of the test database uses now (other runs share it). */
async function freeTag(pool: Pool, not: string[] = []): Promise<string> {
  const { rows } = await pool.query<{ schema: string }>("SELECT table_schema AS schema FROM information_schema.tables WHERE table_name = 'ledger_meta'");
  const used = new Set(not);
  for (const r of rows) {
    const t = await pool.query<{ value: string }>(`SELECT value FROM "${r.schema}".ledger_meta WHERE key = 'bill_tag'`).catch(() => ({ rows: [] }));
    for (const v of t.rows) used.add(v.value);
  }
  for (let tag = 100 + (process.pid % 800); ; tag = tag >= 999 ? 100 : tag + 1) if (!used.has(String(tag))) return String(tag);
}

describeService('PostgresLedger bill tags across schemas', [[DATABASE_URL, 5432]], () => {
  it('should refuse to open a ledger whose tag a ledger in another schema of the database already uses, naming that schema', async () => {
    const prod = await pgSchemaPool(2);
    const staging = await pgSchemaPool(2);
    try {
      const tag = await freeTag(prod.pool);
      const a = await PostgresLedger.create(prod.pool, { tags: ledgerTagRules(tag) });
      expect(a.billTag).toBe(tag);
      await expect(PostgresLedger.create(staging.pool, { tags: ledgerTagRules(tag) })).rejects.toThrow(
        new RegExp(`schema ${staging.schema} and the ledger in schema ${prod.schema} of the same database both use bill tag ${tag}`),
      );
      // Nothing was half-set: the staging ledger takes another tag when asked, or draws a free one.
      const other = await freeTag(prod.pool, [tag]);
      const b = await PostgresLedger.create(staging.pool, { tags: ledgerTagRules(other) });
      expect(b.billTag).toBe(other);
      // And a ledger set up by hand (or by an older version) with a shared tag is refused too.
      await staging.pool.query("UPDATE ledger_meta SET value = $1 WHERE key = 'bill_tag'", [tag]);
      await expect(PostgresLedger.create(staging.pool, { tags: ledgerTagRules() })).rejects.toThrow(new RegExp(`schema ${prod.schema}`));
    } finally {
      await staging.drop();
      await prod.drop();
    }
  });

  it('should draw a fresh ledger a tag no other visible ledger uses', async () => {
    const prod = await pgSchemaPool(2);
    const fresh = await pgSchemaPool(2);
    try {
      const a = await PostgresLedger.create(prod.pool, { tags: ledgerTagRules(await freeTag(prod.pool)) });
      const b = await PostgresLedger.create(fresh.pool, { tags: ledgerTagRules() });
      expect(b.billTag).toMatch(/^[1-9]\d{2}$/);
      expect(b.billTag).not.toBe(a.billTag);
    } finally {
      await fresh.drop();
      await prod.drop();
    }
  });

  it("should refuse BOT_BILLNO_TAG other than the ledger's, naming both", async () => {
    const { pool, drop } = await pgSchemaPool(2);
    try {
      const tag = await freeTag(pool);
      await PostgresLedger.create(pool, { tags: ledgerTagRules(tag) });
      const other = await freeTag(pool, [tag]);
      await expect(PostgresLedger.create(pool, { tags: ledgerTagRules(other) })).rejects.toThrow(
        new RegExp(`BOT_BILLNO_TAG is ${other} but this ledger numbers its bills with tag ${tag}`),
      );
      expect((await PostgresLedger.create(pool, { tags: ledgerTagRules(tag) })).billTag).toBe(tag);
    } finally {
      await drop();
    }
  });
});

describeService('PostgresLedger bill tag', [[DATABASE_URL, 5432]], () => {
  it('should draw one tag per ledger database, shared by every instance that opens it', async () => {
    const { pool, drop } = await pgSchemaPool(4);
    try {
      const [a, b] = (await Promise.all([PostgresLedger.create(pool, { tags: ledgerTagRules() }), PostgresLedger.create(pool, { tags: ledgerTagRules() })])).map(
        withLedgerRules,
      );
      expect(a.billTag).toMatch(/^[1-9]\d{2}$/);
      expect(b.billTag).toBe(a.billTag);
      const g = await a.recordGrant(grantInput());
      expect(g.grant.billNo).toBe(`${billNoPrefix(MCH_ID, T0)}${a.billTag}0000001`);
      await pool.query("UPDATE ledger_meta SET value = 'x' WHERE key = 'bill_tag'");
      await expect(PostgresLedger.create(pool, { tags: ledgerTagRules() })).rejects.toThrow(/bill_tag.*malformed/);
    } finally {
      await drop();
    }
  });
});
