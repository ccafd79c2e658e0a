/**
 * The spend-and-get decision for one payment notification, after the edge verified it: record the order
 * durably with its decision (rule and tier fixed at first record), grant the payer's red packet through
 * the rewards service (`dedupeKey` = transaction id, `amountFen` = the tier's amount, so the ledger's
 * `(dedupeKey, ruleId)` key makes it once per order), and store what the order earned. Nothing here
 * knows about HTTP; the router answers success only when this resolves.
 *
 * Re-sends are safe at every point: a re-sent notification finds the order (duplicate), reuses its
 * stored decision, and the grant call answers the first grant — so a crash after recording but before
 * answering grants nothing new.
 *
 * @example
 * const handlePayment = createPaymentHandler({ orders, rewards, spend: () => config.current().files.spend, clock, log });
 * const { order, grant } = await handlePayment(paymentOrder);
 * @see https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7&index=8
 */
import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import type { GrantDetails, RecordRequest } from '../rewards/rewards';
import { OrderStoreError, type OrderStore, type StoredOrder } from './order-store';
import { PayNotifyError, type PaymentOrder } from './payment-order';
import { selectSpendTier } from './select-spend-tier';
import type { SpendConfig } from './spend-schema';

/** What {@link createPaymentHandler} needs. */
export interface PaymentHandlerDeps {
  orders: OrderStore;
  /** The rewards service (`createRewards`); only `record` is used. */
  rewards: { record(req: RecordRequest): Promise<GrantDetails> };
  /** The current spend rules (hot-reloaded config: read on every notification). */
  spend: () => SpendConfig;
  clock: Clock;
  log: Logger;
}

/** What one notification did. */
export interface PaymentOutcome {
  order: StoredOrder;
  /** True when this transaction was recorded before: nothing new was recorded. */
  duplicate: boolean;
  /** The grant's answer (the first answer on re-sends); absent when the order earns nothing. */
  grant?: GrantDetails;
}

/** Handles one verified payment; rejects with `PayNotifyError('unavailable')` when it could not be made durable. */
export type PaymentHandler = (order: PaymentOrder) => Promise<PaymentOutcome>;

/**
 * Builds the payment handler.
 *
 * @example const handle = createPaymentHandler({ orders, rewards, spend, clock: systemClock, log });
 * @see https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7&index=8
 */
export function createPaymentHandler(deps: PaymentHandlerDeps): PaymentHandler {
  if (!deps || typeof deps.orders?.recordOrder !== 'function') throw new TypeError('createPaymentHandler: orders is required');
  if (typeof deps.rewards?.record !== 'function') throw new TypeError('createPaymentHandler: rewards must have record()');
  if (typeof deps.spend !== 'function') throw new TypeError('createPaymentHandler: spend must be a function returning the spend rules');
  if (typeof deps.clock?.now !== 'function') throw new TypeError('createPaymentHandler: clock must have now()');
  if (typeof deps.log?.child !== 'function') throw new TypeError('createPaymentHandler: log must be a pino logger');
  const { orders, rewards, spend, clock } = deps;
  const log = deps.log.child({ module: 'spend' });

  return async function handlePayment(payment: PaymentOrder): Promise<PaymentOutcome> {
    const now = clock.now();
    const tx = payment.transactionId;
    let decided: { decision?: { ruleId: string; campaign: string; amountFen: number; tierMinFen: number }; reason?: string };
    if (!payment.paid) decided = { reason: `payment not successful (${payment.state})` };
    else decided = selectSpendTier(spend(), payment, payment.paidAt ?? now);

    let recorded;
    try {
      recorded = await orders.recordOrder(payment, { decision: decided.decision ?? null, skipReason: decided.decision ? null : (decided.reason ?? 'no tier'), now });
    } catch (err) {
      log.error(
        { err: err instanceof OrderStoreError ? { message: err.message, cause: String((err.cause as Error)?.message ?? err.cause) } : err, transactionId: tx },
        'order could not be recorded',
      );
      throw new PayNotifyError('unavailable', 'the order could not be recorded; send it again');
    }
    const { order, duplicate } = recorded;
    if (!order.paid || !order.decision) {
      log.info({ transactionId: tx, duplicate, paid: order.paid, reason: order.skipReason }, 'order recorded; it earns nothing');
      return { order, duplicate };
    }
    // The stored decision wins over today's config: a re-send grants what the first notification decided.
    const d = order.decision;
    const grant = await rewards.record({ campaign: d.campaign, openId: order.openId, dedupeKey: tx, ruleId: d.ruleId, now, amountFen: d.amountFen });
    if (grant.outcome === 'failed' && grant.status === undefined) {
      // Not recorded by the ledger (unreachable): answer FAIL so WeChat Pay sends it again.
      log.error({ transactionId: tx, reason: grant.reason }, 'grant could not be recorded');
      throw new PayNotifyError('unavailable', 'the grant could not be recorded; send it again');
    }
    if (!order.grant) {
      try {
        await orders.setGrant(tx, { outcome: grant.outcome, amountFen: grant.amountFen, billNo: grant.billNo, reason: grant.reason, at: now });
      } catch (err) {
        // The grant itself is durable in the ledger (keyed by the transaction); the order's copy is a convenience.
        log.warn({ err: err instanceof Error ? err.message : String(err), transactionId: tx }, 'order grant summary not stored');
      }
    }
    log.info({ transactionId: tx, duplicate, ruleId: d.ruleId, outcome: grant.outcome, billNo: grant.billNo }, 'paid order handled');
    return { order: (await orders.findOrder(tx).catch(() => undefined)) ?? order, duplicate, grant };
  };
}
