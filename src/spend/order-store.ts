/**
 * The order store port: every payment notification's order, recorded durably BEFORE the bot answers
 * WeChat Pay with success, with the spend decision fixed at first record and what the order earned.
 * Adapters (all pass `test/spend/order-store-contract.ts`):
 *
 * - `src/store/memory-orders.ts`    `createMemoryOrderStore()`       (tests)
 * - `src/store/sqlite-orders.ts`    `SqliteOrderStore.create(db)`    (default; beside the ledger, synchronous=FULL)
 * - `src/store/postgres-orders.ts`  `PostgresOrderStore.create(pool)` (many instances)
 *
 * ## Guarantees
 * - `recordOrder` is atomic per `transactionId`: concurrent calls record one row; the others get it back
 *   with `duplicate: true` (and its first decision). A failed payment recorded first is upgraded once
 *   when a successful notification of the same transaction arrives (`upgraded: true`).
 * - `setGrant` fills what the order earned once; later calls change nothing.
 *
 * @example
 * const { duplicate, order } = await orders.recordOrder(paymentOrder, { decision, skipReason, now });
 * @see https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7&index=8
 */
import type { PaymentOrder } from './payment-order';
import type { SpendDecision } from './select-spend-tier';

/** What an order earned (the grant's first answer). */
export interface OrderGrant {
  outcome: string;
  amountFen?: number;
  billNo?: string;
  reason?: string;
  at: number;
}

/** An order as stored. */
export interface StoredOrder extends PaymentOrder {
  id: number;
  /** The rule and tier that applied (null: none, see `skipReason`). */
  decision: SpendDecision | null;
  skipReason: string | null;
  grant: OrderGrant | null;
  receivedAt: number;
  updatedAt: number;
}

/** `recordOrder`'s answer. */
export interface RecordOrderResult {
  /** True when the transaction was recorded before (nothing new recorded now). */
  duplicate: boolean;
  /** True when a failed payment's row became a successful one now. */
  upgraded: boolean;
  order: StoredOrder;
}

export interface OrderStore {
  /** Records an order with its decision, atomically per transaction id (see the module doc). */
  recordOrder(order: PaymentOrder, d: { decision: SpendDecision | null; skipReason: string | null; now: number }): Promise<RecordOrderResult>;
  /** Stores what the order earned, unless already stored. Returns false when it was already set (or no such order). */
  setGrant(transactionId: string, grant: OrderGrant): Promise<boolean>;
  findOrder(transactionId: string): Promise<StoredOrder | undefined>;
  /** Newest first; `beforeId` pages. */
  listOrders(opts?: { limit?: number; beforeId?: number }): Promise<StoredOrder[]>;
  close(): Promise<void>;
}

/** The order store could not be read or written (the notification is answered FAIL, WeChat re-sends); defined beside `StoreError` (lib/store-error.ts), so the adapters throw it too. */
export { OrderStoreError } from '../lib/store-error';
