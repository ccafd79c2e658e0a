/**
 * Parses the body once and, in safe or compatible mode (`encrypt_type=aes`), checks `msg_signature`
 * over the `Encrypt` element, decrypts it (our AppId must be the tail) and parses the inner XML. After
 * the rest of the chain, writes the response: the plain reply XML, or in safe mode the encrypted
 * envelope with a fresh nonce and a timestamp in seconds. `success` always goes out as is.
 *
 * @example router.post('/wechat', …, decrypt({ token, crypto, renderer }), …);
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
 */
import { randomInt } from 'node:crypto';
import type { Middleware } from 'koa';
import { type Clock, systemClock } from '../../lib/clock';
import type { ReplyRenderer } from '../../reply/render-reply';
import { CRYPTO_ERROR_CODES, type MessageCrypto, WeChatCryptoError } from '../crypto';
import { checkMsgSignature, computeMsgSignature } from '../signature';
import { MalformedXmlError, parseXml } from '../xml';
import { WebhookError } from './errors';
import { type WebhookState, webhookQuery } from './state';

export interface DecryptOptions {
  token: string;
  /** Present when an EncodingAESKey is configured. Without it, encrypted requests get 400. */
  crypto?: MessageCrypto;
  renderer: ReplyRenderer;
  clock?: Clock;
}

const SUCCESS = 'success';

export function decrypt(options: DecryptOptions): Middleware<WebhookState> {
  const { token, crypto, renderer } = options;
  const clock = options.clock ?? systemClock;
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

/** What the operator should check when a signed message does not decrypt. */
function decryptHint(err: WeChatCryptoError): string {
  return err.code === CRYPTO_ERROR_CODES.ValidateAppidError
    ? 'check WECHAT_APPID (the message is for another account)'
    : 'check WECHAT_ENCODING_AES_KEY (and WECHAT_ENCODING_AES_KEY_PREVIOUS after a rotation)';
}
