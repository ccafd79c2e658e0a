/**
 * Parses the body once and, in safe or compatible mode (`encrypt_type=aes`), checks `msg_signature`
 * over the `Encrypt` element, decrypts it (our AppId must be the tail) and parses the inner XML into
 * `ctx.state.fields`, noting `encrypted` and the `keyIndex` that decrypted it. It only decrypts: the
 * response (the reply, or its encrypted envelope) is written by `respond.ts`.
 *
 * @example router.post('/wechat', …, respond({ token, crypto, renderer }), decrypt({ token, crypto }), …);
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
 */
import type { Middleware } from 'koa';
import { CRYPTO_ERROR_CODES, type MessageCrypto, WeChatCryptoError } from '../crypto';
import { checkMsgSignature } from '../signature';
import { MalformedXmlError, parseXml } from '../xml';
import { WebhookError } from './errors';
import { type WebhookState, webhookQuery } from './state';

export interface DecryptOptions {
  token: string;
  /** Present when an EncodingAESKey is configured. Without it, encrypted requests get 400. */
  crypto?: MessageCrypto;
}

export function decrypt(options: DecryptOptions): Middleware<WebhookState> {
  const { token, crypto } = options;
  return async function decryptMiddleware(ctx, next) {
    const raw = ctx.state.rawBody ?? '';
    if (raw.trim() === '') throw new WebhookError(400, 'bad_xml', 'empty body');
    let outer: Record<string, unknown>;
    try {
      outer = parseXml(raw);
    } catch (err) {
      if (err instanceof MalformedXmlError) throw new WebhookError(400, 'bad_xml', 'malformed XML');
      throw err;
    }
    const q = webhookQuery(ctx);
    const encryptType = 'encrypt_type' in q ? q.encrypt_type : 'raw';
    if (encryptType === 'aes') {
      if (!crypto) throw new WebhookError(400, 'not_configured', 'safe mode is not configured on this bot (set WECHAT_ENCODING_AES_KEY)');
      const encrypt = outer.Encrypt;
      if (typeof encrypt !== 'string' || encrypt === '') throw new WebhookError(400, 'bad_xml', 'missing Encrypt element');
      if (!checkMsgSignature(token, { msg_signature: q.msg_signature, timestamp: q.timestamp, nonce: q.nonce }, encrypt))
        throw new WebhookError(401, 'bad_signature', 'bad msg_signature', 'check WECHAT_TOKEN (msg_signature is signed with the Token)');
      let inner: string;
      try {
        const out = crypto.decrypt(encrypt);
        inner = out.xml;
        ctx.state.decryptedXml = inner;
        ctx.state.keyIndex = out.keyIndex;
      } catch (err) {
        if (err instanceof WeChatCryptoError) throw new WebhookError(400, 'bad_crypto', 'could not decrypt the message', decryptHint(err));
        throw err;
      }
      try {
        ctx.state.fields = parseXml(inner);
      } catch (err) {
        if (err instanceof MalformedXmlError) throw new WebhookError(400, 'bad_xml', 'malformed XML inside Encrypt');
        throw err;
      }
      ctx.state.encrypted = true;
    } else if (encryptType === 'raw') {
      ctx.state.fields = outer;
    } else {
      throw new WebhookError(400, 'bad_request', 'unknown encrypt_type');
    }

    await next();
  };
}

/** What the operator should check when a signed message does not decrypt. */
function decryptHint(err: WeChatCryptoError): string {
  return err.code === CRYPTO_ERROR_CODES.ValidateAppidError
    ? 'check WECHAT_APPID (the message is for another account)'
    : 'check WECHAT_ENCODING_AES_KEY (and WECHAT_ENCODING_AES_KEY_PREVIOUS after a rotation)';
}
