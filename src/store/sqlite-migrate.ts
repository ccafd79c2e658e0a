/**
 * SQLite plumbing shared by every component that keeps tables in the embedded database (the store's
 * kv/dedupe/counters, the rewards ledger and outbox): opening a file with the right pragmas, and
 * versioned schema migrations kept in code.
 *
 * @example
 * const db = openSqlite('data/bot.sqlite');
 * migrate(db, 'ledger', [
 *   'CREATE TABLE ledger (id INTEGER PRIMARY KEY, bill_no TEXT NOT NULL UNIQUE)',
 *   'ALTER TABLE ledger ADD COLUMN amount INTEGER NOT NULL DEFAULT 0',
 * ]);
 *
 * @see https://www.sqlite.org/wal.html
 * @see https://github.com/WiseLibs/better-sqlite3/blob/master/docs/api.md
 */
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { DEFAULT_BUSY_RETRY_MS, setBusyRetry, withBusyTimeout } from './run-when-unlocked';

/** A better-sqlite3 connection (re-exported so callers need not import the driver's namespace). */
export type Database = BetterSqlite3.Database;

// === Errors

/**
 * A schema migration step failed. The step's transaction was rolled back, so the database is left at
 * `version - 1` for that component and the next start retries the same step.
 *
 * @example try { migrate(db, 'ledger', steps) } catch (e) { if (e instanceof StoreMigrationError) log.fatal(e.component) }
 * @see https://www.sqlite.org/lang_transaction.html
 */
