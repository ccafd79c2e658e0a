/**
 * Reconciliation: asks WeChat Pay (`gethbinfo`) what became of packets the ledger has as SENT (or
 * RFUND_ING) and records RECEIVED, REFUND (unclaimed after 24 h; the campaign budget is given back
 * when the campaign says `restore_budget_on_refund: true`) or RFUND_ING. Least recently checked first,
 * so repeated runs walk the whole set. An answer that is not the grant's own (another amount, kind or
 * receiver: a bill-number collision) holds the grant (HELD, `billno_collision: …`) with an alert.
 *
 * @example const report = await reconcile({ ledger, redpack, clock, log, config });
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_6&index=5
 */
import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import type { RedpackApi } from '../pay/types';
import { createMetrics, type Metrics } from '../lib/metrics';
import { holdAsCollision, queryMismatch } from './bill-collision';
import { queryAnswer } from './grant-events';
import { isRedPacketCampaign, type RewardsConfig } from './config-schema';
import type { LedgerReports, LedgerWrites, ReservationKind } from './ledger';
import { REWARDS_METRICS } from './rewards-metrics';

export interface ReconcileDeps {
  ledger: LedgerWrites & Pick<LedgerReports, 'listByStatus'>;
  redpack: RedpackApi;
  clock: Clock;
  log: Logger;
  config: () => RewardsConfig;
  /** Grants looked at per run (default 500). */
  limit?: number;
  /** Only packets sent at least this long ago (default 0). */
  minAgeMs?: number;
  /** Prometheus registry for the operator alerts (default: a private one). */
  metrics?: Metrics;
  /** Told of every run of {@link startReconcileJob}: its report, or the error that stopped it. */
  onRun?: (run: { report: ReconcileReport } | { error: unknown }) => Promise<void> | void;
}

/** Another kind's reconciler run on the same schedule (cards: `Cards.reconcile`). */
export interface ReconcileTask {
  name: string;
  run(): Promise<unknown>;
}

/** What one run found. */
export interface ReconcileReport {
  checked: number;
  received: number;
  refunded: number;
  refunding: number;
  unchanged: number;
  /** Packets WeChat does not know or reports FAILED after a success: they need an operator. */
  anomalies: number;
  /** Grants held because gethbinfo describes another packet (bill-number collision). */
  collisions: number;
  errors: number;
}

/**
 * Runs one reconciliation pass.
 *
 * @example await reconcile({ ledger, redpack, clock, log, config, limit: 100 })
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_6&index=5
 */
export async function reconcile(deps: ReconcileDeps): Promise<ReconcileReport> {
  const { ledger, redpack, clock, config } = deps;
  const log = deps.log.child({ module: 'rewards', job: 'reconcile' });
  const alerts = (deps.metrics ?? createMetrics()).counter(REWARDS_METRICS.alerts, 'Conditions that need an operator');
  const report: ReconcileReport = { checked: 0, received: 0, refunded: 0, refunding: 0, unchanged: 0, anomalies: 0, collisions: 0, errors: 0 };
  // Red packets only: gethbinfo knows nothing of coupons (they reconcile through card data).
  const grants = await ledger.listByStatus(['SENT', 'RFUND_ING'], {
    kind: 'red_packet',
    limit: deps.limit ?? 500,
    sentBefore: clock.now() - (deps.minAgeMs ?? 0),
  });
  for (const g of grants) {
    if (!g.billNo) continue;
    report.checked += 1;
    const subMchId = typeof g.payload.subMchId === 'string' ? g.payload.subMchId : undefined;
    const q = await redpack.query(g.billNo, subMchId ? { subMchId } : {}).catch((error: unknown) => ({
      status: 'error' as const,
      code: 'CLIENT_ERROR',
      message: error instanceof Error ? error.message : String(error),
    }));
    const now = clock.now();
    if (q.status === 'error') {
      report.errors += 1;
      log.warn({ billNo: g.billNo, code: q.code }, 'reconcile query failed; will retry next run');
      continue;
    }
    await ledger.markChecked(g.id, now);
    if (q.status === 'not_found') {
      report.anomalies += 1;
      log.error({ alert: true, billNo: g.billNo, campaign: g.campaign }, 'ledger says SENT but gethbinfo does not know the bill');
      continue;
    }
    const mismatch = queryMismatch(g, q.info);
    if (mismatch !== undefined) {
      if (await holdAsCollision({ ledger, log, alerts, now }, g, `gethbinfo: ${mismatch}`, queryAnswer(q))) report.collisions += 1;
      else report.unchanged += 1;
      continue;
    }
    const status = q.info.status;
    if (status === 'RECEIVED' || status === 'REFUND' || status === 'RFUND_ING') {
      const c = config().campaigns[g.campaign];
      const restore = status === 'REFUND' && isRedPacketCampaign(c) && c.restoreBudgetOnRefund;
      const release: ReservationKind[] = restore ? ['budget'] : [];
      const changed = await ledger.settle(g.id, { status, now, release, answer: queryAnswer(q) });
      if (!changed) report.unchanged += 1;
      else if (status === 'RECEIVED') report.received += 1;
      else if (status === 'REFUND') report.refunded += 1;
      else report.refunding += 1;
      if (changed) log.info({ billNo: g.billNo, status, budgetRestored: restore }, 'red packet reconciled');
    } else if (status === 'FAILED') {
      report.anomalies += 1;
      log.error({ alert: true, billNo: g.billNo, campaign: g.campaign }, 'ledger says SENT but gethbinfo says FAILED');
    } else {
      report.unchanged += 1;
    }
  }
  return report;
}

/**
 * One run of the job: {@link reconcile}, told to `onRun` (its report or its error), then each of
 * `others` (the other kinds' reconcilers), each on its own — one failing never stops the next. The job
 * runs it on its timer; the console's sandbox panel runs it once on demand ("reconcile now").
 *
 * @example const run = await runReconcilePass(deps, [{ name: 'cards', run: () => cards.reconcile() }]);
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_6&index=5
 */
export async function runReconcilePass(deps: ReconcileDeps, others: readonly ReconcileTask[] = []): Promise<{ report: ReconcileReport } | { error: unknown }> {
  const run = await reconcile(deps).then(
    (report) => ({ report }),
    (error: unknown) => {
      deps.log.error({ err: error }, 'reconcile run failed');
      return { error };
    },
  );
  await Promise.resolve(deps.onRun?.(run)).catch((error: unknown) => deps.log.warn({ err: error }, 'could not record the reconcile run'));
  for (const task of others) {
    await task.run().catch((error: unknown) => deps.log.error({ err: error, task: task.name }, 'reconcile run failed'));
  }
  return run;
}

/**
 * Runs {@link runReconcilePass} every `intervalMs` (default 10
 * minutes) until stopped.
 *
 * @example const job = startReconcileJob(deps, 600_000); … await job.stop();
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_6&index=5
 */
export function startReconcileJob(deps: ReconcileDeps, intervalMs = 10 * 60 * 1000, others: readonly ReconcileTask[] = []): { stop(): Promise<void> } {
  if (!(intervalMs > 0)) throw new TypeError('startReconcileJob: intervalMs must be positive');
  let running: Promise<unknown> | undefined;
  const timer = setInterval(function reconcileTick() {
    if (running) return;
    running = runReconcilePass(deps, others).finally(() => {
      running = undefined;
    });
  }, intervalMs);
  timer.unref?.();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
