/**
 * The one place a handled message's HTTP response is written, like Koa's own `respond()`: after the
 * rest of the chain (decrypt, de-duplication, dispatch) has left the reply in `ctx.state.replyXml`,
 * this writes status 200, the content type and the body — the plain reply XML, or in safe and
 * compatible mode (`ctx.state.encrypted`) the encrypted envelope with a fresh nonce, a timestamp in
 * seconds and its `MsgSignature`, under the AES key that decrypted the request. `success` (and an
 * empty reply) always goes out as is, as plain text. Errors thrown by the chain pass through to
 * `handleErrors`, which answers them.
 *
 * @example compose([handleErrors(…), verifySignature(…), readBody(), respond({ token, crypto, renderer }), decrypt({ token, crypto }), …]);
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
 */
import { randomInt } from 'node:crypto';
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
}

const SUCCESS = 'success';

/**
 * Writes the response of a handled message once the chain after it resolved.
 *
 * @example router.post('/wechat', …, readBody(), respond({ token, crypto, renderer }), decrypt({ token, crypto }), …);
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
export function respond(options: RespondOptions): Middleware<WebhookState> {
  const { token, crypto, renderer } = options;
  if (typeof token !== 'string' || token === '') throw new TypeError('respond: token is required');
  if (!renderer || typeof renderer.renderEnvelope !== 'function') throw new TypeError('respond: renderer is required');
  const clock = options.clock ?? systemClock;
  return async function respondMiddleware(ctx, next) {
    await next();

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
