/**
 * The one place a handled message is answered, like Koa's own `respond()`: what WeChat gets and when.
 *
 * When: by the deadline. Everything after this middleware may wait on the store (the binding, the
 * de-duplication claim, polling and completion, the ledger) and runs the handler. WeChat waits 5 s for
 * a passive reply and retries a request that got none; whatever the store does — a lock held by
 * another process, an outage — the answer leaves by the deadline (default 4.5 s after arrival): with
 * the reply when one was rendered, else `success`. The work goes on behind it: `ctx.state` gets
 * `answered: true` (and outcome `deadline` unless the chain set one), a claim that was waiting still
 * runs the handler once, `dispatch` delivers that late reply through its `onLateReply` (the
 * customer-service API), and a later failure goes to `app.emit('error')`.
 *
 * What: once the rest of the chain (de-duplication, dispatch) has left the reply in
 * `ctx.state.replyXml`, status 200, the content type and the body — the plain reply XML, or in safe and
 * compatible mode (`ctx.state.encrypted`) the encrypted envelope with a fresh nonce, a timestamp in
 * seconds and its `MsgSignature`, under the AES key that decrypted the request. `success` (and an
 * empty reply) always goes out as is, as plain text. Errors thrown by the chain before the deadline
 * pass through to `handleErrors`, which answers them.
 *
 * @example compose([handleErrors(…), verifySignature(…), readMessage({ token, crypto }), respond({ token, crypto, renderer }), …]);
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
 * @see https://github.com/grammyjs/grammY/blob/main/src/convenience/webhook.ts
 */
import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Middleware } from 'koa';
import { type Clock, systemClock } from '../../lib/clock';
import type { ReplyRenderer } from '../../reply/render-reply';
import type { MessageCrypto } from '../crypto';
import { computeMsgSignature } from '../signature';
import type { WebhookState } from './state';

/** Options of {@link respond}. */
export interface RespondOptions {
  /** Signs the envelope's `MsgSignature`. */
  token: string;
  /** Present when an EncodingAESKey is configured: encrypts replies to encrypted requests. */
  crypto?: MessageCrypto;
  /** Renders the safe-mode envelope (`views/envelope.xml.ejs`). */
  renderer: ReplyRenderer;
  /** For the envelope's `TimeStamp`. */
  clock?: Clock;
  /** How long after the request arrived (`ctx.state.startedAt`) WeChat gets its answer, ms (default 4500). */
  deadlineMs?: number;
}

const SUCCESS = 'success';

/**
 * Writes the response of a handled message once the chain after it resolved, or at the deadline.
 *
 * @example router.post('/wechat', …, readMessage({ token, crypto }), respond({ token, crypto, renderer, deadlineMs: 4500 }), …);
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
export function respond(options: RespondOptions): Middleware<WebhookState> {
  const { token, crypto, renderer } = options;
  if (typeof token !== 'string' || token === '') throw new TypeError('respond: token is required');
  if (!renderer || typeof renderer.renderEnvelope !== 'function') throw new TypeError('respond: renderer is required');
  const clock = options.clock ?? systemClock;
  const deadlineMs = options.deadlineMs ?? 4500;
  if (!Number.isFinite(deadlineMs) || deadlineMs <= 0) throw new TypeError('respond: deadlineMs must be a number > 0');
  return async function respondMiddleware(ctx, next) {
    await byDeadline(ctx, next, deadlineMs);

    const reply = ctx.state.replyXml ?? SUCCESS;
    ctx.status = 200;
    if (reply === SUCCESS || reply === '') {
      ctx.type = 'text/plain';
      ctx.body = SUCCESS;
    } else if (ctx.state.encrypted && crypto) {
      const timeStamp = Math.floor(clock.now() / 1000);
      const nonce = String(randomInt(100_000_000, 2_000_000_000));
      const encrypt = crypto.encrypt(reply, { keyIndex: ctx.state.keyIndex ?? 0 });
      ctx.type = 'application/xml';
      ctx.body = renderer.renderEnvelope({
        encrypt,
        msgSignature: computeMsgSignature(token, String(timeStamp), nonce, encrypt),
        timeStamp,
        nonce,
      });
    } else {
      ctx.type = 'application/xml';
      ctx.body = reply;
    }
  };
}

/**
 * Races the rest of the chain against the deadline. When the deadline comes first, `ctx.state` gets
 * `answered: true` and outcome `deadline` (unless the chain already set one), and a later failure of
 * the chain goes to `app.emit('error')`; a failure before it rejects.
 */
function byDeadline(ctx: Parameters<Middleware<WebhookState>>[0], next: () => Promise<unknown>, deadlineMs: number): Promise<void> {
  const work = next();
  const startedAt = ctx.state.startedAt ?? performance.now();
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      function deadlineReached() {
        ctx.state.answered = true;
        ctx.state.outcome ??= 'deadline';
        resolve();
      },
      Math.max(0, startedAt + deadlineMs - performance.now()),
    );
    work.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      (err: unknown) => {
        clearTimeout(timer);
        if (ctx.state.answered) ctx.app.emit('error', err, ctx);
        else reject(err);
      },
    );
  });
}
