/**
 * Opens the order store where the ledger lives: PostgreSQL when `DATABASE_URL` is set, else the SQLite
 * file on a `synchronous=FULL` connection of its own (an order acknowledged to WeChat Pay survives a
 * power cut). `orderStoreFor` does the same from a running bot's store backends.
 *
 * @example const orders = await openOrderStore(settings.store); … await orders.close();
 * @see https://www.sqlite.org/pragma.html#pragma_synchronous
 */
import type { OrderStore } from '../spend/order-store';
import type { CompositeStore } from './create-store';
import { createMemoryOrderStore } from './memory-orders';
import { createSchemaIfMissing } from './pg-migrate';
import { SqliteOrderStore } from './sqlite-orders';
import { openSqlite } from './sqlite-migrate';

/**
 * Opens and migrates the order store from settings (`settings.store` fits as is).
 *
 * @example const orders = await openOrderStore({ sqlitePath: 'data/wechat-bot.sqlite' });
 * @see https://node-postgres.com/apis/pool
 */
export async function openOrderStore(options: { sqlitePath: string; databaseUrl?: string; postgresSchema?: string }): Promise<OrderStore> {
  if (!options || typeof options.sqlitePath !== 'string') throw new TypeError('openOrderStore: sqlitePath is required');
  if (options.databaseUrl) {
    const schema = options.postgresSchema;
    if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new TypeError('openOrderStore: postgresSchema must be a plain identifier');
    // The schema the bot uses (BOT_PG_SCHEMA), so commands see the bot's orders.
    const { Pool } = require('pg') as typeof import('pg');
    const { PostgresOrderStore } = require('./postgres-orders') as typeof import('./postgres-orders');
    const pool = new Pool({ connectionString: options.databaseUrl, ...(schema ? { options: `-c search_path=${schema}` } : {}) });
    try {
      if (schema) await createSchemaIfMissing(pool, schema);
      return await PostgresOrderStore.create(pool, { ownsPool: true });
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
  }
  return SqliteOrderStore.create(openSqlite(options.sqlitePath, { synchronous: 'FULL' }), { ownsDb: true });
}

/**
 * The order store beside a running bot's ledger: its PostgreSQL pool, else its SQLite file, else memory.
 *
 * @example const orders = await orderStoreFor(store, settings.store.sqlitePath);
 * @see https://www.sqlite.org/wal.html
 */
export async function orderStoreFor(store: Pick<CompositeStore, 'backends'>, sqlitePath: string): Promise<OrderStore> {
  if (store.backends?.postgres) return (require('./postgres-orders') as typeof import('./postgres-orders')).PostgresOrderStore.create(store.backends.postgres.pool);
  if (store.backends?.sqlite) return SqliteOrderStore.create(openSqlite(sqlitePath, { synchronous: 'FULL' }), { ownsDb: true });
  return createMemoryOrderStore();
}
