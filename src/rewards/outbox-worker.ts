/**
 * The outbox worker: sends recorded red packets through WeChat Pay, exactly once in money.
 *
 * For each due grant (leased, so a crashed worker's grants come back when the lease expires):
 * 1. quiet hours now → put it back until they end (invariant 3: checked before any call to Pay);
 * 2. a previous attempt's outcome is unknown (status SENDING) → `gethbinfo` first: SENT/RECEIVED/… →
 *    settle; FAILED → settle failed; SENDING → try later; NOT_FOUND → send again, same bill number;
 * 3. the shared send rate (`CounterStore.incrementWithin`, one counter per second, and per minute /
 *    per Beijing day when `send_rate_per_minute` / `send_rate_per_day` is set; the day counts each bill
 *    once) → else put back until the full window ends (never dropped);
 * 4. mark SENDING (attempts + 1) and send with the bill number fixed at record time, with the
 *    parameters snapshotted at record time;
 * 5. sent → SENT (send_listid); uncertain → retry later with backoff, same bill number; merchant-wide
 *    error (NOTENOUGH, API_METHOD_CLOSED, CA_ERROR, SENDAMOUNT_LIMIT, …) → pause the campaign (persisted in the ledger, so
 *    every worker holds it), alert (error log + `rewards_campaign_paused_total`), grant stays open with
 *    its bill number until `campaign resume`; an error about this grant only (its follower, amount
 *    or fields: OPENID_ERROR, SENDNUM_LIMIT, PARAM_ERROR, our own LOCAL_PARAM_ERROR, …) → FAILED with
 *    the reason, reservations released, optional follower notice, the campaign goes on (so a resumed
 *    campaign is never re-paused by the grant that is refused again); the answer names another receiver or amount (or FATAL_ERROR),
 *    also from `gethbinfo` in step 2 → a bill-number collision: HELD with an alert, never SENT, never
 *    re-sent (see `bill-collision.ts`).
 *
 * A bill number is never replaced: WeChat Pay is re-entrant by `mch_billno`, so no retry, crash or
 * second worker can pay twice (invariant 2).
 *
 * @example
 * const worker = createOutboxWorker({ ledger, redpack, counters: store.counters, clock, log, config });
 * worker.start(); … await worker.stop();
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import { createMetrics, type Metrics } from '../lib/metrics';
import type { RedpackApi, RedpackQueryOutcome, RedpackRequest } from '../pay/types';
import type { CounterStore } from '../store/ports';
import { isRedPacketCampaign, type RewardsConfig } from './config-schema';
import { holdAsCollision, queryMismatch } from './bill-collision';
import type { Ledger, LedgerGrant, ReservationKind } from './ledger';
import { quietHoursEnd, rateWindows, type RateWindow } from './limits';

/** What {@link createOutboxWorker} needs. */
export interface OutboxWorkerDeps {
  ledger: Ledger;
  redpack: RedpackApi;
  /** Shared counters (Redis when several processes run) for the send rate. */
  counters: CounterStore;
  clock: Clock;
  log: Logger;
  config: () => RewardsConfig;
  /** Customer-service message to a follower whose grant finally failed (campaigns with notify_on_failure). */
  notify?: (openId: string, text: string) => Promise<void>;
  /** Sends per second shared by every worker (default: limits.send_rate_per_second; Infinity lifts it). */
  ratePerSecond?: number;
  /** How long a claim is exclusive; must exceed the Pay client's timeout (default 60 s). */
  leaseMs?: number;
  /** Delay before attempt n + 1 after n uncertain attempts (default 1 s · 2^(n−1), at most 5 min). */
  backoff?: (attempts: number) => number;
  /** Grants claimed per pass (default 50). */
  batchSize?: number;
  /** Grants processed in parallel within a pass (default 8). */
  concurrency?: number;
  /** Idle wait between passes of `start()` (default 1000 ms). */
  pollMs?: number;
  /** Lease owner id (default host:pid:random). */
  owner?: string;
  /** Prometheus registry (default: a private one, exposed as `worker.metrics`). */
  metrics?: Metrics;
  /**
   * Senders of other reward kinds, by the grant's `kind` (e.g. `{ card: (g, ctx) => cards.sendGrant(g, ctx) }`).
   * A grant of a kind with no sender waits in the outbox.
   */
  senders?: Partial<Record<string, (grant: LedgerGrant, ctx: { owner: string }) => Promise<'sent' | 'failed' | 'retried' | 'skipped'>>>;
}

