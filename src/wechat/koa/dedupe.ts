/**
 * Makes the handler run once per message, however often WeChat retries it. The key (MsgId, or
 * FromUserName+CreateTime+Event+EventKey[+UserCardCode] for events — see `dedupeKey()`) is claimed
 * atomically in the store; the rendered reply is stored with it, so every retry gets the FIRST reply,
 * including a retry that arrives while the first is still being handled (it waits for it, up to the
 * deadline). Keys are kept 10 minutes by default (WeChat retries within ~15 s).
 *
 * @example router.post('/wechat', …, dedupe({ store: store.dedupe, metrics }), dispatch(…));
 */
import { performance } from 'node:perf_hooks';
import type { Middleware } from 'koa';
import type { Metrics } from '../../lib/metrics';
import type { DedupeStore } from '../../store/ports';
import { dedupeKey } from '../inbound';
import type { WebhookState } from './state';

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

export function dedupe(options: DedupeOptions): Middleware<WebhookState> {
  const ttl = options.ttlSeconds ?? 600;
  if (ttl < 300) throw new TypeError('dedupe: ttlSeconds must be at least 300 (WeChat retries for ~15 s; keep a margin)');
  const deadlineMs = options.deadlineMs ?? 4500;
  const pollMs = options.pollMs ?? 25;
  const { store } = options;
  const hits = options.metrics.counter('wechat_dedupe_hits_total', 'Retries answered from the first reply');
  /**
   * Messages being handled in this process, each with the retries waiting for its reply (most have
   * none: the list is made empty and only grows when a retry arrives), so a local retry waits
   * without polling.
   */
  const local = new Map<string, ((reply: string | undefined) => void)[]>();

  /**
   * Waits for the first attempt's reply. `undefined` means its claim vanished — the first attempt
   * failed and released it, or its instance died and the in-flight lease ran out — so the caller
   * should claim the message and handle it itself.
   */
  async function waitForFirst(key: string, deadlineAt: number): Promise<string | undefined> {
    const waiters = local.get(key);
    if (waiters) {
      return new Promise<string | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(SUCCESS), Math.max(0, deadlineAt - performance.now()));
        waiters.push((reply) => {
          clearTimeout(timer);
          resolve(reply);
        });
      });
    }
    let delay = pollMs;
    while (performance.now() < deadlineAt) {
      await new Promise((r) => setTimeout(r, Math.min(delay, Math.max(1, deadlineAt - performance.now()))));
      const state = await store.peek(key);
      if (state === undefined) return undefined;
      if (state.state === 'done') return state.reply;
      delay = Math.min(delay * 2, 200);
    }
    return SUCCESS;
  }

  return async function dedupeMiddleware(ctx, next) {
    const message = ctx.state.message!;
    const key = `dedupe:${message.ToUserName}:${dedupeKey(message)}`;
    let claim: Awaited<ReturnType<DedupeStore['claim']>>;
    try {
      claim = await store.claim(key, ttl);
    } catch (err) {
      // The store is down. Failing open answers the follower (rewards stay at most once: the ledger
      // keys grants by message and rule); failing closed would lose the message, since WeChat does
      // not retry a `success`.
      ctx.app.emit('error', err, ctx);
      ctx.state.dedupeSkipped = true;
      await next();
      return;
    }
    let counted = false;
    while (claim.state !== 'new') {
      if (!counted) hits.inc();
      counted = true;
      const reply = claim.state === 'done' ? claim.reply : await waitForFirst(key, ctx.state.startedAt + deadlineMs);
      if (reply !== undefined) {
        ctx.state.outcome = 'duplicate';
        ctx.state.replyXml = reply;
        return;
      }
      // The first attempt is gone without a reply: this retry takes the message over.
      claim = await store.claim(key, ttl);
    }
    const waiters: ((reply: string | undefined) => void)[] = [];
    local.set(key, waiters);
    const settle = (value: string | undefined) => {
      local.delete(key);
      for (const wake of waiters) wake(value);
    };
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
  };
}
