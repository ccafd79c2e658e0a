/**
 * Picks the store adapters from config: memory (tests), SQLite (the default: one file, one machine),
 * or a composite for many instances — kv/dedupe/counters on Redis when `REDIS_URL` is set, on
 * PostgreSQL when only `DATABASE_URL` is set — and says where the rewards ledger lives through
 * `backends`.
 *
 * | REDIS_URL | DATABASE_URL | kv / dedupe / counters | `backends` (ledger home)        |
 * |-----------|--------------|------------------------|---------------------------------|
 * | –         | –            | SQLite                 | `{ sqlite }`                    |
 * | –         | set          | PostgreSQL             | `{ postgres }`                  |
 * | set       | –            | Redis                  | `{ redis, sqlite }` (one host!) |
 * | set       | set          | Redis                  | `{ redis, postgres }`           |
 *
 * `driver: 'memory' | 'sqlite'` forces that adapter whatever the URLs say.
 *
 * The bot and the CLI do not call it alone: `openStores()` (`open-stores.ts`) calls it and puts the
 * ledger and the orders on its `backends`, the one place that choice is made.
 *
 * @example
 * const store = await createStore({ ...settings.store, clock: systemClock });
 * await store.kv.set('k', 'v');
 * await store.close();
 * @see https://developers.weixin.qq.com/doc/offiaccount/en/Getting_Started/Overview.html
 */
import type { Clock } from '../lib/clock';
import { systemClock } from '../lib/clock';
import { createMemoryStore } from './memory';
import type { Store } from './ports';
// The PostgreSQL and Redis adapters (and their drivers, ~28 MB of memory) load only when configured.
import type { PostgresStore } from './postgres';
import type { RedisStore } from './redis';
import { SqliteStore } from './sqlite';

/**
 * The concrete adapters behind a store, so components with their own tables (the rewards ledger and
 * outbox) can put them in the same database: on `postgres.pool` when present, else on `sqlite.db`,
 * else (memory driver) in memory. `redis` is there for notifications (pub/sub) and the like.
 */
export interface StoreBackends {
  readonly sqlite?: SqliteStore;
  readonly postgres?: PostgresStore;
  readonly redis?: RedisStore;
}

/** A {@link Store} that also names its backends. What {@link createStore} returns. */
export interface CompositeStore extends Store {
  /**
   * `memory`, `sqlite`, `postgres`, `redis+sqlite` or `redis+postgres` (the last two: Redis holds
   * kv/dedupe/counters; the other one holds the ledger).
   */
  readonly driver: 'memory' | 'sqlite' | 'postgres' | 'redis+sqlite' | 'redis+postgres';
  readonly backends: StoreBackends;
}

/** Options of {@link createStore}; `settings.store` from `loadSettings()` fits as is. */
export interface CreateStoreOptions {
  /** The SQLite file (used unless PostgreSQL holds everything, or the driver is memory). */
  sqlitePath: string;
  /** REDIS_URL: kv, dedupe and counters on Redis. */
  redisUrl?: string;
  /** DATABASE_URL: the ledger (and, without Redis, kv/dedupe/counters) on PostgreSQL. */
  databaseUrl?: string;
  /** Force one embedded adapter, ignoring the URLs. */
  driver?: 'memory' | 'sqlite';
  /** Decides expiry for memory, SQLite and PostgreSQL (Redis always uses its server time). */
  clock?: Clock;
  /** Key prefix on Redis (default `wechat-bot:`). */
  redisPrefix?: string;
  /** Schema on PostgreSQL (default: the connection's search_path, usually `public`). */
  postgresSchema?: string;
  /**
   * `synchronous` of the store's own SQLite connection (default `NORMAL`: kv/dedupe/counters survive
   * any process crash; a power cut may lose the last few dedupe rows, which only means a retry is
   * handled again). The money stores get a connection of their own at `FULL` from `openStores()`
   * (synchronous is per connection in WAL mode).
   */
  sqliteSynchronous?: 'FULL' | 'NORMAL';
}

/**
 * Builds the store the config asks for, connecting and migrating what it needs. Fails (closing what
 * it already opened) when a configured service is unreachable; errors never contain the URLs.
 *
 * Guarantees across processes: those of the adapter holding kv/dedupe/counters — SQLite between
 * processes sharing the file on one host; Redis and PostgreSQL between any number of instances.
 *
 * @example
 * const store = await createStore({ sqlitePath: 'data/bot.sqlite', redisUrl: process.env.REDIS_URL });
 * @see https://redis.io/docs/latest/commands/set/
 */
export async function createStore(options: CreateStoreOptions): Promise<CompositeStore> {
  if (!options || typeof options !== 'object') throw new TypeError('createStore: options are required');
  const { driver, redisUrl, databaseUrl, sqlitePath, redisPrefix, postgresSchema } = options;
  const synchronous = options.sqliteSynchronous ?? 'NORMAL';
  const clock = options.clock ?? systemClock;
  if (driver !== undefined && driver !== 'memory' && driver !== 'sqlite') {
    throw new TypeError("createStore: driver must be 'memory' or 'sqlite' (Redis and PostgreSQL are chosen by URL)");
  }
  if (driver !== 'memory' && (typeof sqlitePath !== 'string' || sqlitePath.length === 0)) {
    throw new TypeError('createStore: sqlitePath must be a non-empty path');
  }

  if (driver === 'memory') return createMemoryStore({ clock });
  if (driver === 'sqlite' || (!redisUrl && !databaseUrl)) return SqliteStore.open(sqlitePath, { clock, synchronous });
  if (!redisUrl) return (require('./postgres') as typeof import('./postgres')).PostgresStore.connect(databaseUrl!, { clock, schema: postgresSchema });

  const opened: Store[] = [];
  try {
    const redis = await (require('./redis') as typeof import('./redis')).RedisStore.connect(redisUrl, { prefix: redisPrefix });
    opened.push(redis);
    if (databaseUrl) {
      const postgres = await (require('./postgres') as typeof import('./postgres')).PostgresStore.connect(databaseUrl, { clock, schema: postgresSchema });
      opened.push(postgres);
      return compose('redis+postgres', redis, { redis, postgres });
    }
    const sqlite = SqliteStore.open(sqlitePath, { clock, synchronous });
    opened.push(sqlite);
    return compose('redis+sqlite', redis, { redis, sqlite });
  } catch (error) {
    await Promise.allSettled(opened.map((s) => s.close()));
    throw error;
  }
}

/** kv/dedupe/counters from `front`; ping and close go to every backend. */
function compose(driver: 'redis+sqlite' | 'redis+postgres', front: Store, backends: StoreBackends): CompositeStore {
  const all = Object.values(backends).filter((b): b is Store => b !== undefined);
  return {
    driver,
    kv: front.kv,
    dedupe: front.dedupe,
    bindings: front.bindings,
    counters: front.counters,
    backends,
    ping: async function ping() {
      await Promise.all(all.map((b) => b.ping()));
    },
    close: async function close() {
      const results = await Promise.allSettled(all.map((b) => b.close()));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}
