/**
 * PostgreSQL adapter (pg) for the kv, dedupe and counter ports, and the shared pool that the rewards
 * ledger and outbox use when `DATABASE_URL` is set.
 *
 * Guarantees across processes and instances: `setIfAbsent`, `deleteIfEquals`, `dedupe.claim` and
 * `counters.incrementWithin` are each ONE statement (`INSERT … ON CONFLICT … DO UPDATE … WHERE`);
 * PostgreSQL locks the conflicting row and re-checks the `WHERE` on its latest version, so two
 * instances can never both win a claim or both pass a limit. Writes are durable once committed.
 * Expiry follows the injected clock (epoch ms stored in `expires_at`); in production every instance
 * uses the system clock, so keep their clocks in sync (NTP).
 *
 * @example
 * const store = await PostgresStore.connect(process.env.DATABASE_URL!);
 * await migratePg(store.pool, 'ledger', LEDGER_STEPS); // the ledger shares the pool
 * @see https://www.postgresql.org/docs/current/sql-insert.html#SQL-ON-CONFLICT
 */
import { Pool, type PoolConfig } from 'pg';
import type { Clock } from '../lib/clock';
import { systemClock } from '../lib/clock';
import type { Binding, BindingStore, CounterStore, DedupeClaim, DedupeStore, KeyValueStore, Store } from './ports';
import { createSchemaIfMissing, migratePg } from './pg-migrate';
import { redactUrl, urlHost } from './redact-url';
import { bindingsTableSql, storeTablesMigration } from './store-tables';
import { ttlToMs, validateIncrement, validateKey, validateTtl, validateValue } from './validate-args';

/**
 * Migration steps of the `store` component (append-only: add steps, never edit one).
 *
 * @example await migratePg(pool, 'store', PG_STORE_MIGRATIONS);
 * @see https://www.postgresql.org/docs/current/sql-createtable.html
 */
export const PG_STORE_MIGRATIONS: readonly string[] = [
  storeTablesMigration('BIGINT'),
  // Signed webhook requests bound to the digest of their first body (`BindingStore`).
  `${bindingsTableSql('BIGINT')}
   CREATE INDEX store_bindings_expires ON store_bindings (expires_at);`,
];

/** How many writes between two sweeps of expired rows. */
const SWEEP_EVERY_WRITES = 1000;

// === Key-value

/**
 * `KeyValueStore` on the `store_kv` table.
 *
 * @example await store.kv.setIfAbsent('lock:token', instanceId, 10);
 * @see https://www.postgresql.org/docs/current/sql-insert.html#SQL-ON-CONFLICT
 */
export class PostgresKeyValueStore implements KeyValueStore {
  constructor(
    private readonly pool: Pool,
    private readonly clock: Clock,
    private readonly wrote: () => void,
  ) {}

  private expiry(where: string, ttlSeconds: number | undefined): number | null {
    if (ttlSeconds === undefined) return null;
    validateTtl(where, ttlSeconds);
    return this.clock.now() + ttlToMs(ttlSeconds);
  }

  async get(key: string): Promise<string | undefined> {
    validateKey('PostgresStore.kv.get', key);
    const { rows } = await this.pool.query<{ value: string }>('SELECT value FROM store_kv WHERE key = $1 AND (expires_at IS NULL OR expires_at > $2)', [
      key,
      this.clock.now(),
    ]);
    return rows[0]?.value;
  }
  async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    validateKey('PostgresStore.kv.set', key);
    validateValue('PostgresStore.kv.set', value);
    await this.pool.query(
      `INSERT INTO store_kv (key, value, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`,
      [key, value, this.expiry('PostgresStore.kv.set', ttlSeconds)],
    );
    this.wrote();
  }
  async setIfAbsent(key: string, value: string, ttlSeconds?: number): Promise<boolean> {
    validateKey('PostgresStore.kv.setIfAbsent', key);
    validateValue('PostgresStore.kv.setIfAbsent', value);
    const { rowCount } = await this.pool.query(
      `INSERT INTO store_kv (key, value, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at
       WHERE store_kv.expires_at IS NOT NULL AND store_kv.expires_at <= $4`,
      [key, value, this.expiry('PostgresStore.kv.setIfAbsent', ttlSeconds), this.clock.now()],
    );
    this.wrote();
    return rowCount === 1;
  }
  async deleteIfEquals(key: string, expected: string): Promise<boolean> {
    validateKey('PostgresStore.kv.deleteIfEquals', key);
    validateValue('PostgresStore.kv.deleteIfEquals', expected);
    const { rowCount } = await this.pool.query('DELETE FROM store_kv WHERE key = $1 AND value = $2 AND (expires_at IS NULL OR expires_at > $3)', [
      key,
      expected,
      this.clock.now(),
    ]);
    return rowCount === 1;
  }
  async delete(key: string): Promise<void> {
    validateKey('PostgresStore.kv.delete', key);
    await this.pool.query('DELETE FROM store_kv WHERE key = $1', [key]);
  }
}

