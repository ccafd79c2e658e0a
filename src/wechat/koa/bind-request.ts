/**
 * Binds each signed request to the message it carried. WeChat's `signature` covers token, timestamp
 * and nonce only, not the body: without this, one signed URL captured from a proxy's or load balancer's
 * log would carry ANY body — another follower's subscribe, a red packet each — for the whole timestamp
 * window. So the first message a `(timestamp, nonce, signature)` arrives with is bound to it in the
 * shared store until the timestamp has left the window: the same triple with the same message is a
 * retry (de-duplication answers it with the first reply); with another message it is refused with 403,
 * logged at warn (never the body) and counted as `wechat_requests_total{outcome="signature_reused"}`.
 *
 * The digest is SHA-256 over the mode and the message the bot reads: the raw body in plain mode, the
 * decrypted XML in safe and compatible mode (where `msg_signature` already covers `Encrypt`, and the
 * plain copies beside it are never read). So a retry that WeChat encrypts afresh under the same triple
 * is still the same message, and a plain body under a safe-mode triple (a downgrade) is another.
 *
 * Not mounted when safe mode is required (`safeModeOnly`): every request handled then carries a
 * `msg_signature` over its `Encrypt`, which binds the message already.
 *
 * The binding is written without waiting here: `ctx.state.bound` carries its answer, and
 * de-duplication awaits it together with its claim, so both ride in one group commit (one transaction
 * on SQLite, one round trip on Redis) and nothing runs before the binding said yes. Every chain that
 * runs a handler must await `ctx.state.bound` first (`dedupe` and `dispatch` do).
 *
 * When the store cannot be reached, a plain request is refused with 503 (nothing else ties its body to
 * its signature: handling it unchecked is exactly the replay this guards against), while an encrypted
 * one goes on: its `msg_signature` binds what the bot reads.
 *
 * @example router.post('/wechat', verifySignature(…), readMessage(…), respond(…), bindRequest({ store: store.bindings, log }), …);
 * @see https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
 */
import { createHash, hash } from 'node:crypto';
import type { Middleware } from 'koa';
import { type Clock, systemClock } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import type { BindingStore } from '../../store/ports';
import { WebhookError } from './errors';
import { type WebhookState, webhookQuery } from './state';

export interface BindRequestOptions {
  store: BindingStore;
  log: Logger;
  /** The timestamp window of `verifySignature`, seconds (default 300): bindings outlive it. */
  windowSeconds?: number;
  clock?: Clock;
}

/**
 * How long a binding outlives the end of its timestamp's window: 1 s for the whole-second rounding of
 * the window check, and 60 s for clocks of instances that disagree by up to a minute.
 */
export const BINDING_SLACK_SECONDS = 61;

/**
 * Seconds a binding must live, from now: until `timestamp` leaves the window (`timestamp + window`,
 * at most `2 × window` from now for a timestamp that was just accepted), plus {@link BINDING_SLACK_SECONDS}.
 *
 * @example bindingTtlSeconds(1714036504, 1714036504_000, 300) // → 361
 */
export function bindingTtlSeconds(timestamp: number, nowMs: number, windowSeconds: number): number {
  const left = timestamp + windowSeconds - Math.floor(nowMs / 1000);
  return Math.max(0, left) + BINDING_SLACK_SECONDS;
}

/**
 * SHA-256 (hex) of what a request asks the bot to handle: its mode and the message XML.
 *
 * @example messageDigest(false, rawBody) !== messageDigest(true, rawBody)
 */
export function messageDigest(encrypted: boolean, xml: string): string {
  const text = (encrypted ? 'aes\n' : 'raw\n') + xml;
  return typeof hash === 'function' ? hash('sha256', text, 'hex') : createHash('sha256').update(text, 'utf8').digest('hex');
}

export function bindRequest(options: BindRequestOptions): Middleware<WebhookState> {
  const { store, log } = options;
  if (!store || typeof store.bind !== 'function') throw new TypeError('bindRequest: store must be a BindingStore (store.bindings)');
  const windowSeconds = options.windowSeconds ?? 300;
  const clock = options.clock ?? systemClock;
  return async function bindRequestMiddleware(ctx, next) {
    const q = webhookQuery(ctx);
    const encrypted = ctx.state.encrypted === true;
    const xml = (encrypted ? ctx.state.decryptedXml : ctx.state.rawBody) ?? '';
    const ttl = bindingTtlSeconds(Number(q.timestamp), clock.now(), windowSeconds);
    let pending: Promise<Awaited<ReturnType<BindingStore['bind']>>>;
    try {
      pending = store.bind(`sig:${q.timestamp}:${q.nonce}:${q.signature}`, messageDigest(encrypted, xml), ttl);
    } catch (err) {
      pending = Promise.reject(err);
    }
    const bound = pending.then(
      (binding) => {
        if (binding !== 'other') return;
        log.warn(
          { timestamp: q.timestamp, nonce: q.nonce, encrypted, ip: ctx.ip },
          'signed request reused with another body: refused (a captured webhook URL is being replayed)',
        );
        throw new WebhookError(403, 'signature_reused', 'signed request already used');
      },
      (err: unknown) => {
        ctx.app.emit('error', err, ctx);
        if (!encrypted) throw new WebhookError(503, 'binding_unavailable', 'service unavailable, try again');
      },
    );
    // Observed by whoever awaits it; a request refused before that (bad XML) leaves it unobserved.
    bound.catch(() => undefined);
    ctx.state.bound = bound;
    await next();
  };
}
