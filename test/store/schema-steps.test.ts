/**
 * Schema steps are append-only: a database migrated by an earlier version never runs a step again, so
 * a step whose SQL changed would leave old and new databases with different tables. The steps of both
 * dialects are now rendered from one description (`store-tables.ts`, `ledger-rows.ts`); this pins each
 * step, as the versions before that wrote it by hand (`test/fixtures/store/schema-steps.json`), up to
 * whitespace.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PG_STORE_MIGRATIONS } from '../../src/store/postgres';
import { PG_LEDGER_MIGRATIONS } from '../../src/store/postgres-ledger';
import { SQLITE_STORE_MIGRATIONS } from '../../src/store/sqlite';
import { SQLITE_LEDGER_MIGRATIONS } from '../../src/store/sqlite-ledger';

const pinned = JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/store/schema-steps.json'), 'utf8')) as Record<string, string[]>;
const current: Record<string, readonly string[]> = { PG_LEDGER_MIGRATIONS, SQLITE_LEDGER_MIGRATIONS, PG_STORE_MIGRATIONS, SQLITE_STORE_MIGRATIONS };
const words = (sql: string) => sql.replace(/\s+/g, ' ').trim();

describe('schema steps', () => {
  it.each(Object.keys(pinned))('should keep every step of %s as it was first written, and only add steps after them', (name) => {
    const steps = current[name]!;
    expect(steps.length).toBeGreaterThanOrEqual(pinned[name]!.length);
    expect(steps.slice(0, pinned[name]!.length).map(words)).toEqual(pinned[name]!.map(words));
  });
});