// === De-duplication

/**
 * `DedupeStore` on the `store_dedupe` table. A claim is an upsert that only takes an absent or expired
 * row; when it loses, a fresh read reports the winner's state (retried if the row vanished in between).
 *
 * @example const c = await store.dedupe.claim('msg:123', 30);
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export class PostgresDedupeStore implements DedupeStore {
  constructor(
    private readonly pool: Pool,
    private readonly clock: Clock,
    private readonly wrote: () => void,
  ) {}

  async claim(key: string, ttlSeconds: number): Promise<DedupeClaim> {
    validateKey('PostgresStore.dedupe.claim', key);
    validateTtl('PostgresStore.dedupe.claim', ttlSeconds);
    for (let attempt = 0; attempt < 3; attempt++) {
      const now = this.clock.now();
      const { rowCount } = await this.pool.query(
        `INSERT INTO store_dedupe (key, state, reply, expires_at) VALUES ($1, 'in-flight', NULL, $2)
         ON CONFLICT (key) DO UPDATE SET state = 'in-flight', reply = NULL, expires_at = EXCLUDED.expires_at
         WHERE store_dedupe.expires_at <= $3`,
        [key, now + ttlToMs(ttlSeconds), now],
      );
      this.wrote();
      if (rowCount === 1) return { state: 'new' };
      const seen = await this.peek(key);
      if (seen) return seen;
      // released or expired between the two statements: try to take it again
    }
    return { state: 'in-flight' };
  }
  async complete(key: string, reply: string, ttlSeconds: number): Promise<void> {
    validateKey('PostgresStore.dedupe.complete', key);
    validateValue('PostgresStore.dedupe.complete', reply);
    validateTtl('PostgresStore.dedupe.complete', ttlSeconds);
    await this.pool.query(
      `INSERT INTO store_dedupe (key, state, reply, expires_at) VALUES ($1, 'done', $2, $3)
       ON CONFLICT (key) DO UPDATE SET state = 'done', reply = EXCLUDED.reply, expires_at = EXCLUDED.expires_at`,
      [key, reply, this.clock.now() + ttlToMs(ttlSeconds)],
    );
  }
  async peek(key: string): Promise<DedupeClaim | undefined> {
    validateKey('PostgresStore.dedupe.peek', key);
    const { rows } = await this.pool.query<{ state: 'in-flight' | 'done'; reply: string | null }>(
      'SELECT state, reply FROM store_dedupe WHERE key = $1 AND expires_at > $2',
      [key, this.clock.now()],
    );
    const row = rows[0];
    if (!row) return undefined;
    return row.state === 'done' ? { state: 'done', reply: row.reply ?? '' } : { state: 'in-flight' };
  }
  async release(key: string): Promise<void> {
    validateKey('PostgresStore.dedupe.release', key);
    await this.pool.query("DELETE FROM store_dedupe WHERE key = $1 AND state = 'in-flight'", [key]);
  }
}

// === Request bindings

/**
 * `BindingStore` on the `store_bindings` table: an upsert that only takes an absent or expired key;
 * when it loses, a fresh read reports the live digest (retried if the row expired in between).
 *
 * @example await store.bindings.bind('sig:1714036504:1514711492:f464…', digest, 661) // → 'bound'
 * @see https://www.postgresql.org/docs/current/sql-insert.html#SQL-ON-CONFLICT
 */
export class PostgresBindingStore implements BindingStore {
  constructor(
    private readonly pool: Pool,
    private readonly clock: Clock,
    private readonly wrote: () => void,
  ) {}

