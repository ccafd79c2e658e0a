/**
 * The one store factory: kv, dedupe, counters and bindings (from {@link createStore}) plus the money
 * stores — the rewards ledger with its outbox, and the spend-and-get orders — on the store's durable
 * backend. The bot and every CLI command open their stores here, so where the ledger lives is decided
 * once ({@link durableHomeOf}):
 *
 * | backends of the store | ledger, orders and card members                                 |
 * |-----------------------|-----------------------------------------------------------------|
 * | `postgres`            | the store's PostgreSQL pool                                     |
 * | `sqlite`              | the SQLite file, on ONE connection of their own, `synchronous=FULL` |
 * | none (memory driver)  | memory                                                          |
 *
 * Each ledger adapter only stores; the money rules are put over it here ({@link withLedgerRules}),
 * and the bill-tag rules of BOT_BILLNO_TAG handed to it ({@link ledgerTagRules}): the one place in
 * `src/store/` that composes storage with the domain.
 *
 * A commit of money survives power loss on SQLite (`FULL`), while the store's kv/dedupe connection
 * may trade that for speed (`NORMAL`; synchronous is per connection in WAL mode).
 *
 * @example
 * const stores = await openStores({ ...settings.store, clock });
 * await stores.ledger.recordGrant(…); await stores.kv.get('k');
 * await stores.close();
 * @see https://www.sqlite.org/pragma.html#pragma_synchronous
 */
import type { Pool } from 'pg';
import type { Ledger } from '../rewards/ledger';
import { ledgerTagRules } from '../rewards/bill-no';
import { withLedgerRules } from '../rewards/ledger-plans';
import type { MemberStoreWithNumbers } from '../cards/member-store';
import type { OrderStore } from '../spend/order-store';
import { createStore, type CompositeStore, type CreateStoreOptions } from './create-store';
import { createMemoryLedger } from './memory-ledger';
import { createMemoryMemberStore } from './memory-members';
import { createMemoryOrderStore } from './memory-orders';
import { openPgPool } from './pg-migrate';
import { SqliteLedger } from './sqlite-ledger';
import { SqliteMemberStore } from './sqlite-members';
import { openSqlite } from './sqlite-migrate';
import { SqliteOrderStore } from './sqlite-orders';

/** The money stores: the ledger (grants and outbox) and the spend-and-get orders, closed together. */
export interface DurableStores {
  readonly ledger: Ledger;
  /** Orders recorded from WeChat Pay payment notifications (spend-and-get). */
  readonly orders: OrderStore;
  /** Member-card members (issue 17) and their membership numbers. */
  readonly members: MemberStoreWithNumbers;
  /** Closes both and what was opened for them (never a pool or connection the store owns). */
  close(): Promise<void>;
}

/** Everything a process stores: the {@link CompositeStore} and the {@link DurableStores} beside it. */
export interface Stores extends CompositeStore {
  readonly ledger: Ledger;
  readonly orders: OrderStore;
  readonly members: MemberStoreWithNumbers;
}

/** Options of {@link openStores}; `settings.store` from `loadSettings()` fits as is. */
export interface OpenStoresOptions extends CreateStoreOptions {
  /** BOT_BILLNO_TAG: the tag of a new ledger; an existing ledger's tag must equal it. */
  billNoTag?: string;
}

/** Where the money stores live. */
export type DurableHome =
  { readonly kind: 'postgres'; readonly pool: Pool; readonly ownsPool: boolean } | { readonly kind: 'sqlite'; readonly file: string } | { readonly kind: 'memory' };

/**
 * THE choice of the durable backend for a store: its PostgreSQL pool, else the SQLite file
 * `sqlitePath`, else (memory driver, or a bare store without backends) memory.
 *
 * @example durableHomeOf(store, settings.store.sqlitePath) // → { kind: 'sqlite', file: '…/wechat-bot.sqlite' }
 */
export function durableHomeOf(store: Partial<Pick<CompositeStore, 'backends'>>, sqlitePath: string): DurableHome {
  if (store.backends?.postgres) return { kind: 'postgres', pool: store.backends.postgres.pool, ownsPool: false };
  if (store.backends?.sqlite) return { kind: 'sqlite', file: sqlitePath };
  return { kind: 'memory' };
}

/**
 * Opens and migrates the ledger and the orders at `home`. Fails (closing what it opened) when the
 * ledger's bill tag is not `billNoTag`.
 *
 * @example const { ledger, orders, close } = await openDurable({ kind: 'sqlite', file: 'data/wechat-bot.sqlite' });
 * @see https://node-postgres.com/apis/pool
 */
