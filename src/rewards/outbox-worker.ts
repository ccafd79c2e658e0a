/**
 * The outbox worker: sends recorded grants of every reward kind, red packets exactly once in money.
 *
 * Each pass claims the due grants (leased, so a crashed worker's grants come back when the lease
 * expires; no more than the shared send rate leaves this second) and hands each to the sender of its
 * kind (a `GrantSender`, src/rewards/reward-kind.ts): red packets to `red-packet-sender.ts` (quiet
 * hours, query-before-resend, rate windows, send with the fixed bill number), other kinds to the
 * `senders` the app registers (cards: `Cards.sendGrant`). A grant of a kind with no sender waits.
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
import { createMetrics, type Metrics } from '../lib/metrics';
import type { LedgerGrant } from './ledger';
import { sendWindows } from './limits';
import { createRedPacketSender, type RedPacketSenderDeps } from './red-packet-sender';
import type { GrantSender, PassState, SendStep } from './reward-kind';

/** What {@link createOutboxWorker} needs. */
export interface OutboxWorkerDeps extends Pick<RedPacketSenderDeps, 'ledger' | 'redpack' | 'counters' | 'clock' | 'log' | 'config' | 'notify'> {
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
  senders?: Partial<Record<string, GrantSender>>;
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

export { REWARDS_METRICS } from './rewards-metrics';

/**
 * Builds the worker. Validates its dependencies now.
 *
 * @example const worker = createOutboxWorker({ ledger, redpack, counters, clock, log, config, ratePerSecond: 30 });
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function createOutboxWorker(deps: OutboxWorkerDeps): OutboxWorker {
  if (!deps || typeof deps.ledger?.claimDue !== 'function') throw new TypeError('createOutboxWorker: ledger is required');
  if (typeof deps.redpack?.send !== 'function' || typeof deps.redpack?.query !== 'function') throw new TypeError('createOutboxWorker: redpack must be a RedpackApi');
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
  const sendRedPacket = createRedPacketSender({
    ledger,
    redpack,
    counters,
    clock,
    log,
    config,
    metrics,
    backoff,
    ratePerSecond: deps.ratePerSecond,
    notify: deps.notify,
  });
  /** One sender per reward kind; red packets are one of them. */
  const senders: Partial<Record<string, GrantSender>> = { red_packet: sendRedPacket };
  for (const [kind, send] of Object.entries(deps.senders ?? {})) if (send) senders[kind] = send;

  async function processGrant(g: LedgerGrant, state: PassState): Promise<SendStep> {
    const sender = senders[g.kind];
    if (sender) return sender(g, { owner, pass: state });
    await ledger.reschedule(g.id, { owner, dueAt: clock.now() + 60_000, now: clock.now(), lastError: `no sender for ${g.kind} grants` });
    return 'retried';
  }

  async function runOnce(): Promise<OutboxPass> {
    // Claim no more than the shared rate cap leaves this second: grants claimed beyond it would only
    // be put back one by one, starving the next second (seen as 0/40/0/40 sends across workers).
    let limit = batchSize;
    for (const w of sendWindows(config().limits, deps.ratePerSecond, clock.now())) {
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
        let step: SendStep;
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
