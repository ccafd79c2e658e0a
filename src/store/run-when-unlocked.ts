/**
 * Runs a synchronous better-sqlite3 step without letting another process's lock stall the event loop.
 *
 * better-sqlite3 is synchronous: while SQLite's busy handler waits for a lock held by another process
 * (the CLI, a `sqlite3` shell, a backup, another instance on the same file), nothing else in this
 * process runs — no request, no timer, no deadline guard. So the bot's connections wait only a few
 * milliseconds inside SQLite (`busy_timeout`, see `openSqlite`), and a step that still finds the
 * database locked (`SQLITE_BUSY`) is retried here with back-off on timers (the loop stays free), each
 * retry with `busy_timeout = 0`, until the connection's lock wait (`busyRetryMs`, default 30 s) runs
 * out; then it fails with {@link StoreBusyError}. While one step of a connection waits, new steps
 * on that connection skip the in-SQLite wait and queue behind it on timers too, so a long lock costs
 * the loop a few milliseconds once, not per request.
 *
 * A step must be safe to run again after `SQLITE_BUSY`: a single statement, or a whole
 * `db.transaction(...)` (better-sqlite3 rolls the transaction back when one of its statements throws,
 * so a retried transaction starts from scratch).
 *
 * @example
 * const row = await runWhenUnlocked(db, () => stmt.get(key));
 * await runWhenUnlocked(db, () => tx.immediate(batch)); // a group commit, retried as a whole
 * @see https://www.sqlite.org/rescode.html#busy
 * @see https://www.sqlite.org/c3ref/busy_timeout.html
 */
import { performance } from 'node:perf_hooks';
import type BetterSqlite3 from 'better-sqlite3';
import { STORE_BUSY } from './ports';

type Database = BetterSqlite3.Database;

// === Errors

/**
 * Another process held the SQLite database locked for longer than this connection waits. Nothing of
 * the step was applied (its transaction was rolled back); running it again later is safe.
 *
 * @example if (err instanceof StoreBusyError) return { ok: false, error: err.message }; // /healthz: 503
 * @see https://www.sqlite.org/rescode.html#busy
 */
export class StoreBusyError extends Error {
  override readonly name = 'StoreBusyError';
  readonly code = STORE_BUSY;
  constructor(
    /** How long the step waited for the lock, ms. */
    readonly waitedMs: number,
    cause: unknown,
  ) {
    super(
      `store busy: another process holds a lock on the SQLite database (waited ${waitedMs} ms); ` +
        'look for a long transaction in a CLI command, a sqlite3 shell or a backup on the same file',
      { cause },
    );
  }
}

/**
 * True for SQLite's "database is locked by another connection" results: `SQLITE_BUSY` and its
 * extended codes (`SQLITE_BUSY_RECOVERY`, `SQLITE_BUSY_SNAPSHOT`, `SQLITE_BUSY_TIMEOUT`).
 *
 * @example try { stmt.run() } catch (e) { if (isSqliteBusy(e)) retryLater() }
 * @see https://www.sqlite.org/rescode.html#busy
 */
export function isSqliteBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

// === Lock state of a connection

/** How long a connection waits for another process's lock in total, by default (ms). */
export const DEFAULT_BUSY_RETRY_MS = 30_000;
/** The longest pause between two retries (ms): a released lock is noticed within this. */
const MAX_RETRY_DELAY_MS = 50;

interface LockState {
  /** Total wait for a lock before StoreBusyError, ms. */
  retryMs: number;
  /** Steps of this connection waiting on timers for a lock right now. */
  waiting: number;
}

const locks = new WeakMap<Database, LockState>();

function lockOf(db: Database): LockState {
  let state = locks.get(db);
  if (!state) {
    state = { retryMs: DEFAULT_BUSY_RETRY_MS, waiting: 0 };
    locks.set(db, state);
  }
  return state;
}

/**
 * Sets how long steps on this connection wait for another process's lock in total (`openSqlite`
 * calls it with its `busyRetryMs`).
 *
 * @example setBusyRetry(db, 30_000);
 * @see https://www.sqlite.org/c3ref/busy_timeout.html
 */
export function setBusyRetry(db: Database, retryMs: number): void {
  if (!Number.isInteger(retryMs) || retryMs < 0) throw new TypeError('setBusyRetry: retryMs must be a non-negative integer');
  lockOf(db).retryMs = retryMs;
}

/**
 * True while a step of this connection waits for a lock held elsewhere (for `/healthz`).
 *
 * @example if (isWaitingForLock(store.db)) log.warn('the SQLite file is locked by another process');
 */
export function isWaitingForLock(db: Database): boolean {
  return lockOf(db).waiting > 0;
}

/**
 * Runs `fn` with SQLite's busy timeout of this connection set to `ms`, then restores it. For steps
 * that cannot be retried on a timer (migrations at startup) and may wait in SQLite itself.
 *
 * @example withBusyTimeout(db, 5000, () => migrateSteps());
 * @see https://www.sqlite.org/pragma.html#pragma_busy_timeout
 */
export function withBusyTimeout<T>(db: Database, ms: number, fn: () => T): T {
  const before = db.pragma('busy_timeout', { simple: true }) as number;
  if (before === ms) return fn();
  db.pragma(`busy_timeout = ${ms}`);
  try {
    return fn();
  } finally {
    if (db.open) db.pragma(`busy_timeout = ${before}`);
  }
}

// === Running a step

/** Options of {@link runWhenUnlocked}. */
export interface RunWhenUnlockedOptions {
  /** Wait at most this long for the lock (ms), instead of the connection's `busyRetryMs`. */
  waitMs?: number;
}

/**
 * Runs `step` now, or — when another process holds the lock — again on timers until it can, for up
 * to the connection's lock wait. Resolves with the step's result; rejects with the step's own error,
 * or with {@link StoreBusyError} when the lock was not released in time.
 *
 * @example const claimed = await runWhenUnlocked(db, () => claimTx.immediate(key));
 * @see https://www.sqlite.org/rescode.html#busy
 */
export function runWhenUnlocked<T>(db: Database, step: () => T, options: RunWhenUnlockedOptions = {}): Promise<T> {
  const lock = lockOf(db);
  // Another step already waits for the lock: do not wait in SQLite as well, queue on timers.
  if (lock.waiting === 0) {
    try {
      return Promise.resolve(step());
    } catch (error) {
      if (!isSqliteBusy(error)) return Promise.reject(error);
    }
  }
  return retryOnTimers(db, lock, step, options.waitMs ?? lock.retryMs);
}

async function retryOnTimers<T>(db: Database, lock: LockState, step: () => T, waitMs: number): Promise<T> {
  const startedAt = performance.now();
  lock.waiting++;
  try {
    let delay = 1;
    let lastError: unknown;
    for (;;) {
      const left = startedAt + waitMs - performance.now();
      if (left <= 0) throw new StoreBusyError(Math.round(performance.now() - startedAt), lastError);
      await new Promise((resolve) => setTimeout(resolve, Math.min(delay, Math.ceil(left))));
      delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS);
      if (!db.open) throw new TypeError('The database connection is not open');
      try {
        // Never wait inside SQLite on a retry: the timers do the waiting.
        return withBusyTimeout(db, 0, step);
      } catch (error) {
        if (!isSqliteBusy(error)) throw error;
        lastError = error;
      }
    }
  } finally {
    lock.waiting--;
  }
}
