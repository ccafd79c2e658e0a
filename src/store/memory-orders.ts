/**
 * The order store in memory (tests, one process). Same guarantees as the durable adapters inside one
 * process: every method runs synchronously between awaits, so `recordOrder` is atomic per transaction.
 *
 * @example const orders = createMemoryOrderStore();
 * @see https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7&index=8
 */
import type { OrderGrant, OrderStore, RecordOrderResult, StoredOrder } from '../spend/order-store';

/**
 * Builds an empty in-memory order store.
 *
 * @example const { duplicate } = await createMemoryOrderStore().recordOrder(order, { decision: null, skipReason: 'x', now: 0 });
 * @see https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7&index=8
 */
export function createMemoryOrderStore(): OrderStore {
  const byTx = new Map<string, StoredOrder>();
  let seq = 0;
  const copy = (o: StoredOrder): StoredOrder => structuredClone(o);
  return {
    async recordOrder(order, d): Promise<RecordOrderResult> {
      const have = byTx.get(order.transactionId);
      if (have) {
        if (!have.paid && order.paid) {
          const up: StoredOrder = {
            ...structuredClone(order),
            id: have.id,
            decision: d.decision,
            skipReason: d.skipReason,
            grant: null,
            receivedAt: have.receivedAt,
            updatedAt: d.now,
          };
          byTx.set(order.transactionId, up);
          return { duplicate: false, upgraded: true, order: copy(up) };
        }
        return { duplicate: true, upgraded: false, order: copy(have) };
      }
      seq += 1;
      const row: StoredOrder = { ...structuredClone(order), id: seq, decision: d.decision, skipReason: d.skipReason, grant: null, receivedAt: d.now, updatedAt: d.now };
      byTx.set(order.transactionId, row);
      return { duplicate: false, upgraded: false, order: copy(row) };
    },
    async setGrant(transactionId: string, grant: OrderGrant) {
      const have = byTx.get(transactionId);
      if (!have || have.grant) return false;
      have.grant = { ...grant };
      have.updatedAt = grant.at;
      return true;
    },
    async findOrder(transactionId) {
      const o = byTx.get(transactionId);
      return o ? copy(o) : undefined;
    },
    async listOrders(opts = {}) {
      const limit = opts.limit ?? 100;
      return [...byTx.values()]
        .filter((o) => opts.beforeId === undefined || o.id < opts.beforeId)
        .sort((a, b) => b.id - a.id)
        .slice(0, limit)
        .map(copy);
    },
    async close() {},
  };
}
