/**
 * Refuses every POST that did not come encrypted (`encrypt_type=aes`), before its body is read: with
 * it, a plain body posted under a captured safe-mode URL stripped of `encrypt_type`/`msg_signature`
 * (a downgrade) is refused, as is anything sent while the account's console is still in plain mode.
 * Compatible-mode requests are encrypted requests (the bot reads only the decrypted `Encrypt`), so
 * they pass. Mounted only when the bot is built with `safeModeOnly` (`WECHAT_SAFE_MODE_ONLY`, on by
 * default when an EncodingAESKey is set).
 *
 * @example router.post('/wechat', verifySignature(…), requireSafeMode({ log }), readMessage(…), …);
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
 */
import type { Middleware } from 'koa';
import type { Logger } from '../../lib/logger';
import { WebhookError } from './errors';
import { type WebhookState, webhookQuery } from './state';

export interface RequireSafeModeOptions {
  log: Logger;
}

export function requireSafeMode(options: RequireSafeModeOptions): Middleware<WebhookState> {
  const { log } = options;
  if (!log || typeof log.warn !== 'function') throw new TypeError('requireSafeMode: log is required');
  return async function requireSafeModeMiddleware(ctx, next) {
    if (webhookQuery(ctx).encrypt_type !== 'aes') {
      log.warn(
        { ip: ctx.ip },
        'plain-mode request refused (WECHAT_SAFE_MODE_ONLY): set message encryption to safe mode in the WeChat console, or WECHAT_SAFE_MODE_ONLY=0 while switching',
      );
      throw new WebhookError(403, 'plain_refused', 'this bot accepts encrypted (safe-mode) messages only');
    }
    await next();
  };
}
