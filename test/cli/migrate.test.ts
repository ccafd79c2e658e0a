/**
 * `wechat-bot migrate`: creates or upgrades the configured database and exits, idempotently, safely
 * beside other instances, and without printing connection secrets.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { runMigrate } from '../../src/cli/commands/migrate';
import { describeService } from '../store/service-probe';

const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

function captureIo() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

describe('runMigrate', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wechat-bot-migrate-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('should create the SQLite tables of every component and report their versions, twice in a row', async () => {
    for (let run = 0; run < 2; run++) {
      const c = captureIo();
      expect(await runMigrate({ BOT_DATA_DIR: dir }, c.io, dir)).toBe(0);
      expect(c.err).toEqual([]);
      expect(c.out).toEqual([`migrated SQLite ${path.join(dir, 'wechat-bot.sqlite')}: store v3, ledger v6, spend-orders v1, card-members v1`]);
    }
  });

  it('should exit 1 with the setting named when the settings are invalid', async () => {
    const c = captureIo();
    expect(await runMigrate({ BOT_DATA_DIR: dir, BOT_PG_SCHEMA: 'Bad-Schema' }, c.io, dir)).toBe(1);
    expect(c.err.join('\n')).toContain('BOT_PG_SCHEMA');
  });

  it('should exit 1 without printing the password when PostgreSQL is unreachable', async () => {
    const c = captureIo();
    const code = await runMigrate({ BOT_DATA_DIR: dir, DATABASE_URL: 'postgres://bot:s3cretPassw0rd@127.0.0.1:1/bot' }, c.io, dir);
    expect(code).toBe(1);
    expect(c.err.join('\n')).toContain('cannot reach PostgreSQL at 127.0.0.1:1');
    expect(c.err.join('\n')).not.toContain('s3cretPassw0rd');
  });
});

describeService('runMigrate on PostgreSQL', [[DATABASE_URL, 5432]], () => {
  const schema = `migrate_${process.pid}_${Date.now().toString(36)}`;
  let dir: string;
  let admin: Pool;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wechat-bot-migrate-pg-'));
    admin = new Pool({ connectionString: DATABASE_URL, max: 1 });
  });
  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('should migrate a fresh schema once when three migrations start together', async () => {
    const runs = Array.from({ length: 3 }, () => captureIo());
    const codes = await Promise.all(runs.map((c) => runMigrate({ BOT_DATA_DIR: dir, DATABASE_URL, BOT_PG_SCHEMA: schema }, c.io, dir)));
    expect(codes).toEqual([0, 0, 0]);
    for (const c of runs) expect(c.out).toEqual([`migrated PostgreSQL 127.0.0.1:5432/test (schema ${schema}): store v2, ledger v6, spend-orders v1, card-members v1`]);
    const { rows } = await admin.query(`SELECT component, version FROM ${schema}.schema_migrations ORDER BY 1`);
    expect(rows).toEqual([
      { component: 'card-members', version: 1 },
      { component: 'ledger', version: 1 },
      { component: 'ledger', version: 2 },
      { component: 'ledger', version: 3 },
      { component: 'ledger', version: 4 },
      { component: 'ledger', version: 5 },
      { component: 'ledger', version: 6 },
      { component: 'spend-orders', version: 1 },
      { component: 'store', version: 1 },
      { component: 'store', version: 2 },
    ]);
    const tables = await admin.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`, [schema]);
    expect(tables.rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining(['ledger_grants', 'ledger_meta', 'ledger_outbox', 'store_bindings', 'store_dedupe', 'store_kv']),
    );
  });
});
