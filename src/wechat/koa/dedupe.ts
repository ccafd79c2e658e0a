/**
 * Makes the handler run once per message, however often WeChat retries it. The key (MsgId, or
 * FromUserName+CreateTime+Event+EventKey[+UserCardCode] for events — see `dedupeKey()`) is claimed
 * atomically in the store; the rendered reply is stored with it, so every retry gets the FIRST reply,
 * including a retry that arrives while the first is still being handled (it waits for it, up to the
 * deadline). Keys are kept 10 minutes by default (WeChat retries within ~15 s).
 *
 * In one process, a message is never handled twice at once, whatever the store answers: a copy that
 * arrives while another copy is being claimed or handled here waits for that one and does not ask the
 * store. When the claim cannot be made:
 * - the store is busy (`STORE_BUSY`: another process held the SQLite lock past the store's wait):
 *   the message is not handled — its grants would hit the same locked file, and running it
 *   unclaimed could run it twice; the error is emitted, WeChat got `success` by the deadline guard
 *   (`respond`), which also answers while the claim is still waiting;
 * - the store fails otherwise (unreachable): the handler runs unclaimed (fail open: the follower is
 *   answered; grants stay at most once, the ledger keys them by message and rule).
 *
 * @example router.post('/wechat', …, dedupe({ store: store.dedupe, metrics }), dispatch(…));
 */
import { performance } from 'node:perf_hooks';
import type { Middleware } from 'koa';
import type { Metrics } from '../../lib/metrics';
import { isStoreBusy, type DedupeClaim, type DedupeStore } from '../../store/ports';
import { dedupeKey } from '../inbound';
import type { WebhookState } from './state';
import { WebhookError } from './errors';

export interface DedupeOptions {
  store: DedupeStore;
  metrics: Metrics;
  /** How long a key is remembered, seconds (default 600, at least 300). */
  ttlSeconds?: number;
  /** A waiting retry gives up and answers `success` this long after its own arrival (default 4500 ms). */
  deadlineMs?: number;
  /** Store polling interval while another instance handles the message (default 25 ms). */
  pollMs?: number;
}

const SUCCESS = 'success';
/** What `pollStore` returns when the deadline came before the other instance's reply. */
const TIMED_OUT = Symbol('timed out');

/** Wakes the copies of a message waiting here: with its reply, or `undefined` when it gave up. */
type Waiter = (reply: string | undefined) => void;