/** What one pass did. */
export interface OutboxPass {
  /** Grants claimed and handled (sent, settled, queried or put back). */
  processed: number;
  sent: number;
  failed: number;
  /** Held as bill-number collisions (see `bill-collision.ts`). */
  held: number;
  /** Put back for later (uncertain, rate, quiet hours, paused). */
  retried: number;
  /** True when the shared rate cap stopped this pass early. */
  rateLimited: boolean;
  /** When rate-limited: ms until the full window (second or minute) ends. */
  rateWaitMs?: number;
  /** Set when `send_rate_per_day` is used up: ms until the Beijing day ends (new packets wait till then). */
  dayCapWaitMs?: number;
}

export interface OutboxWorker {
  /** One pass over the due grants. Safe to call concurrently with other workers (leases). */
  runOnce(): Promise<OutboxPass>;
  /** Runs passes on timers until `stop()`. */
  start(): void;
  /** Stops the timers and waits for the pass in progress. */
  stop(): Promise<void>;
  readonly owner: string;
  readonly metrics: Metrics;
}

/** Default backoff: 1 s, 2 s, 4 s … capped at 5 minutes. */
export function defaultBackoff(attempts: number): number {
  return Math.min(1000 * 2 ** Math.max(0, attempts - 1), 5 * 60 * 1000);
}

const DEFAULT_FAILURE_NOTICE = '抱歉，您的红包未能发放成功。如有疑问请联系客服。';

/** Rewards metric names (on the registry passed as `metrics`). */
export const REWARDS_METRICS = {
  sends: 'rewards_redpack_sends_total',
  queries: 'rewards_redpack_queries_total',
  settled: 'rewards_grants_settled_total',
  paused: 'rewards_campaign_paused_total',
  alerts: 'rewards_operator_alerts_total',
} as const;

