/**
 * Row ⇄ {@link StoredOrder} conversion shared by the SQLite and PostgreSQL order stores (the same
 * columns on both; JSON in TEXT columns, times as epoch ms).
 *
 * @example const order = rowToOrder(db.prepare('SELECT * FROM spend_orders WHERE id = ?').get(1));
 * @see https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7&index=8
 */
import type { PaymentOrder } from '../spend/payment-order';
import type { OrderGrant, StoredOrder } from '../spend/order-store';
import type { SpendDecision } from '../spend/select-spend-tier';

/** One `spend_orders` row as a driver returns it (PostgreSQL BIGINTs arrive as strings). */
export interface OrderRow {
  id: number | string;
  transaction_id: string;
  out_trade_no: string;
  app_id: string;
  mch_id: string;
  open_id: string;
  total_fen: number | string;
  paid: number | boolean;
  state: string;
  attach: string;
  product_tags: string;
  paid_at: number | string | null;
  protocol: string;
  trade_type: string | null;
  decision: string | null;
  skip_reason: string | null;
  grant_info: string | null;
  received_at: number | string;
  updated_at: number | string;
}

const num = (v: number | string): number => (typeof v === 'number' ? v : Number(v));

/** A row → a stored order. */
export function rowToOrder(r: OrderRow): StoredOrder {
  return {
    id: num(r.id),
    transactionId: r.transaction_id,
    outTradeNo: r.out_trade_no,
    appId: r.app_id,
    mchId: r.mch_id,
    openId: r.open_id,
    totalFen: num(r.total_fen),
    paid: r.paid === true || r.paid === 1,
    state: r.state,
    attach: r.attach,
    productTags: JSON.parse(r.product_tags) as string[],
    paidAt: r.paid_at === null ? undefined : num(r.paid_at),
    protocol: r.protocol === 'v3' ? 'v3' : 'v2',
    tradeType: r.trade_type ?? undefined,
    decision: r.decision === null ? null : (JSON.parse(r.decision) as SpendDecision),
    skipReason: r.skip_reason,
    grant: r.grant_info === null ? null : (JSON.parse(r.grant_info) as OrderGrant),
    receivedAt: num(r.received_at),
    updatedAt: num(r.updated_at),
  };
}

/** The column values of a new row (named parameters). */
export function orderParams(o: PaymentOrder, d: { decision: SpendDecision | null; skipReason: string | null; now: number }) {
  return {
    transactionId: o.transactionId,
    outTradeNo: o.outTradeNo,
    appId: o.appId,
    mchId: o.mchId,
    openId: o.openId,
    totalFen: o.totalFen,
    paid: o.paid,
    state: o.state,
    attach: o.attach,
    productTags: JSON.stringify(o.productTags),
    paidAt: o.paidAt ?? null,
    protocol: o.protocol,
    tradeType: o.tradeType ?? null,
    decision: d.decision ? JSON.stringify(d.decision) : null,
    skipReason: d.skipReason,
    now: d.now,
  };
}