export class StoreMigrationError extends Error {
  override readonly name = 'StoreMigrationError';
  constructor(
    readonly component: string,
    readonly version: number,
    cause: unknown,
  ) {
    super(`migration ${component}@${version} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

// === Opening

/** `busy_timeout` of the bot's connections (ms): the longest a lock held elsewhere blocks the loop. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5;
/**
 * `busy_timeout` while migrations run (ms). They run at startup, before the webhook listens, and
 * cannot be retried on timers (they are synchronous), so they may wait in SQLite.
 */
export const MIGRATION_BUSY_TIMEOUT_MS = 5000;

/** Options of {@link openSqlite}. */
export interface OpenSqliteOptions {
  /**
   * `FULL` (default) fsyncs the WAL on every commit, so a committed ledger row survives a power cut,
   * not only a process crash. `NORMAL` survives any process crash (SIGKILL included) but may lose the
   * last commits on power loss; pick it only for throughput where losing recent dedupe rows is fine.
   */
  synchronous?: 'FULL' | 'NORMAL';
  /**
   * How long a step waits INSIDE SQLite for another process's lock before SQLITE_BUSY, in ms (default
   * 5). The wait blocks the whole event loop (better-sqlite3 is synchronous), so keep it to a few ms;
   * the adapters retry a busy step on timers (see `busyRetryMs` and `runWhenUnlocked`).
   */
  busyTimeoutMs?: number;
  /**
   * How long a step waits in total for another process's lock, retrying on timers with the event loop
   * free, before it fails with `StoreBusyError`, in ms (default 30000).
   */
  busyRetryMs?: number;
  /**
   * Page cache of this connection, KiB (default 2048, SQLite's own default). better-sqlite3 builds
   * SQLite with 16 MiB; the bot's writes touch the newest pages, so a bigger cache only grows the RSS.
   */
  cacheKib?: number;
}

/**
 * Opens (and creates) an SQLite file for the bot: creates the parent folder, turns on WAL (readers
 * never block the writer, and several processes may share the file), `synchronous=FULL` by default
 * (why: the same file holds the money ledger — a commit acknowledged to the outbox worker must
 * survive a power cut, at the price of one fsync per commit, which is negligible at WeChat message
 * rates), a `busy_timeout` of a few ms (a longer lock held by another process is waited for on
 * timers by `runWhenUnlocked`, so it never stalls the event loop), a 2 MiB page cache (see
 * `cacheKib`), and foreign keys on. `':memory:'` opens a private in-memory database (WAL does not
 * apply there).
 *
 * @example const db = openSqlite('data/bot.sqlite'); db.prepare('SELECT 1').get();
 * @see https://www.sqlite.org/pragma.html#pragma_synchronous
 */
export function openSqlite(file: string, options: OpenSqliteOptions = {}): Database {
  if (typeof file !== 'string' || file.length === 0) throw new TypeError('openSqlite: file must be a non-empty path');
  const synchronous = options.synchronous ?? 'FULL';
  if (synchronous !== 'FULL' && synchronous !== 'NORMAL') throw new TypeError('openSqlite: synchronous must be FULL or NORMAL');
  const busy = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  if (!Number.isInteger(busy) || busy < 0) throw new TypeError('openSqlite: busyTimeoutMs must be a non-negative integer');
  const busyRetryMs = options.busyRetryMs ?? DEFAULT_BUSY_RETRY_MS;
  if (!Number.isInteger(busyRetryMs) || busyRetryMs < 0) throw new TypeError('openSqlite: busyRetryMs must be a non-negative integer');
  const cacheKib = options.cacheKib ?? 2048;
  if (!Number.isInteger(cacheKib) || cacheKib < 64) throw new TypeError('openSqlite: cacheKib must be an integer of at least 64');

  const inMemory = file === ':memory:';
  if (!inMemory) fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = new BetterSqlite3(file, { timeout: busy });
  try {
    db.pragma(`busy_timeout = ${busy}`);
    setBusyRetry(db, busyRetryMs);
    // Switching to WAL takes an exclusive lock once (startup, not on the request path): wait for it.
    if (!inMemory) withBusyTimeout(db, Math.max(busy, MIGRATION_BUSY_TIMEOUT_MS), () => db.pragma('journal_mode = WAL'));
    db.pragma(`synchronous = ${synchronous}`);
    db.pragma(`cache_size = -${cacheKib}`);
    db.pragma('foreign_keys = ON');
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

// === Migrations

/**
 * Applies the schema steps of one component that this database has not seen yet. Step `i` (0-based)
 * is version `i + 1`; applied versions are recorded in `schema_migrations(component, version)`. Each
 * step runs in its own `BEGIN IMMEDIATE` transaction that re-checks the version after taking the
 * write lock, so two processes starting at once apply every step exactly once (the second waits,
 * with `busy_timeout` raised to {@link MIGRATION_BUSY_TIMEOUT_MS}, then sees the step done). Steps
 * are append-only: never edit a shipped step, add a new one. A database with more versions than
 * `steps` (a newer deploy ran first) is left alone.
 *
 * A step may hold several statements separated by `;` (it runs through `db.exec`).
 *
 * @example
 * migrate(db, 'store', ['CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT NOT NULL)']);
 * @throws StoreMigrationError when a step fails (that step is rolled back).
 * @see https://www.sqlite.org/lang_transaction.html
 */
export function migrate(db: Database, component: string, steps: readonly string[]): void {
  if (typeof component !== 'string' || component.length === 0) throw new TypeError('migrate: component must be a non-empty string');
  if (!Array.isArray(steps)) throw new TypeError('migrate: steps must be an array of SQL strings');
  const busy = Math.max(db.pragma('busy_timeout', { simple: true }) as number, MIGRATION_BUSY_TIMEOUT_MS);
  withBusyTimeout(db, busy, () => applySteps(db, component, steps));
}

function applySteps(db: Database, component: string, steps: readonly string[]): void {
  db.transaction(() => {
    db.exec(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         component  TEXT    NOT NULL,
         version    INTEGER NOT NULL,
         applied_at INTEGER NOT NULL,
         PRIMARY KEY (component, version)
       )`,
    );
  }).immediate();

  const isApplied = db.prepare<[string, number], { one: number }>('SELECT 1 AS one FROM schema_migrations WHERE component = ? AND version = ?');
  const record = db.prepare<[string, number, number]>('INSERT INTO schema_migrations (component, version, applied_at) VALUES (?, ?, ?)');

  steps.forEach(function applyStep(sql, index) {
    const version = index + 1;
    if (isApplied.get(component, version)) return; // fast path without the write lock
    try {
      db.transaction(() => {
        if (isApplied.get(component, version)) return; // another process won the race
        db.exec(sql);
        record.run(component, version, Date.now());
      }).immediate();
    } catch (error) {
      throw new StoreMigrationError(component, version, error);
    }
  });
}

/**
 * The highest applied version of a component (0 when none), for status commands and tests.
 *
 * @example schemaVersion(db, 'store') // → 1
 * @see https://www.sqlite.org/lang_select.html
 */
export function schemaVersion(db: Database, component: string): number {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
  if (!exists) return 0;
  const row = db.prepare<[string], { v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations WHERE component = ?').get(component);
  return row?.v ?? 0;
}