  async bind(key: string, digest: string, ttlSeconds: number): Promise<Binding> {
    validateKey('PostgresStore.bindings.bind', key);
    validateValue('PostgresStore.bindings.bind', digest);
    validateTtl('PostgresStore.bindings.bind', ttlSeconds);
    for (let attempt = 0; attempt < 3; attempt++) {
      const now = this.clock.now();
      const { rowCount } = await this.pool.query(
        `INSERT INTO store_bindings (key, digest, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (key) DO UPDATE SET digest = EXCLUDED.digest, expires_at = EXCLUDED.expires_at
         WHERE store_bindings.expires_at <= $4`,
        [key, digest, now + ttlToMs(ttlSeconds), now],
      );
      this.wrote();
      if (rowCount === 1) return 'bound';
      const { rows } = await this.pool.query<{ digest: string }>('SELECT digest FROM store_bindings WHERE key = $1 AND expires_at > $2', [key, this.clock.now()]);
      if (rows[0]) return rows[0].digest === digest ? 'same' : 'other';
      // expired between the two statements: try to take it again
    }
    // A binding that keeps expiring under us cannot be trusted to be ours.
    return 'other';
  }
}

// === Counters

/**
 * `CounterStore` on the `store_counters` table; `incrementWithin` is one upsert whose `WHERE` refuses
 * the increment that would pass the limit (an expired window restarts at `by`).
 *
 * @example await store.counters.incrementWithin('redpack:minute', 1, 100, 60);
 * @see https://www.postgresql.org/docs/current/sql-insert.html#SQL-ON-CONFLICT
 */
export class PostgresCounterStore implements CounterStore {
  constructor(
    private readonly pool: Pool,
    private readonly clock: Clock,
    private readonly wrote: () => void,
  ) {}

  async incrementWithin(key: string, by: number, limit: number, ttlSeconds: number): Promise<{ allowed: boolean; value: number }> {
    validateKey('PostgresStore.counters.incrementWithin', key);
    validateIncrement('PostgresStore.counters.incrementWithin', by, limit);
    validateTtl('PostgresStore.counters.incrementWithin', ttlSeconds);
    if (by > limit) return { allowed: false, value: await this.get(key) };
    const now = this.clock.now();
    const { rows } = await this.pool.query<{ value: string }>(
      `INSERT INTO store_counters AS c (key, value, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (key) DO UPDATE SET
         value      = CASE WHEN c.expires_at <= $4 THEN EXCLUDED.value ELSE c.value + EXCLUDED.value END,
         expires_at = CASE WHEN c.expires_at <= $4 THEN EXCLUDED.expires_at ELSE c.expires_at END
       WHERE (CASE WHEN c.expires_at <= $4 THEN 0 ELSE c.value END) + EXCLUDED.value <= $5
       RETURNING value`,
      [key, by, now + ttlToMs(ttlSeconds), now, limit],
    );
    this.wrote();
    if (rows[0]) return { allowed: true, value: Number(rows[0].value) };
    return { allowed: false, value: await this.get(key) };
  }
  async get(key: string): Promise<number> {
    validateKey('PostgresStore.counters.get', key);
    const { rows } = await this.pool.query<{ value: string }>('SELECT value FROM store_counters WHERE key = $1 AND expires_at > $2', [key, this.clock.now()]);
    return Number(rows[0]?.value ?? 0);
  }
}

// === The whole store

/** Options of {@link PostgresStore.connect} and {@link PostgresStore.fromPool}. */
export interface PostgresStoreOptions {
  /** Decides expiry (default: the system clock). */
  clock?: Clock;
  /**
   * Keep every table (store, ledger, `schema_migrations`) in this schema: created when missing and put
   * first on each connection's `search_path`. Only with `connect()`; an injected pool brings its own.
   * Lower-case letters, digits and `_`.
   */
  schema?: string;
  /** Extra pg pool settings (`max`, timeouts, `ssl`…); `connectionString` comes from `url`. */
  pool?: Omit<PoolConfig, 'connectionString'>;
}

/**
 * kv, dedupe and counters on PostgreSQL. The pool is exposed as `pool` so the rewards ledger and
 * outbox share it (and its schema); `close()` ends the pool when this store created it.
 *
 * @example
 * const store = await PostgresStore.connect('postgres://postgres@127.0.0.1:5432/bot');
 * await store.kv.set('token', json, 7000);
 * await store.close();
 * @see https://node-postgres.com/apis/pool
 */
export class PostgresStore implements Store {
  readonly driver = 'postgres' as const;
  readonly kv: PostgresKeyValueStore;
  readonly dedupe: PostgresDedupeStore;
  readonly bindings: PostgresBindingStore;
  readonly counters: PostgresCounterStore;
  readonly backends: { readonly postgres: PostgresStore };
  private closed = false;
  private writes = 0;
  private sweeping: Promise<number> | undefined;

