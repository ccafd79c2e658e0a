/**
 * Turns the request body into the typed `InboundMessage`, once: parses the XML and, in safe or
 * compatible mode (`encrypt_type=aes`), checks `msg_signature` over the `Encrypt` element, decrypts it
 * (our AppId must be the tail) and parses the inner XML, noting `encrypted` and the `keyIndex` that
 * decrypted it; then `parseInbound` makes the typed variant (unknown types become the `unknown`
 * variant and carry on). Malformed XML, a bad `msg_signature`, a message that does not decrypt and
 * missing or invalid header fields get 400 (401 for the signature). It writes no response: the reply,
 * or its encrypted envelope, is written by `respond.ts`.
 *
 * @example router.post('/wechat', …, readBody(), decodeMessage({ token, crypto }), respond({ token, crypto, renderer }), …);
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
 */
import type { Middleware } from 'koa';
import { CRYPTO_ERROR_CODES, type MessageCrypto, WeChatCryptoError } from '../crypto';
import { checkMsgSignature } from '../signature';
import { InvalidInboundError, parseInbound } from '../parse-inbound';
import { MalformedXmlError, parseXml } from '../xml';
import { WebhookError } from './errors';
import type { QueryValues } from '../../lib/query-string';
import type { InboundMessage } from '../inbound';
import { type WebhookState, webhookQuery } from './state';

export interface DecodeMessageOptions {
  token: string;
  /** Present when an EncodingAESKey is configured. Without it, encrypted requests get 400. */
  crypto?: MessageCrypto;
}

export function decodeMessage(options: DecodeMessageOptions): Middleware<WebhookState> {
  const { token, crypto } = options;
  return async function decodeMessageMiddleware(ctx, next) {
    const outer = parseBody(ctx.state.rawBody ?? '');
    const q = webhookQuery(ctx);
    const encryptType = 'encrypt_type' in q ? q.encrypt_type : 'raw';
    let fields: Record<string, unknown>;
    if (encryptType === 'aes') fields = openEnvelope(ctx.state, outer, q, token, crypto);
    else if (encryptType === 'raw') fields = outer;
    else throw new WebhookError(400, 'bad_request', 'unknown encrypt_type');
    ctx.state.message = typedMessage(fields);
    await next();
  };
}

/** The body's XML fields; 400 for an empty body or malformed XML. */
function parseBody(raw: string): Record<string, unknown> {
  if (raw.trim() === '') throw new WebhookError(400, 'bad_xml', 'empty body');
  try {
    return parseXml(raw);
  } catch (err) {
    if (err instanceof MalformedXmlError) throw new WebhookError(400, 'bad_xml', 'malformed XML');
    throw err;
  }
}

/**
 * Safe and compatible mode: checks `msg_signature` over `Encrypt`, decrypts it and returns the inner
 * message's fields, noting `encrypted`, `keyIndex` and `decryptedXml` (what the request binding hashes).
 */
function openEnvelope(state: WebhookState, outer: Record<string, unknown>, q: QueryValues, token: string, crypto: MessageCrypto | undefined): Record<string, unknown> {
  if (!crypto) throw new WebhookError(400, 'not_configured', 'safe mode is not configured on this bot (set WECHAT_ENCODING_AES_KEY)');
  const encrypt = outer.Encrypt;
  if (typeof encrypt !== 'string' || encrypt === '') throw new WebhookError(400, 'bad_xml', 'missing Encrypt element');
  if (!checkMsgSignature(token, { msg_signature: q.msg_signature, timestamp: q.timestamp, nonce: q.nonce }, encrypt))
    throw new WebhookError(401, 'bad_signature', 'bad msg_signature', 'check WECHAT_TOKEN (msg_signature is signed with the Token)');
  let inner: string;
  try {
    const out = crypto.decrypt(encrypt);
    inner = out.xml;
    state.decryptedXml = inner;
    state.keyIndex = out.keyIndex;
  } catch (err) {
    if (err instanceof WeChatCryptoError) throw new WebhookError(400, 'bad_crypto', 'could not decrypt the message', decryptHint(err));
    throw err;
  }
  let fields: Record<string, unknown>;
  try {
    fields = parseXml(inner);
  } catch (err) {
    if (err instanceof MalformedXmlError) throw new WebhookError(400, 'bad_xml', 'malformed XML inside Encrypt');
    throw err;
  }
  state.encrypted = true;
  return fields;
}

/** The typed message of the fields; 400 for missing or invalid header fields. */
function typedMessage(fields: Record<string, unknown>): InboundMessage {
  try {
    return parseInbound(fields);
  } catch (err) {
    if (err instanceof InvalidInboundError) throw new WebhookError(400, 'bad_message', err.message);
    throw err;
  }
}

/** What the operator should check when a signed message does not decrypt. */
function decryptHint(err: WeChatCryptoError): string {
  return err.code === CRYPTO_ERROR_CODES.ValidateAppidError
    ? 'check WECHAT_APPID (the message is for another account)'
    : 'check WECHAT_ENCODING_AES_KEY (and WECHAT_ENCODING_AES_KEY_PREVIOUS after a rotation)';
}
