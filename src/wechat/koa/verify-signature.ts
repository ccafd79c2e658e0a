/**
 * Checks `signature = sha1(sort(token, timestamp, nonce))` in constant time, and that `timestamp` is
 * within the replay window, on every GET and POST. Fails with 401 and no detail.
 *
 * @example router.all('/wechat', verifySignature({ token: 'abc', windowSeconds: 300 }), …);
 * @see https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
 */
import type { Middleware } from 'koa';
import { type Clock, systemClock } from '../../lib/clock';
import { checkSignature } from '../signature';
import { WebhookError } from './errors';
import { type WebhookState, webhookQuery } from './state';

export interface VerifySignatureOptions {
  token: string;
  /** Accepted distance between `timestamp` and our clock, seconds (default 300). */
  windowSeconds?: number;
  clock?: Clock;
}

export function verifySignature(options: VerifySignatureOptions): Middleware<WebhookState> {
  if (typeof options.token !== 'string' || !/^[A-Za-z0-9]{3,32}$/.test(options.token)) throw new TypeError('verifySignature: token must be 3–32 letters or digits');
  const windowSeconds = options.windowSeconds ?? 300;
  const clock = options.clock ?? systemClock;
  const { token } = options;
  return async function verifySignatureMiddleware(ctx, next) {
    const q = webhookQuery(ctx);
    const timestamp = q.timestamp;
    if (!checkSignature(token, { signature: q.signature, timestamp, nonce: q.nonce }))
      throw new WebhookError(401, 'bad_signature', 'bad signature', 'check WECHAT_TOKEN (it must equal the Token in the WeChat console)');
    const ts = Number(timestamp);
    // Whole seconds on both sides: `timestamp` has second granularity, so a fractional `now` would make
    // the window asymmetric (up to 1 s shorter into the past than into the future).
    if (!/^\d{1,12}$/.test(timestamp ?? '') || Math.abs(Math.floor(clock.now() / 1000) - ts) > windowSeconds)
      throw new WebhookError(401, 'stale_timestamp', 'timestamp outside the accepted window');
    await next();
  };
}