export function dedupe(options: DedupeOptions): Middleware<WebhookState> {
  const ttl = options.ttlSeconds ?? 600;
  if (ttl < 300) throw new TypeError('dedupe: ttlSeconds must be at least 300 (WeChat retries for ~15 s; keep a margin)');
  const deadlineMs = options.deadlineMs ?? 4500;
  const pollMs = options.pollMs ?? 25;
  const { store } = options;
  const hits = options.metrics.counter('wechat_dedupe_hits_total', 'Retries answered from the first reply');
  /**
   * Messages being claimed or handled in this process, each with the copies waiting for its reply
   * (most have none: the list is made empty and only grows when a copy arrives), so a copy waits
   * here without polling, and never runs the handler while the first may still run it.
   */
  const local = new Map<string, Waiter[]>();

  /** Waits for the copy being handled here: its reply, `undefined` if it gave up, `success` at the deadline. */
  function waitLocally(waiters: Waiter[], deadlineAt: number): Promise<string | undefined> {
    return new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(SUCCESS), Math.max(0, deadlineAt - performance.now()));
      waiters.push((reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
    });
  }

  /**
   * Waits for another instance's reply. `undefined` means its claim vanished — it failed and
   * released it, or it died and the in-flight lease ran out — so the caller should claim the message
   * and handle it itself.
   */
  async function pollStore(key: string, deadlineAt: number): Promise<string | undefined | typeof TIMED_OUT> {
    let delay = pollMs;
    while (performance.now() < deadlineAt) {
      await new Promise((r) => setTimeout(r, Math.min(delay, Math.max(1, deadlineAt - performance.now()))));
      const state = await store.peek(key);
      if (state === undefined) return undefined;
      if (state.state === 'done') return state.reply;
      delay = Math.min(delay * 2, 200);
    }
    return TIMED_OUT;
  }

  /**
   * Claims the message and runs the rest of the chain when this attempt owns it. Calls `settle` once
   * the copies waiting here can be answered (with the reply, or `undefined` when they should try
   * themselves); the caller settles with `undefined` if this returns or throws without settling.
   */
  async function claimAndHandle(
    ctx: Parameters<Middleware<WebhookState>>[0],
    next: () => Promise<unknown>,
    key: string,
    settle: Waiter,
    countHit: () => void,
  ): Promise<void> {
    let claim: DedupeClaim;
    try {
      const claiming = store.claim(key, ttl);
      const { bound } = ctx.state;
      if (bound) {
        // The binding and the claim were queued together: wait for the binding's answer first.
        claiming.catch(() => undefined);
        try {
          await bound;
        } catch (refused) {
          void claiming.then((c) => (c.state === 'new' ? store.release(key) : undefined)).catch(() => undefined);
          throw refused;
        }
      }
      claim = await claiming;
    } catch (err) {
      if (err instanceof WebhookError) throw err;
      ctx.app.emit('error', err, ctx);
      if (isStoreBusy(err)) {
        ctx.state.outcome = 'store_busy';
        return;
      }
      // The store is down. Failing open answers the follower (rewards stay at most once: the ledger
      // keys grants by message and rule); failing closed would lose the message, since WeChat does
      // not retry a `success`. Copies arriving here meanwhile wait for this run.
      ctx.state.dedupeSkipped = true;
      await next();
      settle(ctx.state.replyXml ?? SUCCESS);
      return;
    }
    while (claim.state !== 'new') {
      countHit();
      const reply = claim.state === 'done' ? claim.reply : await pollStore(key, ctx.state.startedAt + deadlineMs);
      if (reply !== undefined) {
        ctx.state.outcome = 'duplicate';
        ctx.state.replyXml = reply === TIMED_OUT ? SUCCESS : reply;
        if (reply !== TIMED_OUT) settle(reply);
        return;
      }
      // The first attempt is gone without a reply: this retry takes the message over.
      claim = await store.claim(key, ttl);
    }
    let reply: string;
    try {
      await next();
      reply = ctx.state.replyXml ?? SUCCESS;
    } catch (err) {
      // The handler failed: give the key up so a retry (one waiting here included) runs it again.
      settle(undefined);
      await store.release(key).catch(() => undefined);
      throw err;
    }
    settle(reply);
    try {
      await store.complete(key, reply, ttl);
    } catch (err) {
      // The handler DID run: keep the claim (a retry must not run it twice) and still deliver the reply.
      ctx.app.emit('error', err, ctx);
    }
  }

  return async function dedupeMiddleware(ctx, next) {
    const message = ctx.state.message!;
    const key = `dedupe:${message.ToUserName}:${dedupeKey(message)}`;
    let counted = false;
    const countHit = () => {
      if (!counted) hits.inc();
      counted = true;
    };
    // A copy of this message is being claimed or handled here: wait for it, never run beside it.
    for (let first = local.get(key); first; first = local.get(key)) {
      if (ctx.state.bound) await ctx.state.bound; // a copy under a reused signature is refused, not answered
      countHit();
      const reply = await waitLocally(first, ctx.state.startedAt + deadlineMs);
      if (reply !== undefined) {
        ctx.state.outcome = 'duplicate';
        ctx.state.replyXml = reply;
        return;
      }
      // That copy gave the message up (its handler failed): claim it, unless another waiter did.
    }
    const waiters: Waiter[] = [];
    local.set(key, waiters);
    let settled = false;
    const settle: Waiter = (reply) => {
      if (settled) return;
      settled = true;
      local.delete(key);
      for (const wake of waiters) wake(reply);
    };
    try {
      await claimAndHandle(ctx, next, key, settle, countHit);
    } finally {
      settle(undefined);
    }
  };
}
