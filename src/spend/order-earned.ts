/**
 * What a recorded order earned, from the order and its spend grant in the ledger: nothing (the
 * payment failed, or no tier applied), a red packet of an amount in some state, a refusal (a limit
 * said no), or not granted yet. `wechat-bot orders` prints it; the console's orders page shows it.
 *
 * @example describeEarned(orderEarned(order, grant)) // '12.00 yuan SENT'
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import { fenToYuan } from '../lib/money';
import type { LedgerGrant } from '../rewards/ledger';
import type { StoredOrder } from './order-store';

export type OrderEarned =
  /** The payment did not succeed (`state` is WeChat Pay's). */
  | { kind: 'unpaid'; state: string }
  /** Paid, but no spend rule or tier applied. */
  | { kind: 'nothing'; reason: string }
  | { kind: 'granted'; amountFen: number; status: string }
  /** The grant was asked for and refused (a limit, the budget, a closed campaign). */
  | { kind: 'refused'; outcome: string; reason?: string }
  /** A tier applied; the grant is not recorded yet. */
  | { kind: 'pending' };

/**
 * What the order earned; `grant` is its ledger grant (found by transaction id and spend rule), if any.
 *
 * @example orderEarned(order, await ledger.findByKey(order.transactionId, order.decision.ruleId))
 */
export function orderEarned(o: StoredOrder, g: Pick<LedgerGrant, 'outcome' | 'amountFen' | 'status' | 'reason'> | undefined): OrderEarned {
  if (!o.paid) return { kind: 'unpaid', state: o.state };
  if (!o.decision) return { kind: 'nothing', reason: o.skipReason ?? 'no tier' };
  if (g)
    return g.outcome === 'granted'
      ? { kind: 'granted', amountFen: g.amountFen, status: g.status }
      : { kind: 'refused', outcome: g.outcome, reason: g.reason ?? undefined };
  if (o.grant) return { kind: 'refused', outcome: o.grant.outcome, reason: o.grant.reason };
  return { kind: 'pending' };
}

/**
 * The earned value in the words of `wechat-bot orders`.
 *
 * @example describeEarned({ kind: 'pending' }) // 'pending (not granted yet)'
 */
export function describeEarned(e: OrderEarned): string {
  switch (e.kind) {
    case 'unpaid':
      return `nothing (payment ${e.state})`;
    case 'nothing':
      return `nothing (${e.reason})`;
    case 'granted':
      return `${fenToYuan(e.amountFen)} yuan ${e.status}`;
    case 'refused':
      return `${e.outcome}${e.reason ? ` (${e.reason})` : ''}`;
    case 'pending':
      return 'pending (not granted yet)';
  }
}
