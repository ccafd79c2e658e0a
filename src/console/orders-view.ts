/**
 * The orders page's rows (spend-and-get): each recorded payment order, newest first, with the spend
 * rule and tier that applied and what it earned — the figures of `wechat-bot orders`, from the same
 * order store and ledger, through `spend/order-earned.ts`.
 *
 * @example await ordersView({ orders, ledger }, { limit: 50 })
 * @see https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7&index=8
 */
import { fenToYuan } from '../lib/money';
import type { Ledger } from '../rewards/ledger';
import { orderEarned, type OrderEarned } from '../spend/order-earned';
import type { OrderStore } from '../spend/order-store';

export interface OrderRowView {
  id: number;
  /** Epoch ms the notification was first recorded. */
  receivedAt: number;
  transactionId: string;
  openId: string;
  amountYuan: string;
  protocol: string;
  /** `spend-100 ≥ 100.00`, absent when no rule applied. */
  rule?: string;
  earned: OrderEarned;
  /** The packet's amount, for `earned.kind === 'granted'`. */
  earnedYuan?: string;
  billNo?: string;
}

export interface OrdersView {
  rows: OrderRowView[];
  /** The id to pass as `beforeId` for the next (older) page; absent on the last page. */
  nextBeforeId?: number;
}

/** Most orders on one page. */
export const MAX_ORDERS_PAGE = 200;

/**
 * One page of orders (default 50, at most {@link MAX_ORDERS_PAGE}).
 *
 * @example (await ordersView(deps, { limit: 20 })).rows[0]?.earned // { kind: 'granted', amountFen: 1000, status: 'SENT' }
 */
export async function ordersView(
  deps: { orders: Pick<OrderStore, 'listOrders'>; ledger: Pick<Ledger, 'findByKey'> },
  o: { limit?: number; beforeId?: number } = {},
): Promise<OrdersView> {
  const limit = Math.min(Math.max(1, o.limit ?? 50), MAX_ORDERS_PAGE);
  const list = await deps.orders.listOrders({ limit, ...(o.beforeId !== undefined ? { beforeId: o.beforeId } : {}) });
  const rows: OrderRowView[] = [];
  for (const order of list) {
    const g = order.decision ? await deps.ledger.findByKey(order.transactionId, order.decision.ruleId) : undefined;
    const earned = orderEarned(order, g);
    const billNo = g?.billNo ?? order.grant?.billNo;
    rows.push({
      id: order.id,
      receivedAt: order.receivedAt,
      transactionId: order.transactionId,
      openId: order.openId,
      amountYuan: fenToYuan(order.totalFen),
      protocol: order.protocol,
      ...(order.decision ? { rule: `${order.decision.ruleId.replace(/^spend:/, '')} ≥ ${fenToYuan(order.decision.tierMinFen)}` } : {}),
      earned,
      ...(earned.kind === 'granted' ? { earnedYuan: fenToYuan(earned.amountFen) } : {}),
      ...(billNo ? { billNo } : {}),
    });
  }
  return { rows, ...(list.length === limit ? { nextBeforeId: list[list.length - 1].id } : {}) };
}