/**
 * Builds the worker. Validates its dependencies now.
 *
 * @example const worker = createOutboxWorker({ ledger, redpack, counters, clock, log, config, ratePerSecond: 30 });
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function createOutboxWorker(deps: OutboxWorkerDeps): OutboxWorker {
  if (!deps || typeof deps.ledger?.claimDue !== 'function') throw new TypeError('createOutboxWorker: ledger is required');
  if (typeof deps.redpack?.send !== 'function' || typeof deps.redpack?.query !== 'function')
    throw new TypeError('createOutboxWorker: redpack must be a RedpackApi');
  if (typeof deps.counters?.incrementWithin !== 'function') throw new TypeError('createOutboxWorker: counters must be a CounterStore');
  if (typeof deps.clock?.now !== 'function') throw new TypeError('createOutboxWorker: clock must have now()');
  if (typeof deps.config !== 'function') throw new TypeError('createOutboxWorker: config must be a function');
  if (typeof deps.log?.child !== 'function') throw new TypeError('createOutboxWorker: log must be a pino logger');
  const positive = (name: string, v: number | undefined, dflt: number) => {
    const n = v ?? dflt;
    if (!(n > 0)) throw new TypeError(`createOutboxWorker: ${name} must be positive`);
    return n;
  };
  const leaseMs = positive('leaseMs', deps.leaseMs, 60_000);
  const batchSize = Math.floor(positive('batchSize', deps.batchSize, 50));
  const concurrency = Math.floor(positive('concurrency', deps.concurrency, 8));
  const pollMs = positive('pollMs', deps.pollMs, 1000);
  if (deps.ratePerSecond !== undefined) positive('ratePerSecond', deps.ratePerSecond, 1);
  const backoff = deps.backoff ?? defaultBackoff;
  const owner = deps.owner ?? `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const { ledger, redpack, counters, clock, config } = deps;
  const log = deps.log.child({ module: 'rewards', worker: owner });
  const metrics = deps.metrics ?? createMetrics();
  const sends = metrics.counter(REWARDS_METRICS.sends, 'Red-packet send calls by result');
  const queries = metrics.counter(REWARDS_METRICS.queries, 'gethbinfo calls by result');
  const settledMetric = metrics.counter(REWARDS_METRICS.settled, 'Grants settled by status');
  const pausedMetric = metrics.counter(REWARDS_METRICS.paused, 'Campaigns paused by the worker (configuration errors)');
  const alerts = metrics.counter(REWARDS_METRICS.alerts, 'Conditions that need an operator');

  type Step = 'sent' | 'failed' | 'retried' | 'settled' | 'rate' | 'skipped' | 'held';
  /** What lanes of one pass share: the rate cap was hit; campaigns paused during the pass. */
  interface PassState {
    /** false, or how long (ms) until the full rate window ends. */
    rateLimited: false | number;
    /** false, or how long (ms) until the Beijing day ends: `send_rate_per_day` is used up. */
    dayFull: false | number;
    paused: Set<string>;
  }

  /** The shared rate windows now (deps.ratePerSecond overrides limits.send_rate_per_second). */
  function windows(): RateWindow[] {
    const limits = config().limits;
    const perSecond = deps.ratePerSecond ?? limits.sendRatePerSecond;
    const lifted = !Number.isFinite(perSecond); // ratePerSecond: Infinity (tests, bench) lifts every window
    return rateWindows({ perSecond, perMinute: lifted ? null : limits.sendRatePerMinute, perDay: lifted ? null : limits.sendRatePerDay }, clock.now());
  }

  function requestOf(g: LedgerGrant): RedpackRequest {
    const p = g.payload as Partial<RedpackRequest> & Record<string, unknown>;
    return {
      kind: p.kind === 'fission' ? 'fission' : 'normal',
      billNo: g.billNo!,
      openId: g.openId,
      amountFen: g.amountFen,
      totalNum: typeof p.totalNum === 'number' ? p.totalNum : 1,
      sendName: String(p.sendName ?? ''),
      wishing: String(p.wishing ?? ''),
      actName: String(p.actName ?? ''),
      remark: String(p.remark ?? ''),
      ...(p.sceneId ? { sceneId: p.sceneId } : {}),
      ...(p.riskInfo ? { riskInfo: p.riskInfo } : {}),
      ...(p.subMchId ? { subMchId: p.subMchId, msgAppId: p.msgAppId, consumeMchId: p.consumeMchId } : {}),
    };
  }

  function campaignOf(g: LedgerGrant) {
    const c = config().campaigns[g.campaign];
    return isRedPacketCampaign(c) ? c : undefined;
  }

  async function retryLater(g: LedgerGrant, lastError: string | undefined, delayMs: number): Promise<Step> {
    await ledger.reschedule(g.id, { owner, dueAt: clock.now() + Math.max(0, delayMs), now: clock.now(), lastError });
    return 'retried';
  }

  async function notifyFailure(g: LedgerGrant): Promise<void> {
    const c = campaignOf(g);
    if (!deps.notify || !c?.notifyOnFailure) return;
    try {
      await deps.notify(g.openId, c.replies.failure_notice ?? DEFAULT_FAILURE_NOTICE);
    } catch (error) {
      log.warn({ err: error, billNo: g.billNo, campaign: g.campaign }, 'failure notice could not be sent');
    }
  }

  async function settleFailed(g: LedgerGrant, reason: string): Promise<Step> {
    const all: ReservationKind[] = ['budget', 'per_user', 'follower_daily', 'merchant_daily'];
    const changed = await ledger.settle(g.id, { status: 'FAILED', now: clock.now(), reason, release: all });
    if (changed) {
      settledMetric.inc({ status: 'FAILED' });
      log.warn({ billNo: g.billNo, campaign: g.campaign, reason }, 'red packet failed');
      await notifyFailure(g);
    }
    return 'failed';
  }

  async function holdCollision(g: LedgerGrant, detail: string): Promise<Step> {
    if (await holdAsCollision({ ledger, log, alerts, now: clock.now() }, g, detail)) settledMetric.inc({ status: 'HELD' });
    return 'held';
  }

  /** Settles from a `gethbinfo` answer; undefined when the packet is still in flight (SENDING). */
  async function settleFromQuery(g: LedgerGrant, info: Extract<RedpackQueryOutcome, { status: 'found' }>['info']): Promise<Step | undefined> {
    const now = clock.now();
    const mismatch = queryMismatch(g, info);
    if (mismatch !== undefined) return holdCollision(g, `gethbinfo: ${mismatch}`);
    switch (info.status) {
      case 'SENDING':
        return undefined;
      case 'FAILED':
        return settleFailed(g, `gethbinfo FAILED${info.reason ? `: ${info.reason}` : ''}`);
      case 'SENT':
      case 'RECEIVED':
      case 'RFUND_ING':
      case 'REFUND': {
        const release: ReservationKind[] = info.status === 'REFUND' && campaignOf(g)?.restoreBudgetOnRefund ? ['budget'] : [];
        if (info.status !== 'SENT') await ledger.settle(g.id, { status: 'SENT', now, sendListId: info.detailId || undefined });
        const changed = await ledger.settle(g.id, { status: info.status, now, sendListId: info.detailId || undefined, release });
        if (changed) settledMetric.inc({ status: info.status });
        log.info({ billNo: g.billNo, status: info.status }, 'red packet confirmed by gethbinfo');
        return 'settled';
      }
    }
  }

  async function processGrant(g: LedgerGrant, state: PassState): Promise<Step> {
    if (g.kind !== 'red_packet') {
      const sender = deps.senders?.[g.kind];
      return sender ? sender(g, { owner }) : retryLater(g, `no sender for ${g.kind} grants`, 60_000);
    }
    if (!g.billNo) return 'skipped';
    const { limits } = config();
    const quietEnd = quietHoursEnd(clock.now(), limits.quietHours);
    if (quietEnd !== undefined) return retryLater(g, undefined, quietEnd - clock.now());

    if (g.status === 'SENDING') {
      const subMchId = typeof g.payload.subMchId === 'string' ? g.payload.subMchId : undefined;
      let q: RedpackQueryOutcome;
      try {
        q = await redpack.query(g.billNo, subMchId ? { subMchId } : {});
      } catch (error) {
        q = { status: 'error', code: 'CLIENT_ERROR', message: error instanceof Error ? error.message : String(error) };
      }
      queries.inc({ result: q.status === 'found' ? q.info.status : q.status });
      if (q.status === 'error') return retryLater(g, `query ${q.code}: ${q.message}`, backoff(g.attempts));
      if (q.status === 'found') {
        const step = await settleFromQuery(g, q.info);
        if (step) return step;
        return retryLater(g, 'gethbinfo SENDING: WeChat Pay is still processing', backoff(g.attempts));
      }
      // not_found: nothing landed under this bill number (yet) — sending again with it is safe.
    }

    if (state.paused.has(g.campaign)) return retryLater(g, undefined, 0); // held until resumed
    if (state.rateLimited !== false) return retryLater(g, undefined, state.rateLimited);
    // A slot in every window, or no send: a later window's refusal leaves the earlier counters one
    // higher for their (shorter) window — conservative, never above a cap.
    if (state.dayFull !== false && g.attempts === 0) return retryLater(g, undefined, state.dayFull).then(() => 'rate' as const);
    for (const w of windows()) {
      // A bill already attempted was counted (per packet) by its first send.
      if (w.perPacket && g.attempts > 0) continue;
      const slot = await counters.incrementWithin(w.key, 1, w.limit, w.ttlSeconds);
      if (!slot.allowed && w.perPacket) {
        // The day's packets are used up: new packets wait for the next Beijing day; resends and
        // queries of packets already attempted go on.
        if (state.dayFull === false)
          log.warn({ limit: w.limit, waitMs: w.endsInMs }, `send_rate_per_day (${w.limit}) reached: new red packets wait until 00:00 Beijing time`);
        state.dayFull = w.endsInMs;
        await retryLater(g, undefined, w.endsInMs);
        return 'rate';
      }
      if (!slot.allowed) {
        state.rateLimited = w.endsInMs;
        await retryLater(g, undefined, w.endsInMs);
        return 'rate';
      }
    }

    if (!(await ledger.markSending(g.id, { owner, now: clock.now() }))) {
      log.warn({ billNo: g.billNo }, 'lease lost before sending; another worker has this grant');
      return 'skipped';
    }
    const attempts = g.attempts + 1;
    let outcome;
    try {
      outcome = await redpack.send(requestOf(g));
    } catch (error) {
      outcome = { status: 'uncertain' as const, code: 'CLIENT_ERROR', message: error instanceof Error ? error.message : String(error) };
    }
    sends.inc({ result: outcome.status });
    switch (outcome.status) {
      case 'sent': {
        const changed = await ledger.settle(g.id, { status: 'SENT', now: clock.now(), sendListId: outcome.sendListId || undefined });
        if (changed) settledMetric.inc({ status: 'SENT' });
        return 'sent';
      }
      case 'uncertain':
        log.warn({ billNo: g.billNo, code: outcome.code, attempts }, 'red packet outcome unknown; will query and retry with the same bill number');
        return retryLater(g, `${outcome.code}: ${outcome.message}`, backoff(attempts));
      case 'config': {
        const reason = `${outcome.code}: ${outcome.message}`;
        if (state.paused.has(g.campaign)) return retryLater(g, reason, 0); // alerted already in this pass
        state.paused.add(g.campaign);
        await ledger.pauseCampaign(g.campaign, { reason, by: 'worker', now: clock.now() });
        pausedMetric.inc({ campaign: g.campaign, code: outcome.code });
        alerts.inc({ kind: 'campaign_paused' });
        log.error(
          { alert: true, campaign: g.campaign, code: outcome.code, billNo: g.billNo },
          `OPERATOR ALERT: campaign ${g.campaign} paused by WeChat Pay ${outcome.code} (${outcome.message}); ` +
            `its grants wait with their bill numbers — fix the cause, then run "campaign resume ${g.campaign}"`,
        );
        return retryLater(g, reason, 0);
      }
      case 'failed':
        return settleFailed(g, `${outcome.code}: ${outcome.message}`);
      case 'collision':
        return holdCollision(g, `${requestOf(g).kind === 'fission' ? 'sendgroupredpack' : 'sendredpack'}: ${outcome.message}`);
    }
  }

  async function runOnce(): Promise<OutboxPass> {
    // Claim no more than the shared rate cap leaves this second: grants claimed beyond it would only
    // be put back one by one, starving the next second (seen as 0/40/0/40 sends across workers).
    let limit = batchSize;
    for (const w of windows()) {
      // The day's cap does not stop a pass: resends and queries of attempted packets need no slot.
      if (w.perPacket) continue;
      const free = w.limit - (await counters.get(w.key));
      if (free <= 0) return { processed: 0, sent: 0, failed: 0, held: 0, retried: 0, rateLimited: true, rateWaitMs: w.endsInMs };
      limit = Math.min(limit, free);
    }
    const claimed = await ledger.claimDue({ owner, now: clock.now(), leaseMs, limit });
    const pass: OutboxPass = { processed: 0, sent: 0, failed: 0, held: 0, retried: 0, rateLimited: false };
    const state: PassState = { rateLimited: false, dayFull: false, paused: new Set() };
    let next = 0;
    async function lane(): Promise<void> {
      while (next < claimed.length) {
        const g = claimed[next++];
        let step: Step;
        try {
          step = await processGrant(g, state);
        } catch (error) {
          // A ledger failure mid-way: the lease expires and the grant is picked up again (same bill).
          log.error({ err: error, billNo: g.billNo }, 'outbox step failed; the grant will be retried after its lease');
          step = 'skipped';
        }
        pass.processed += 1;
        if (step === 'sent') pass.sent += 1;
        else if (step === 'failed') pass.failed += 1;
        else if (step === 'held') pass.held += 1;
        else if (step === 'retried' || step === 'rate') pass.retried += 1;
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, claimed.length) }, lane));
    pass.rateLimited = state.rateLimited !== false;
    if (state.rateLimited !== false) pass.rateWaitMs = state.rateLimited;
    if (state.dayFull !== false) pass.dayCapWaitMs = state.dayFull;
    return pass;
  }

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = true;

  function schedule(delay: number): void {
    if (stopped) return;
    timer = setTimeout(function outboxTick() {
      timer = undefined;
      running = runOnce()
        .then((pass) => {
          const busy = pass.processed > 0 && !pass.rateLimited;
          schedule(busy ? 0 : pass.rateLimited ? (pass.rateWaitMs ?? 1000 - (clock.now() % 1000)) : pollMs);
        })
        .catch((error: unknown) => {
          log.error({ err: error }, 'outbox pass failed');
          schedule(pollMs);
        });
    }, delay);
    timer.unref?.();
  }

  return {
    owner,
    metrics,
    runOnce,
    start() {
      if (!stopped) return;
      stopped = false;
      schedule(0);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await running?.catch(() => undefined);
    },
  };
}
