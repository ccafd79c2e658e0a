/**
 * The order store on PostgreSQL (many instances): table `spend_orders`, migrated as component
 * `spend-orders`. `recordOrder` is `INSERT … ON CONFLICT (transaction_id) DO NOTHING` then, for a
 * conflict, a conditional upgrade (`WHERE paid = false`) or a read — each statement atomic, so any
 * number of instances record one row per transaction.
 *
 * @example const orders = await PostgresOrderStore.create(pool);
 * @see https://www.postgresql.org/docs/current/sql-insert.html#SQL-ON-CONFLICT
 */
import type { Pool } from 'pg';
import type { OrderGrant, OrderStore, RecordOrderResult, StoredOrder } from '../spend/order-store';
import { OrderStoreError } from '../lib/store-error';
import { orderParams, rowToOrder, type OrderRow } from './order-rows';
import { migratePg } from './pg-migrate';

/** Schema steps of the `spend-orders` component (append-only). */
export const PG_ORDER_MIGRATIONS: readonly string[] = [
  `CREATE TABLE spend_orders (
     id             BIGSERIAL PRIMARY KEY,
     transaction_id TEXT    NOT NULL UNIQUE,
     out_trade_no   TEXT    NOT NULL,
     app_id         TEXT    NOT NULL,
     mch_id         TEXT    NOT NULL,
     open_id        TEXT    NOT NULL,
     total_fen      BIGINT  NOT NULL,
     paid           BOOLEAN NOT NULL,
     state          TEXT    NOT NULL,
     attach         TEXT    NOT NULL,
     product_tags   TEXT    NOT NULL,
     paid_at        BIGINT,
     protocol       TEXT    NOT NULL,
     trade_type     TEXT,
     decision       TEXT,
     skip_reason    TEXT,
     grant_info     TEXT,
     received_at    BIGINT  NOT NULL,
     updated_at     BIGINT  NOT NULL
   )`,
];

const COLS = 'transaction_id, out_trade_no, app_id, mch_id, open_id, total_fen, paid, state, attach, product_tags, paid_at, protocol, trade_type, decision, skip_reason';

/**
 * Order store over a `pg` pool.
 *
 * @example const orders = await PostgresOrderStore.create(pool, { ownsPool: true });
 * @see https://node-postgres.com/apis/pool
 */
export class PostgresOrderStore implements OrderStore {
  private constructor(
    readonly pool: Pool,
    private readonly ownsPool: boolean,
  ) {}

  /**
   * Migrates and wraps a pool; `ownsPool` makes `close()` end it.
   *
   * @example await PostgresOrderStore.create(pool)
   * @see https://www.postgresql.org/docs/current/ddl.html
   */
  static async create(pool: Pool, options: { ownsPool?: boolean } = {}): Promise<PostgresOrderStore> {
    await migratePg(pool, 'spend-orders', PG_ORDER_MIGRATIONS);
    return new PostgresOrderStore(pool, options.ownsPool ?? false);
  }

  async recordOrder(order: Parameters<OrderStore['recordOrder']>[0], d: Parameters<OrderStore['recordOrder']>[1]): Promise<RecordOrderResult> {
    const p = orderParams(order, d);
    const values = [
      p.transactionId,
      p.outTradeNo,
      p.appId,
      p.mchId,
      p.openId,
      p.totalFen,
      p.paid,
      p.state,
      p.attach,
      p.productTags,
      p.paidAt,
      p.protocol,
      p.tradeType,
      p.decision,
      p.skipReason,
      p.now,
    ];
    try {
      const ins = await this.pool.query<OrderRow>(
        `INSERT INTO spend_orders (${COLS}, received_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)
         ON CONFLICT (transaction_id) DO NOTHING RETURNING *`,
        values,
      );
      if (ins.rows[0]) return { duplicate: false, upgraded: false, order: rowToOrder(ins.rows[0]) };
      if (p.paid) {
        const up = await this.pool.query<OrderRow>(
          `UPDATE spend_orders SET out_trade_no = $2, app_id = $3, mch_id = $4, open_id = $5, total_fen = $6, paid = $7, state = $8,
             attach = $9, product_tags = $10, paid_at = $11, protocol = $12, trade_type = $13, decision = $14, skip_reason = $15,
             grant_info = NULL, updated_at = $16
           WHERE transaction_id = $1 AND paid = false RETURNING *`,
          values,
        );
        if (up.rows[0]) return { duplicate: false, upgraded: true, order: rowToOrder(up.rows[0]) };
      }
      const have = await this.pool.query<OrderRow>('SELECT * FROM spend_orders WHERE transaction_id = $1', [p.transactionId]);
      return { duplicate: true, upgraded: false, order: rowToOrder(have.rows[0]) };
    } catch (error) {
      throw new OrderStoreError('the order could not be recorded', error);
    }
  }

  async setGrant(transactionId: string, grant: OrderGrant): Promise<boolean> {
    try {
      const r = await this.pool.query('UPDATE spend_orders SET grant_info = $1, updated_at = $2 WHERE transaction_id = $3 AND grant_info IS NULL', [
        JSON.stringify(grant),
        grant.at,
        transactionId,
      ]);
      return r.rowCount === 1;
    } catch (error) {
      throw new OrderStoreError("the order's grant could not be stored", error);
    }
  }

  async findOrder(transactionId: string): Promise<StoredOrder | undefined> {
    const r = await this.pool.query<OrderRow>('SELECT * FROM spend_orders WHERE transaction_id = $1', [transactionId]);
    return r.rows[0] ? rowToOrder(r.rows[0]) : undefined;
  }

  async listOrders(opts: { limit?: number; beforeId?: number } = {}): Promise<StoredOrder[]> {
    const r = await this.pool.query<OrderRow>('SELECT * FROM spend_orders WHERE id < $1 ORDER BY id DESC LIMIT $2', [
      opts.beforeId ?? Number.MAX_SAFE_INTEGER,
      opts.limit ?? 100,
    ]);
    return r.rows.map(rowToOrder);
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }
}
