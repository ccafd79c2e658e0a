/**
 * Opens the order store where the ledger lives: PostgreSQL when `DATABASE_URL` is set, else the SQLite
 * file on a `synchronous=FULL` connection of its own (an order acknowledged to WeChat Pay survives a
 * power cut).
 *
 * @example const orders = await openOrderStore(settings.store); … await orders.close();
 * @see https://www.sqlite.org/pragma.html#pragma_synchronous
 */
import type { OrderStore } from '../spend/order-store';
import { openPgPool } from './pg-migrate';
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
    // The schema the bot uses (BOT_PG_SCHEMA), so commands see the bot's orders.
    const pool = await openPgPool(options.databaseUrl, options.postgresSchema, 'openOrderStore');
    const { PostgresOrderStore } = require('./postgres-orders') as typeof import('./postgres-orders');
    try {
      return await PostgresOrderStore.create(pool, { ownsPool: true });
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
  }
  return SqliteOrderStore.create(openSqlite(options.sqlitePath, { synchronous: 'FULL' }), { ownsDb: true });
}
