/**
 * The red-packet sender of the outbox (`kind: red_packet`), registered with the worker like any other
 * kind's sender. For one leased grant:
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
 * @example const send = createRedPacketSender({ ledger, redpack, counters, clock, log, config, metrics, backoff });
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import type { Metrics } from '../lib/metrics';
import type { RedpackApi, RedpackQueryOutcome, RedpackRequest } from '../pay/types';
import type { CounterStore } from '../store/ports';
import { holdAsCollision, queryMismatch } from './bill-collision';
import { queryAnswer, sendAnswer } from './grant-events';
import { isRedPacketCampaign, type RewardsConfig } from './config-schema';
import type { LedgerGrant, LedgerWrites, PayAnswer, ReservationKind } from './ledger';
import { quietHoursEnd, sendWindows } from './limits';
import type { GrantSender, PassState, SendStep as Step } from './reward-kind';
import { REWARDS_METRICS } from './rewards-metrics';

const DEFAULT_FAILURE_NOTICE = '抱歉，您的红包未能发放成功。如有疑问请联系客服。';

/** What {@link createRedPacketSender} needs (the worker passes its own). */
export interface RedPacketSenderDeps {
  ledger: LedgerWrites;
  redpack: RedpackApi;
  /** Shared counters (Redis when several processes run) for the send rate. */
  counters: CounterStore;
  clock: Clock;
  log: Logger;
  config: () => RewardsConfig;
  metrics: Metrics;
  /** Delay before attempt n + 1 after n uncertain attempts. */
  backoff: (attempts: number) => number;
  /** Overrides `limits.send_rate_per_second` (the worker's `ratePerSecond`; `Infinity` lifts every window). */
  ratePerSecond?: number;
  /** Customer-service message to a follower whose grant finally failed (campaigns with notify_on_failure). */
  notify?: (openId: string, text: string) => Promise<void>;
}

