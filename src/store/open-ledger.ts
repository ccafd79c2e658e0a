/**
 * Opens the ledger the settings ask for: PostgreSQL when `DATABASE_URL` is set (many instances),
 * else SQLite at `settings.store.sqlitePath` on a connection of its own with `synchronous=FULL` (a
 * committed grant survives a power cut; the store's own connection may run at NORMAL).
 *
 * @example const ledger = withLedgerRules(await openLedger(settings.store)); … await ledger.close();
 * @see https://www.sqlite.org/pragma.html#pragma_synchronous
 */
import type { LedgerStorage } from '../rewards/ledger-plans';
import { openPgPool } from './pg-migrate';
import { SqliteLedger } from './sqlite-ledger';
import { openSqlite } from './sqlite-migrate';

/** Options of {@link openLedger}; `settings.store` fits as is. */
export interface OpenLedgerOptions {
  sqlitePath: string;
  databaseUrl?: string;
  /** PostgreSQL schema (default: the connection's search_path). */
  postgresSchema?: string;
  /** BOT_BILLNO_TAG: the tag of a new ledger; an existing ledger's tag must equal it. */
  billNoTag?: string;
}

/**
 * Opens and migrates the ledger; its `close()` releases what it opened.
 *
 * @example const ledger = await openLedger({ sqlitePath: 'data/wechat-bot.sqlite' });
 * @see https://node-postgres.com/apis/pool
 */
export async function openLedger(options: OpenLedgerOptions): Promise<LedgerStorage> {
  if (!options || typeof options.sqlitePath !== 'string') throw new TypeError('openLedger: sqlitePath is required');
  if (options.databaseUrl) {
    const pool = await openPgPool(options.databaseUrl, options.postgresSchema, 'openLedger');
    const { PostgresLedger } = require('./postgres-ledger') as typeof import('./postgres-ledger');
    try {
      return await PostgresLedger.create(pool, { ownsPool: true, billTag: options.billNoTag });
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
  }
  const db = openSqlite(options.sqlitePath, { synchronous: 'FULL' });
  try {
    return SqliteLedger.create(db, { ownsDb: true, billTag: options.billNoTag });
  } catch (error) {
    db.close();
    throw error;
  }
}
