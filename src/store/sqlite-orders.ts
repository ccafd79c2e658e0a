/**
 * The order store on SQLite (default): table `spend_orders` in the bot's database file, migrated as
 * component `spend-orders`. `recordOrder` runs in one `BEGIN IMMEDIATE` transaction, so concurrent
 * notifications of one transaction (threads or processes sharing the file) record one row. A lock held
 * by another process never stalls the event loop: every step is retried on timers (`runWhenUnlocked`)
 * until the lock is free, or fails with `OrderStoreError` caused by `StoreBusyError`. Open it on a
 * `synchronous=FULL` connection (as the ledger is): a recorded order survives a power cut before the
 * success answer leaves.
 *
 * @example const orders = SqliteOrderStore.create(openSqlite('data/wechat-bot.sqlite'), { ownsDb: true });
 * @see https://www.sqlite.org/lang_transaction.html
 */
import type { OrderGrant, OrderStore, RecordOrderResult, StoredOrder } from '../spend/order-store';
import { OrderStoreError } from '../lib/store-error';
import { orderParams, rowToOrder, type OrderRow } from './order-rows';
import { runWhenUnlocked } from './run-when-unlocked';
import { migrate, type Database } from './sqlite-migrate';

/** Schema steps of the `spend-orders` component (append-only). */
export const SQLITE_ORDER_MIGRATIONS: readonly string[] = [
  `CREATE TABLE spend_orders (
     id             INTEGER PRIMARY KEY AUTOINCREMENT,
     transaction_id TEXT    NOT NULL UNIQUE,
     out_trade_no   TEXT    NOT NULL,
     app_id         TEXT    NOT NULL,
     mch_id         TEXT    NOT NULL,
     open_id        TEXT    NOT NULL,
     total_fen      INTEGER NOT NULL,
     paid           INTEGER NOT NULL,
     state          TEXT    NOT NULL,
     attach         TEXT    NOT NULL,
     product_tags   TEXT    NOT NULL,
     paid_at        INTEGER,
     protocol       TEXT    NOT NULL,
     trade_type     TEXT,
     decision       TEXT,
     skip_reason    TEXT,
     grant_info     TEXT,
     received_at    INTEGER NOT NULL,
     updated_at     INTEGER NOT NULL
   )`,
];

/**
 * Order store over a better-sqlite3 connection.
 *
 * @example const orders = SqliteOrderStore.create(db);
 * @see https://github.com/WiseLibs/better-sqlite3/blob/master/docs/api.md#transactionfunction---function
 */
export class SqliteOrderStore implements OrderStore {
  private readonly recordTx: (p: ReturnType<typeof orderParams>) => Promise<RecordOrderResult>;

  private constructor(
    readonly db: Database,
    private readonly ownsDb: boolean,
  ) {
    const byTx = db.prepare<[string], OrderRow>('SELECT * FROM spend_orders WHERE transaction_id = ?');
    const insert = db.prepare(
      `INSERT INTO spend_orders (transaction_id, out_trade_no, app_id, mch_id, open_id, total_fen, paid, state, attach, product_tags,
         paid_at, protocol, trade_type, decision, skip_reason, received_at, updated_at)
       VALUES (@transactionId, @outTradeNo, @appId, @mchId, @openId, @totalFen, @paid, @state, @attach, @productTags,
         @paidAt, @protocol, @tradeType, @decision, @skipReason, @now, @now)`,
    );
    const upgrade = db.prepare(
      `UPDATE spend_orders SET out_trade_no = @outTradeNo, app_id = @appId, mch_id = @mchId, open_id = @openId, total_fen = @totalFen,
         paid = @paid, state = @state, attach = @attach, product_tags = @productTags, paid_at = @paidAt, protocol = @protocol,
         trade_type = @tradeType, decision = @decision, skip_reason = @skipReason, grant_info = NULL, updated_at = @now
       WHERE transaction_id = @transactionId AND paid = 0`,
    );
    const tx = db.transaction((p: ReturnType<typeof orderParams>): RecordOrderResult => {
      const have = byTx.get(p.transactionId);
      const sqlParams = { ...p, paid: p.paid ? 1 : 0 };
      if (!have) {
        insert.run(sqlParams);
        return { duplicate: false, upgraded: false, order: rowToOrder(byTx.get(p.transactionId)!) };
      }
      if (!rowToOrder(have).paid && p.paid) {
        upgrade.run(sqlParams);
        return { duplicate: false, upgraded: true, order: rowToOrder(byTx.get(p.transactionId)!) };
      }
      return { duplicate: true, upgraded: false, order: rowToOrder(have) };
    });
    this.recordTx = (p) => runWhenUnlocked(db, () => tx.immediate(p));
  }

  /**
   * Migrates and wraps a connection; `ownsDb` makes `close()` close it.
   *
   * @example SqliteOrderStore.create(openSqlite(file), { ownsDb: true })
   * @see https://www.sqlite.org/pragma.html#pragma_synchronous
   */
  static create(db: Database, options: { ownsDb?: boolean } = {}): SqliteOrderStore {
    migrate(db, 'spend-orders', SQLITE_ORDER_MIGRATIONS);
    return new SqliteOrderStore(db, options.ownsDb ?? false);
  }

  async recordOrder(order: Parameters<OrderStore['recordOrder']>[0], d: Parameters<OrderStore['recordOrder']>[1]): Promise<RecordOrderResult> {
    try {
      return await this.recordTx(orderParams(order, d));
    } catch (error) {
      throw new OrderStoreError('the order could not be recorded', error);
    }
  }

  async setGrant(transactionId: string, grant: OrderGrant): Promise<boolean> {
    try {
      const r = await runWhenUnlocked(this.db, () =>
        this.db
          .prepare('UPDATE spend_orders SET grant_info = ?, updated_at = ? WHERE transaction_id = ? AND grant_info IS NULL')
          .run(JSON.stringify(grant), grant.at, transactionId),
      );
      return r.changes === 1;
    } catch (error) {
      throw new OrderStoreError("the order's grant could not be stored", error);
    }
  }

  async findOrder(transactionId: string): Promise<StoredOrder | undefined> {
    const row = await runWhenUnlocked(this.db, () => this.db.prepare<[string], OrderRow>('SELECT * FROM spend_orders WHERE transaction_id = ?').get(transactionId));
    return row ? rowToOrder(row) : undefined;
  }

  async listOrders(opts: { limit?: number; beforeId?: number } = {}): Promise<StoredOrder[]> {
    const rows = await runWhenUnlocked(this.db, () =>
      this.db
        .prepare<[number, number], OrderRow>('SELECT * FROM spend_orders WHERE id < ? ORDER BY id DESC LIMIT ?')
        .all(opts.beforeId ?? Number.MAX_SAFE_INTEGER, opts.limit ?? 100),
    );
    return rows.map(rowToOrder);
  }

  async close(): Promise<void> {
    if (this.ownsDb && this.db.open) this.db.close();
  }
}