  private constructor(
    /** The pg pool, shared with the ledger; do not `end()` it yourself. */
    readonly pool: Pool,
    /** The schema given to `connect()`, if any. */
    readonly schema: string | undefined,
    private readonly clock: Clock,
    private readonly ownsPool: boolean,
  ) {
    const wrote = () => this.wrote();
    this.kv = new PostgresKeyValueStore(pool, clock, wrote);
    this.dedupe = new PostgresDedupeStore(pool, clock, wrote);
    this.bindings = new PostgresBindingStore(pool, clock, wrote);
    this.counters = new PostgresCounterStore(pool, clock, wrote);
    this.backends = { postgres: this };
  }

  /**
   * Creates a pool for `url`, checks it answers, creates `schema` when given, and migrates the store
   * tables. Errors never contain the URL (it may hold a password).
   *
   * @example const store = await PostgresStore.connect(process.env.DATABASE_URL!, { schema: 'bot' });
   * @see https://node-postgres.com/features/connecting
   */
  static async connect(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    if (typeof url !== 'string' || !/^postgres(ql)?:\/\//.test(url)) {
      throw new TypeError('PostgresStore.connect: url must start with postgres:// or postgresql://');
    }
    const clock = checkClock(options.clock);
    const schema = options.schema;
    if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
      throw new TypeError('PostgresStore.connect: schema must be lower-case letters, digits and _');
    }
    const pool = new Pool({
      ...options.pool,
      connectionString: url,
      ...(schema ? { options: `-c search_path=${schema},public` } : {}),
    });
    pool.on('error', function ignoreIdleClientError() {
      /* an idle client died (server restart); the pool replaces it and the next query reports errors */
    });
    try {
      if (schema) await createSchemaIfMissing(pool, schema); // instances may start together
      await migratePg(pool, 'store', PG_STORE_MIGRATIONS);
    } catch (error) {
      await pool.end().catch(() => undefined);
      if (error instanceof Error && error.name === 'StoreMigrationError') throw error;
      throw new Error(`PostgresStore.connect: cannot reach PostgreSQL at ${urlHost(url, 5432)}`, { cause: redactUrl(error, url) });
    }
    return new PostgresStore(pool, schema, clock, true);
  }

  /**
   * Wraps a pool you created and own (migrating the store tables); `close()` will not end it.
   *
   * @example const store = await PostgresStore.fromPool(pool);
   * @see https://node-postgres.com/apis/pool
   */
  static async fromPool(pool: Pool, options: Pick<PostgresStoreOptions, 'clock'> = {}): Promise<PostgresStore> {
    if (!pool || typeof pool.query !== 'function' || typeof pool.connect !== 'function') {
      throw new TypeError('PostgresStore.fromPool: pool must be a pg Pool');
    }
    const clock = checkClock(options.clock);
    await migratePg(pool, 'store', PG_STORE_MIGRATIONS);
    return new PostgresStore(pool, undefined, clock, false);
  }

  /**
   * Deletes expired kv, dedupe, binding and counter rows (also done in the background every thousand writes).
   * Resolves to how many rows went.
   *
   * @example await store.sweepExpired() // → 3
   * @see https://www.postgresql.org/docs/current/sql-delete.html
   */
  async sweepExpired(): Promise<number> {
    const now = this.clock.now();
    let n = 0;
    n += (await this.pool.query('DELETE FROM store_kv WHERE expires_at IS NOT NULL AND expires_at <= $1', [now])).rowCount ?? 0;
    n += (await this.pool.query('DELETE FROM store_dedupe WHERE expires_at <= $1', [now])).rowCount ?? 0;
    n += (await this.pool.query('DELETE FROM store_counters WHERE expires_at <= $1', [now])).rowCount ?? 0;
    n += (await this.pool.query('DELETE FROM store_bindings WHERE expires_at <= $1', [now])).rowCount ?? 0;
    return n;
  }

  private wrote(): void {
    if (++this.writes < SWEEP_EVERY_WRITES || this.sweeping || this.closed) return;
    this.writes = 0;
    this.sweeping = this.sweepExpired()
      .catch(() => 0)
      .finally(() => {
        this.sweeping = undefined;
      });
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Error('PostgresStore: closed');
    await this.pool.query('SELECT 1');
  }

  /** Ends the pool when this store created it (idempotent; waits for a running sweep). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.sweeping;
    if (this.ownsPool) await this.pool.end();
  }
}

function checkClock(clock: Clock | undefined): Clock {
  const c = clock ?? systemClock;
  if (typeof c?.now !== 'function') throw new TypeError('PostgresStore: clock must have now()');
  return c;
}
