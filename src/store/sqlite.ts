/**
 * SQLite adapter for every store port: the embedded default (one file under `data/`, WAL).
 *
 * Guarantees across processes that share the file: `kv.setIfAbsent`, `kv.deleteIfEquals`,
 * `dedupe.claim` / `release` and `counters.incrementWithin` are atomic, because each is one statement
 * or one `BEGIN IMMEDIATE` transaction (SQLite takes the database write lock first). A lock held by
 * another process never stalls the event loop: a step waits a few ms in SQLite, then retries on
 * timers (`runWhenUnlocked`) until the lock is free or `busyRetryMs` runs out (`StoreBusyError`,
 * nothing applied). Committed writes survive a process crash (WAL) and, with the
 * default `synchronous=FULL`, a power cut. Expiry follows the injected clock, so every process must
 * use the real clock in production (they agree only if their clocks do).
 *
 * @example
 * const store = SqliteStore.open('data/bot.sqlite');
 * if ((await store.dedupe.claim(msgKey, 60)).state === 'new') { ... }
 * // the rewards ledger reuses the connection:
 * migrate(store.db, 'ledger', LEDGER_STEPS);
 *
 * @see https://www.sqlite.org/lang_upsert.html
 */
import type { Clock } from '../lib/clock';
import { systemClock } from '../lib/clock';
import type { Binding, BindingStore, CounterStore, DedupeClaim, DedupeStore, KeyValueStore, Store } from './ports';
import { GroupCommit } from './group-commit';
import { isSqliteBusy, isWaitingForLock, runWhenUnlocked } from './run-when-unlocked';
import { migrate, openSqlite, type Database, type OpenSqliteOptions } from './sqlite-migrate';
import { bindingsTableSql, storeTablesMigration } from './store-tables';
import { ttlToMs, validateIncrement, validateKey, validateTtl, validateValue } from './validate-args';

/**
 * Migration steps of the `store` component (append-only: add steps, never edit one).
 *
 * @example migrate(db, 'store', SQLITE_STORE_MIGRATIONS);
 * @see https://www.sqlite.org/lang_createtable.html
 */
export const SQLITE_STORE_MIGRATIONS: readonly string[] = [
  storeTablesMigration('INTEGER'),
  // Every claim and every completion moved an entry of this index (a claim's short lease, then the
  // reply's TTL), adding pages to each group commit; de-duplication rows are swept by age instead
  // (see SqliteStore's sweep).
  `DROP INDEX IF EXISTS store_dedupe_expires;`,
  // Signed webhook requests bound to the digest of their first body (`BindingStore`). Written in time
  // order with one TTL per deployment, so they are swept by age like the de-duplication rows.
  bindingsTableSql('INTEGER'),
];

/** How many writes between two sweeps of expired rows. */
const SWEEP_EVERY_WRITES = 500;
/**
 * How many of the oldest de-duplication rows each automatic sweep looks at: twice the writes between
 * sweeps, so the sweeps keep up with the rows the writes add.
 */
const DEDUPE_SWEEP_WINDOW = 2 * SWEEP_EVERY_WRITES;
/**
 * How long `ping()` (and so `/healthz`) waits for a write lock held by another process before it
 * reports the store busy, ms: long enough for a CLI's short write, short enough to answer at once.
 */
const PING_LOCK_WAIT_MS = 250;

/** Counts writes and sweeps expired rows now and then, so the tables do not grow without bound. */
class Sweeper {
  private writes = 0;
  constructor(private readonly sweep: () => unknown) {}
  wrote(): void {
    if (++this.writes >= SWEEP_EVERY_WRITES) {
      this.writes = 0;
      this.sweep();
    }
  }
}

/** What each table store of this adapter works on: the store's connection, its clock and its sweeper of expired rows. */
abstract class SqliteTable {
  constructor(
    protected readonly db: Database,
    protected readonly clock: Clock,
    protected readonly sweeper: Sweeper,
  ) {}
}