/**
 * Builds the red-packet sender.
 *
 * @example worker senders: { red_packet: createRedPacketSender(deps) }
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function createRedPacketSender(deps: RedPacketSenderDeps): GrantSender {
  const { ledger, redpack, counters, clock, config, log, metrics, backoff } = deps;
  const sends = metrics.counter(REWARDS_METRICS.sends, 'Red-packet send calls by result');
  const queries = metrics.counter(REWARDS_METRICS.queries, 'gethbinfo calls by result');
  const settledMetric = metrics.counter(REWARDS_METRICS.settled, 'Grants settled by status');
  const pausedMetric = metrics.counter(REWARDS_METRICS.paused, 'Campaigns paused by the worker (configuration errors)');
  const alerts = metrics.counter(REWARDS_METRICS.alerts, 'Conditions that need an operator');

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

  async function retryLater(g: LedgerGrant, owner: string, lastError: string | undefined, delayMs: number, answer?: PayAnswer): Promise<Step> {
    await ledger.reschedule(g.id, { owner, dueAt: clock.now() + Math.max(0, delayMs), now: clock.now(), lastError, ...(answer ? { answer } : {}) });
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

  async function settleFailed(g: LedgerGrant, reason: string, answer: PayAnswer): Promise<Step> {
    const all: ReservationKind[] = ['budget', 'per_user', 'follower_daily', 'merchant_daily'];
    const changed = await ledger.settle(g.id, { status: 'FAILED', now: clock.now(), reason, release: all, answer });
    if (changed) {
      settledMetric.inc({ status: 'FAILED' });
      log.warn({ billNo: g.billNo, campaign: g.campaign, reason }, 'red packet failed');
      await notifyFailure(g);
    }
    return 'failed';
  }

  async function holdCollision(g: LedgerGrant, detail: string, answer: PayAnswer): Promise<Step> {
    if (await holdAsCollision({ ledger, log, alerts, now: clock.now() }, g, detail, answer)) settledMetric.inc({ status: 'HELD' });
    return 'held';
  }

  /** Settles from a `gethbinfo` answer; undefined when the packet is still in flight (SENDING). */
  async function settleFromQuery(g: LedgerGrant, found: Extract<RedpackQueryOutcome, { status: 'found' }>): Promise<Step | undefined> {
    const now = clock.now();
    const { info } = found;
    const answer = queryAnswer(found);
    const mismatch = queryMismatch(g, info);
    if (mismatch !== undefined) return holdCollision(g, `gethbinfo: ${mismatch}`, answer);
    switch (info.status) {
      case 'SENDING':
        return undefined;
      case 'FAILED':
        return settleFailed(g, `gethbinfo FAILED${info.reason ? `: ${info.reason}` : ''}`, answer);
      case 'SENT':
      case 'RECEIVED':
      case 'RFUND_ING':
      case 'REFUND': {
        const release: ReservationKind[] = info.status === 'REFUND' && campaignOf(g)?.restoreBudgetOnRefund ? ['budget'] : [];
        if (info.status !== 'SENT') await ledger.settle(g.id, { status: 'SENT', now, sendListId: info.detailId || undefined });
        const changed = await ledger.settle(g.id, { status: info.status, now, sendListId: info.detailId || undefined, release, answer });
        if (changed) settledMetric.inc({ status: info.status });
        log.info({ billNo: g.billNo, status: info.status }, 'red packet confirmed by gethbinfo');
        return 'settled';
      }
    }
  }

  async function processGrant(g: LedgerGrant, owner: string, state: PassState): Promise<Step> {
    if (!g.billNo) return 'skipped';
    const { limits } = config();
    const quietEnd = quietHoursEnd(clock.now(), limits.quietHours);
    if (quietEnd !== undefined) return retryLater(g, owner, undefined, quietEnd - clock.now());

    let queried: PayAnswer | undefined;
    if (g.status === 'SENDING') {
      const subMchId = typeof g.payload.subMchId === 'string' ? g.payload.subMchId : undefined;
      let q: RedpackQueryOutcome;
      try {
        q = await redpack.query(g.billNo, subMchId ? { subMchId } : {});
      } catch (error) {
        q = { status: 'error', code: 'CLIENT_ERROR', message: error instanceof Error ? error.message : String(error) };
      }
      queries.inc({ result: q.status === 'found' ? q.info.status : q.status });
      queried = queryAnswer(q);
      if (q.status === 'error') return retryLater(g, owner, `query ${q.code}: ${q.message}`, backoff(g.attempts), queried);
      if (q.status === 'found') {
        const step = await settleFromQuery(g, q);
        if (step) return step;
        return retryLater(g, owner, 'gethbinfo SENDING: WeChat Pay is still processing', backoff(g.attempts), queried);
      }
      // not_found: nothing landed under this bill number (yet) — sending again with it is safe.
    }

    if (state.paused.has(g.campaign)) return retryLater(g, owner, undefined, 0); // held until resumed
    if (state.rateLimited !== false) return retryLater(g, owner, undefined, state.rateLimited);
    // A slot in every window, or no send: a later window's refusal leaves the earlier counters one
    // higher for their (shorter) window — conservative, never above a cap.
    if (state.dayFull !== false && g.attempts === 0) return retryLater(g, owner, undefined, state.dayFull).then(() => 'rate' as const);
    // One slot in each shared rate window (the limits read above: one config snapshot per grant).
    for (const w of sendWindows(limits, deps.ratePerSecond, clock.now())) {
      // A bill already attempted was counted (per packet) by its first send.
      if (w.perPacket && g.attempts > 0) continue;
      const slot = await counters.incrementWithin(w.key, 1, w.limit, w.ttlSeconds);
      if (!slot.allowed && w.perPacket) {
        // The day's packets are used up: new packets wait for the next Beijing day; resends and
        // queries of packets already attempted go on.
        if (state.dayFull === false)
          log.warn({ limit: w.limit, waitMs: w.endsInMs }, `send_rate_per_day (${w.limit}) reached: new red packets wait until 00:00 Beijing time`);
        state.dayFull = w.endsInMs;
        await retryLater(g, owner, undefined, w.endsInMs);
        return 'rate';
      }
      if (!slot.allowed) {
        state.rateLimited = w.endsInMs;
        await retryLater(g, owner, undefined, w.endsInMs);
        return 'rate';
      }
    }

    if (!(await ledger.markSending(g.id, { owner, now: clock.now(), ...(queried ? { answer: queried } : {}) }))) {
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
    const answer = sendAnswer(requestOf(g).kind === 'fission' ? 'sendgroupredpack' : 'sendredpack', outcome);
    switch (outcome.status) {
      case 'sent': {
        const changed = await ledger.settle(g.id, { status: 'SENT', now: clock.now(), sendListId: outcome.sendListId || undefined, answer });
        if (changed) settledMetric.inc({ status: 'SENT' });
        return 'sent';
      }
      case 'uncertain':
        log.warn({ billNo: g.billNo, code: outcome.code, attempts }, 'red packet outcome unknown; will query and retry with the same bill number');
        return retryLater(g, owner, `${outcome.code}: ${outcome.message}`, backoff(attempts), answer);
      case 'config': {
        const reason = `${outcome.code}: ${outcome.message}`;
        if (state.paused.has(g.campaign)) return retryLater(g, owner, reason, 0, answer); // alerted already in this pass
        state.paused.add(g.campaign);
        await ledger.pauseCampaign(g.campaign, { reason, by: 'worker', now: clock.now() });
        pausedMetric.inc({ campaign: g.campaign, code: outcome.code });
        alerts.inc({ kind: 'campaign_paused' });
        log.error(
          { alert: true, campaign: g.campaign, code: outcome.code, billNo: g.billNo },
          `OPERATOR ALERT: campaign ${g.campaign} paused by WeChat Pay ${outcome.code} (${outcome.message}); ` +
            `its grants wait with their bill numbers — fix the cause, then run "campaign resume ${g.campaign}"`,
        );
        return retryLater(g, owner, reason, 0, answer);
      }
      case 'failed':
        return settleFailed(g, `${outcome.code}: ${outcome.message}`, answer);
      case 'collision':
        return holdCollision(g, `${answer.call}: ${outcome.message}`, answer);
    }
  }

  return function sendRedPacket(g, ctx) {
    return processGrant(g, ctx.owner, ctx.pass ?? { rateLimited: false, dayFull: false, paused: new Set() });
  };
}