export async function openDurable(home: DurableHome, options: { billNoTag?: string } = {}): Promise<DurableStores> {
  // The tag rules of BOT_BILLNO_TAG, built where a malformed tag is refused before a ledger is touched
  // (and what was opened for it closed).
  const tags = () => ledgerTagRules(options.billNoTag);
  if (home.kind === 'memory')
    return {
      ledger: withLedgerRules(createMemoryLedger({ tags: tags() })),
      orders: createMemoryOrderStore(),
      members: createMemoryMemberStore(),
      close: async () => undefined,
    };
  if (home.kind === 'postgres') {
    const { pool, ownsPool } = home;
    const release = async () => {
      if (ownsPool) await pool.end().catch(() => undefined);
    };
    try {
      const { PostgresLedger } = require('./postgres-ledger') as typeof import('./postgres-ledger');
      const { PostgresOrderStore } = require('./postgres-orders') as typeof import('./postgres-orders');
      const ledger = withLedgerRules(await PostgresLedger.create(pool, { tags: tags() }));
      const { PostgresMemberStore } = require('./postgres-members') as typeof import('./postgres-members');
      const orders = await PostgresOrderStore.create(pool);
      const members = await PostgresMemberStore.create(pool);
      return { ledger, orders, members, close: release };
    } catch (error) {
      await release();
      throw error;
    }
  }
  const db = openSqlite(home.file, { synchronous: 'FULL' });
  try {
    return {
      ledger: withLedgerRules(SqliteLedger.create(db, { tags: tags() })),
      orders: SqliteOrderStore.create(db),
      members: SqliteMemberStore.create(db),
      close: async () => {
        if (db.open) db.close();
      },
    };
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * Adds the money stores to an open store (the bot's injected store in tests), on its durable backend.
 * `close()` of the result closes the money stores, and the store too when `ownsStore`.
 *
 * @example const stores = await withDurable(await createStore(o), { sqlitePath: o.sqlitePath, ownsStore: true });
 */
export async function withDurable(store: CompositeStore, options: { sqlitePath: string; billNoTag?: string; ownsStore: boolean }): Promise<Stores> {
  const durable = await openDurable(durableHomeOf(store, options.sqlitePath), { billNoTag: options.billNoTag });
  return {
    driver: store.driver,
    backends: store.backends,
    kv: store.kv,
    dedupe: store.dedupe,
    bindings: store.bindings,
    counters: store.counters,
    ledger: durable.ledger,
    orders: durable.orders,
    members: durable.members,
    ping: () => store.ping(),
    close: async function close() {
      try {
        await durable.close();
      } finally {
        if (options.ownsStore) await store.close();
      }
    },
  };
}

/**
 * Opens everything the settings name: {@link createStore}, then the ledger and orders on its durable
 * backend. Fails (closing what it opened) when a service is unreachable or the ledger refuses to open.
 *
 * @example const stores = await openStores(settings.store); … await stores.close();
 * @see https://redis.io/docs/latest/commands/set/
 */
export async function openStores(options: OpenStoresOptions): Promise<Stores> {
  const store = await createStore(options);
  try {
    return await withDurable(store, { sqlitePath: options.sqlitePath, billNoTag: options.billNoTag, ownsStore: true });
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
}

/**
 * Opens only the money stores the settings name, for commands that need no kv/dedupe (so they reach
 * neither Redis nor the kv tables): PostgreSQL on a pool of their own when `DATABASE_URL` is set, else
 * the SQLite file. The same home as {@link openStores} picks for these settings.
 *
 * @example const { ledger, close } = await openDurableStores(settings.store); … await close();
 * @see https://node-postgres.com/apis/pool
 */
export async function openDurableStores(
  options: Pick<OpenStoresOptions, 'sqlitePath' | 'databaseUrl' | 'postgresSchema' | 'billNoTag' | 'driver'>,
): Promise<DurableStores> {
  if (!options || typeof options.sqlitePath !== 'string') throw new TypeError('openDurableStores: sqlitePath is required');
  const home: DurableHome =
    options.driver === 'memory'
      ? { kind: 'memory' }
      : options.databaseUrl && options.driver !== 'sqlite'
        ? { kind: 'postgres', pool: await openPgPool(options.databaseUrl, options.postgresSchema, 'openDurableStores'), ownsPool: true }
        : { kind: 'sqlite', file: options.sqlitePath };
  return openDurable(home, { billNoTag: options.billNoTag });
}