// === Key-value

/**
 * `KeyValueStore` on the `store_kv` table. Expired rows are ignored by every read and swept now and then.
 *
 * @example await store.kv.setIfAbsent('lock:token', instanceId, 10);
 * @see https://www.sqlite.org/lang_upsert.html
 */
export class SqliteKeyValueStore extends SqliteTable implements KeyValueStore {
  private readonly stmts = {
    get: this.db.prepare<[string, number], { value: string }>('SELECT value FROM store_kv WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)'),
    set: this.db.prepare<[string, string, number | null]>(
      `INSERT INTO store_kv (key, value, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
    ),
    setIfAbsent: this.db.prepare<[string, string, number | null, number]>(
      `INSERT INTO store_kv (key, value, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
       WHERE store_kv.expires_at IS NOT NULL AND store_kv.expires_at <= ?`,
    ),
    deleteIfEquals: this.db.prepare<[string, string, number]>('DELETE FROM store_kv WHERE key = ? AND value = ? AND (expires_at IS NULL OR expires_at > ?)'),
    delete: this.db.prepare<[string]>('DELETE FROM store_kv WHERE key = ?'),
  };

  private expiry(ttlSeconds: number | undefined): number | null {
    return ttlSeconds === undefined ? null : this.clock.now() + ttlToMs(ttlSeconds);
  }

  async get(key: string): Promise<string | undefined> {
    validateKey('SqliteStore.kv.get', key);
    return (await runWhenUnlocked(this.db, () => this.stmts.get.get(key, this.clock.now())))?.value;
  }
  async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    validateKey('SqliteStore.kv.set', key);
    validateValue('SqliteStore.kv.set', value);
    if (ttlSeconds !== undefined) validateTtl('SqliteStore.kv.set', ttlSeconds);
    const expiresAt = this.expiry(ttlSeconds);
    await runWhenUnlocked(this.db, () => this.stmts.set.run(key, value, expiresAt));
    this.sweeper.wrote();
  }
  async setIfAbsent(key: string, value: string, ttlSeconds?: number): Promise<boolean> {
    validateKey('SqliteStore.kv.setIfAbsent', key);
    validateValue('SqliteStore.kv.setIfAbsent', value);
    if (ttlSeconds !== undefined) validateTtl('SqliteStore.kv.setIfAbsent', ttlSeconds);
    const expiresAt = this.expiry(ttlSeconds);
    const result = await runWhenUnlocked(this.db, () => this.stmts.setIfAbsent.run(key, value, expiresAt, this.clock.now()));
    this.sweeper.wrote();
    return result.changes === 1;
  }
  async deleteIfEquals(key: string, expected: string): Promise<boolean> {
    validateKey('SqliteStore.kv.deleteIfEquals', key);
    validateValue('SqliteStore.kv.deleteIfEquals', expected);
    return (await runWhenUnlocked(this.db, () => this.stmts.deleteIfEquals.run(key, expected, this.clock.now()))).changes === 1;
  }
  async delete(key: string): Promise<void> {
    validateKey('SqliteStore.kv.delete', key);
    await runWhenUnlocked(this.db, () => this.stmts.delete.run(key));
  }
}

// === De-duplication

/**
 * `DedupeStore` on the `store_dedupe` table; a claim is an upsert that only takes an absent or
 * expired row, inside one `BEGIN IMMEDIATE` transaction (atomic across processes).
 *
 * @example const c = await store.dedupe.claim('msg:123', 30); if (c.state === 'done') return c.reply;
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export class SqliteDedupeStore extends SqliteTable implements DedupeStore, BindingStore {
  private readonly stmts = {
    take: this.db.prepare<[string, number, number]>(
      `INSERT INTO store_dedupe (key, state, reply, expires_at) VALUES (?, 'in-flight', NULL, ?)
       ON CONFLICT (key) DO UPDATE SET state = 'in-flight', reply = NULL, expires_at = excluded.expires_at
       WHERE store_dedupe.expires_at <= ?`,
    ),
    peek: this.db.prepare<[string, number], { state: 'in-flight' | 'done'; reply: string | null }>(
      'SELECT state, reply FROM store_dedupe WHERE key = ? AND expires_at > ?',
    ),
    complete: this.db.prepare<[string, string, number]>(
      `INSERT INTO store_dedupe (key, state, reply, expires_at) VALUES (?, 'done', ?, ?)
       ON CONFLICT (key) DO UPDATE SET state = 'done', reply = excluded.reply, expires_at = excluded.expires_at`,
    ),
    release: this.db.prepare<[string]>("DELETE FROM store_dedupe WHERE key = ? AND state = 'in-flight'"),
    ...bindingStatements(this.db),
  };
  constructor(...table: ConstructorParameters<typeof SqliteTable>) {
    super(...table);
    const claimOne = (key: string, ttlMs: number, now: number): DedupeClaim => {
      if (this.stmts.take.run(key, now + ttlMs, now).changes === 1) return { state: 'new' };
      return toClaim(this.stmts.peek.get(key, now)) ?? { state: 'in-flight' };
    };
    const writeTx = this.db.transaction((batch: PendingWrite[]) => {
      const now = this.clock.now();
      for (const p of batch) {
        if (p.kind === 'claim') p.result = claimOne(p.key, p.ttlMs, now);
        else if (p.kind === 'bind') p.result = bindOne(this.stmts, p, now);
        else this.stmts.complete.run(p.key, p.reply, now + p.ttlMs);
      }
    });
    // A batch that finds the database locked by another process is retried as a whole on timers (or
    // fails as a whole with StoreBusyError): a claim is never half-written, nor written twice.
    this.writes = new GroupCommit<PendingWrite, void>((batch) =>
      runWhenUnlocked(this.db, () => {
        writeTx.immediate(batch);
        return batch.map(() => WRITTEN);
      }),
    );
  }

  /**
   * Claims and completions that arrive in the same turn of the event loop are written in one
   * transaction, in arrival order (group commit): under load that is one WAL commit for many messages
   * instead of two each, and nothing is acknowledged before its transaction committed.
   */
  private readonly writes: GroupCommit<PendingWrite, void>;

  async claim(key: string, ttlSeconds: number): Promise<DedupeClaim> {
    validateKey('SqliteStore.dedupe.claim', key);
    validateTtl('SqliteStore.dedupe.claim', ttlSeconds);
    const pending: PendingClaim = { kind: 'claim', key, ttlMs: ttlToMs(ttlSeconds) };
    await this.writes.add(pending);
    this.sweeper.wrote();
    return pending.result!;
  }
  async complete(key: string, reply: string, ttlSeconds: number): Promise<void> {
    validateKey('SqliteStore.dedupe.complete', key);
    validateValue('SqliteStore.dedupe.complete', reply);
    validateTtl('SqliteStore.dedupe.complete', ttlSeconds);
    await this.writes.add({ kind: 'complete', key, reply, ttlMs: ttlToMs(ttlSeconds) });
  }
  async peek(key: string): Promise<DedupeClaim | undefined> {
    validateKey('SqliteStore.dedupe.peek', key);
    return toClaim(await runWhenUnlocked(this.db, () => this.stmts.peek.get(key, this.clock.now())));
  }
  async release(key: string): Promise<void> {
    validateKey('SqliteStore.dedupe.release', key);
    await runWhenUnlocked(this.db, () => this.stmts.release.run(key));
  }

  /**
   * `BindingStore.bind` on the `store_bindings` table, riding the same group commit as claims and
   * completions (a message's binding costs no transaction of its own under load).
   *
   * @example await store.bindings.bind('sig:1714036504:1514711492:f464…', digest, 661) // → 'bound'
   * @see https://www.sqlite.org/lang_upsert.html
   */
  async bind(key: string, digest: string, ttlSeconds: number): Promise<Binding> {
    validateKey('SqliteStore.bindings.bind', key);
    validateValue('SqliteStore.bindings.bind', digest);
    validateTtl('SqliteStore.bindings.bind', ttlSeconds);
    const pending: PendingBind = { kind: 'bind', key, digest, ttlMs: ttlToMs(ttlSeconds) };
    await this.writes.add(pending);
    this.sweeper.wrote();
    return pending.result!;
  }
}

// === Request bindings

/** The statements of {@link SqliteDedupeStore.bind}. */
function bindingStatements(db: Database) {
  return {
    /** Takes an absent or expired key; a live binding is never touched. */
    bindTake: db.prepare<[string, string, number, number]>(
      `INSERT INTO store_bindings (key, digest, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET digest = excluded.digest, expires_at = excluded.expires_at
       WHERE store_bindings.expires_at <= ?`,
    ),
    bindPeek: db.prepare<[string, number], { digest: string }>('SELECT digest FROM store_bindings WHERE key = ? AND expires_at > ?'),
  };
}

/** One binding inside the write transaction: bound now, or the live binding compared. */
function bindOne(stmts: ReturnType<typeof bindingStatements>, p: PendingBind, now: number): Binding {
  if (stmts.bindTake.run(p.key, p.digest, now + p.ttlMs, now).changes === 1) return 'bound';
  return stmts.bindPeek.get(p.key, now)?.digest === p.digest ? 'same' : 'other';
}

interface PendingBind {
  kind: 'bind';
  key: string;
  digest: string;
  ttlMs: number;
  result?: Binding;
}

interface PendingClaim {
  kind: 'claim';
  key: string;
  ttlMs: number;
  result?: DedupeClaim;
}
type PendingWrite = PendingClaim | PendingBind | { kind: 'complete'; key: string; reply: string; ttlMs: number };

/** A batch item written (its result, if any, is on the item). */
const WRITTEN = { ok: true, value: undefined } as const;

function toClaim(row: { state: 'in-flight' | 'done'; reply: string | null } | undefined): DedupeClaim | undefined {
  if (!row) return undefined;
  return row.state === 'done' ? { state: 'done', reply: row.reply ?? '' } : { state: 'in-flight' };
}

/**
 * Deletes expired bindings: among the oldest {@link DEDUPE_SWEEP_WINDOW} rows (the automatic sweep;
 * like de-duplication rows they are written in time order with one TTL), or all of them. Returns how
 * many went.
 */
function bindingSweeper(db: Database): (now: number, oldestOnly: boolean) => number {
  const oldest = db.prepare<[number, number]>('DELETE FROM store_bindings WHERE rowid IN (SELECT rowid FROM store_bindings ORDER BY rowid LIMIT ?) AND expires_at <= ?');
  const all = db.prepare<[number]>('DELETE FROM store_bindings WHERE expires_at <= ?');
  return (now, oldestOnly) => (oldestOnly ? oldest.run(DEDUPE_SWEEP_WINDOW, now) : all.run(now)).changes;
}

// === Counters

/**
 * `CounterStore` on the `store_counters` table; `incrementWithin` reads and writes inside one
 * `BEGIN IMMEDIATE` transaction, so no two processes can both pass the limit.
 *
 * @example const { allowed } = await store.counters.incrementWithin('rate:minute:2026..', 1, 60, 60);
 * @see https://www.sqlite.org/lang_transaction.html
 */
export class SqliteCounterStore extends SqliteTable implements CounterStore {
  private readonly stmts = {
    get: this.db.prepare<[string, number], { value: number }>('SELECT value FROM store_counters WHERE key = ? AND expires_at > ?'),
    upsert: this.db.prepare<[string, number, number]>(
      `INSERT INTO store_counters (key, value, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
    ),
    update: this.db.prepare<[number, string]>('UPDATE store_counters SET value = ? WHERE key = ?'),
  };
  private readonly incrementTx: (key: string, by: number, limit: number, ttlMs: number) => Promise<{ allowed: boolean; value: number }>;
  constructor(...table: ConstructorParameters<typeof SqliteTable>) {
    super(...table);
    const tx = this.db.transaction((key: string, by: number, limit: number, ttlMs: number) => {
      const now = this.clock.now();
      const current = this.stmts.get.get(key, now);
      const value = (current?.value ?? 0) + by;
      if (value > limit) return { allowed: false, value: current?.value ?? 0 };
      if (current) this.stmts.update.run(value, key);
      else this.stmts.upsert.run(key, value, now + ttlMs);
      return { allowed: true, value };
    });
    this.incrementTx = (key, by, limit, ttlMs) => runWhenUnlocked(this.db, () => tx.immediate(key, by, limit, ttlMs));
  }

  async incrementWithin(key: string, by: number, limit: number, ttlSeconds: number): Promise<{ allowed: boolean; value: number }> {
    validateKey('SqliteStore.counters.incrementWithin', key);
    validateIncrement('SqliteStore.counters.incrementWithin', by, limit);
    validateTtl('SqliteStore.counters.incrementWithin', ttlSeconds);
    const result = await this.incrementTx(key, by, limit, ttlToMs(ttlSeconds));
    this.sweeper.wrote();
    return result;
  }
  async get(key: string): Promise<number> {
    validateKey('SqliteStore.counters.get', key);
    return (await runWhenUnlocked(this.db, () => this.stmts.get.get(key, this.clock.now())))?.value ?? 0;
  }
}

// === The whole store

/** Options of {@link SqliteStore.open}. */
export interface SqliteStoreOptions extends OpenSqliteOptions {
  /** Decides expiry (default: the system clock). */
  clock?: Clock;
}

/**
 * Every store port on one SQLite file. The connection is exposed as `db` so the rewards ledger and
 * outbox keep their tables in the same file (and may join the store's transactions); `close()`
 * closes it for everyone.
 *
 * @example
 * const store = SqliteStore.open('data/bot.sqlite', { clock: systemClock });
 * await store.kv.set('token', 'abc', 7000);
 * await store.close();
 * @see https://github.com/WiseLibs/better-sqlite3/blob/master/docs/api.md
 */
export class SqliteStore implements Store {
  readonly driver = 'sqlite' as const;
  readonly kv: SqliteKeyValueStore;
  readonly dedupe: SqliteDedupeStore;
  /** The de-duplication store itself: bindings ride its group commit. */
  readonly bindings: SqliteDedupeStore;
  readonly counters: SqliteCounterStore;
  /** The same adapter as the only backend, so `createStore()` callers find it uniformly. */
  readonly backends: { readonly sqlite: SqliteStore };
  private closed = false;
  /**
   * Deletes expired kv, dedupe and counter rows in one transaction; returns how many went.
   *
   * `oldestOnly` is the automatic sweep, every few hundred writes: expired kv and counter rows (by
   * their `expires_at` index), and the expired ones among the oldest {@link DEDUPE_SWEEP_WINDOW}
   * de-duplication rows. That table has no expiry index (it would cost every message a page or two
   * per commit); its rows are written in time order with one TTL per deployment, so the oldest rows
   * are the ones that expire first, and a row with a longer TTL only holds back rows behind it until
   * it expires. Expired rows are never read (every read checks `expires_at`): sweeping only bounds
   * the table.
   */
  private readonly sweep: (oldestOnly: boolean) => number;

  private constructor(
    /** The better-sqlite3 connection (WAL, busy_timeout, foreign keys on), shared with the ledger. */
    readonly db: Database,
    /** The file this store was opened on (`':memory:'` for a private in-memory database). */
    readonly file: string,
    private readonly clock: Clock,
  ) {
    const kv = db.prepare<[number]>('DELETE FROM store_kv WHERE expires_at IS NOT NULL AND expires_at <= ?');
    const dedupeOldest = db.prepare<[number, number]>(
      'DELETE FROM store_dedupe WHERE rowid IN (SELECT rowid FROM store_dedupe ORDER BY rowid LIMIT ?) AND expires_at <= ?',
    );
    const dedupeAll = db.prepare<[number]>('DELETE FROM store_dedupe WHERE expires_at <= ?');
    const counters = db.prepare<[number]>('DELETE FROM store_counters WHERE expires_at <= ?');
    const sweepBindings = bindingSweeper(db);
    const sweepTx = db.transaction((now: number, oldestOnly: boolean) => {
      const dedupe = oldestOnly ? dedupeOldest.run(DEDUPE_SWEEP_WINDOW, now) : dedupeAll.run(now);
      return kv.run(now).changes + dedupe.changes + counters.run(now).changes + sweepBindings(now, oldestOnly);
    });
    this.sweep = (oldestOnly) => (this.closed ? 0 : sweepTx.immediate(clock.now(), oldestOnly));
    const sweeper = new Sweeper(() => this.sweepUnlessLocked());
    this.kv = new SqliteKeyValueStore(db, clock, sweeper);
    this.dedupe = new SqliteDedupeStore(db, clock, sweeper);
    this.bindings = this.dedupe;
    this.counters = new SqliteCounterStore(db, clock, sweeper);
    this.backends = { sqlite: this };
  }

  /**
   * Opens (creating folders and file when needed) and migrates the store tables.
   *
   * @example const store = SqliteStore.open('data/bot.sqlite');
   * @see https://www.sqlite.org/wal.html
   */
  static open(file: string, options: SqliteStoreOptions = {}): SqliteStore {
    const { clock = systemClock, ...openOptions } = options;
    if (typeof clock?.now !== 'function') throw new TypeError('SqliteStore.open: clock must have now()');
    const db = openSqlite(file, openOptions);
    try {
      migrate(db, 'store', SQLITE_STORE_MIGRATIONS);
    } catch (error) {
      db.close();
      throw error;
    }
    return new SqliteStore(db, file, clock);
  }

  /**
   * Deletes every expired kv, dedupe, binding and counter row (reading the whole de-duplication table; the
   * automatic sweep, every few hundred writes, looks at its oldest rows only). Returns how many rows
   * went.
   *
   * @example store.sweepExpired() // → 3
   * @see https://www.sqlite.org/lang_delete.html
   */
  sweepExpired(): number {
    return this.sweep(false);
  }

  /**
   * The automatic sweep: skipped while another process holds the lock (the next one catches up), so
   * a write that committed never fails for it, and the loop never waits for it.
   */
  private sweepUnlessLocked(): number {
    if (isWaitingForLock(this.db)) return 0;
    try {
      return this.sweep(true);
    } catch (error) {
      if (isSqliteBusy(error)) return 0;
      throw error;
    }
  }

  /**
   * Resolves when the database can be written: takes the write lock and gives it back at once. Rejects
   * with `StoreBusyError` ("store busy: …") when another process holds it for more than
   * {@link PING_LOCK_WAIT_MS}, so `/healthz` answers fast instead of waiting for the lock.
   *
   * @example await store.ping(); // /healthz
   * @see https://www.sqlite.org/lang_transaction.html
   */
  async ping(): Promise<void> {
    await runWhenUnlocked(this.db, () => this.probeWriteLock(), { waitMs: PING_LOCK_WAIT_MS });
  }

  private probeWriteLock(): void {
    this.db.prepare('BEGIN IMMEDIATE').run();
    this.db.prepare('ROLLBACK').run();
  }

  /** Closes the connection (idempotent). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}
