/**
 * Reads the request into the typed `InboundMessage`, once. It is the webhook's only reader of the
 * request body:
 *
 * 1. the raw body, with a size limit (413 beyond it) and a read timeout (400), into
 *    `ctx.state.rawBody`. Works beside an upstream body parser: when one already consumed the stream,
 *    the raw text it kept (`ctx.request.rawBody`, as koa-bodyparser keeps it, or a string
 *    `ctx.request.body`) is used; when none was kept the edge fails loudly with how to mount it,
 *    instead of seeing an empty body;
 * 2. the XML, and in safe or compatible mode (`encrypt_type=aes`) `msg_signature` checked over the
 *    `Encrypt` element, decrypted (our AppId must be the tail) and the inner XML parsed, noting
 *    `encrypted`, the `keyIndex` that decrypted it and `decryptedXml`;
 * 3. `parseInbound` makes the typed variant (unknown types become the `unknown` variant and carry on).
 *
 * Malformed XML, a message that does not decrypt and missing or invalid header fields get 400, a bad
 * `msg_signature` 401. It writes no response: the reply, or its encrypted envelope, is written by
 * `respond.ts`.
 *
 * @example router.post('/wechat', verifySignature(…), readMessage({ token, crypto, limitBytes: 64 * 1024 }), respond({ token, crypto, renderer }), …);
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
 */
import type { Middleware } from 'koa';
import { readRawBody, type RawBodyFailure, type RawBodyStream } from '../../lib/read-raw-body';
import type { QueryValues } from '../../lib/query-string';
import { CRYPTO_ERROR_CODES, type MessageCrypto, WeChatCryptoError } from '../crypto';
import type { InboundMessage } from '../inbound';
import { InvalidInboundError, parseInbound } from '../parse-inbound';
import { checkMsgSignature } from '../signature';
import { MalformedXmlError, parseXml } from '../xml';
import { WebhookError } from './errors';
import { type WebhookState, webhookQuery } from './state';

export interface ReadMessageOptions {
  /** Checks `msg_signature` in safe and compatible mode. */
  token: string;
  /** Present when an EncodingAESKey is configured. Without it, encrypted requests get 400. */
  crypto?: MessageCrypto;
  /** Default 64 KiB. */
  limitBytes?: number;
  /** Default 10 s. */
  timeoutMs?: number;
}

type Ctx = Parameters<Middleware<WebhookState>>[0];

export function readMessage(options: ReadMessageOptions): Middleware<WebhookState> {
  const { token, crypto } = options;
  const limit = options.limitBytes ?? 64 * 1024;
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!Number.isInteger(limit) || limit <= 0) throw new TypeError('readMessage: limitBytes must be a positive integer');
  return async function readMessageMiddleware(ctx, next) {
    ctx.state.rawBody = await readBodyText(ctx, limit, timeoutMs);
    const outer = parseBody(ctx.state.rawBody);
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

// === 1. The raw body

/** The body's text: kept by an upstream body parser, or read from the stream. */
async function readBodyText(ctx: Ctx, limit: number, timeoutMs: number): Promise<string> {
  const req = ctx.req;
  const request = ctx.request as typeof ctx.request & { rawBody?: unknown; body?: unknown };
  if (typeof request.rawBody === 'string') {
    if (Buffer.byteLength(request.rawBody) > limit) throw new WebhookError(413, 'too_large', 'body too large');
    return request.rawBody;
  }
  if (req.readableEnded || req.readableDidRead) {
    // Consumed upstream. (Not `req.complete`: that is true as soon as a small body has ARRIVED, still
    // unread in the buffer, e.g. behind any upstream middleware that awaited something.)
    if (typeof request.body === 'string') {
      if (Buffer.byteLength(request.body) > limit) throw new WebhookError(413, 'too_large', 'body too large');
      return request.body;
    }
    throw new WebhookError(
      500,
      'body_consumed',
      'the request body was consumed by an upstream body parser without keeping the raw text: mount the WeChat webhook before the body parser, or enable its rawBody option',
    );
  }
  const declared = Number(ctx.get('content-length') || '0');
  if (declared > limit) {
    req.resume();
    ctx.set('Connection', 'close');
    throw new WebhookError(413, 'too_large', 'body too large');
  }
  return collect(req, limit, timeoutMs, ctx);
}

/** The webhook's error for each way reading can fail (413 over the limit, else 400). */
function webhookBodyError(why: RawBodyFailure): WebhookError {
  if (why === 'too_large') return new WebhookError(413, 'too_large', 'body too large');
  if (why === 'aborted') return new WebhookError(400, 'bad_body', 'request aborted');
  if (why === 'timeout') return new WebhookError(400, 'bad_body', 'body not received in time');
  return new WebhookError(400, 'bad_body', 'could not read the body');
}

/** Reads the stream; a failure also closes the connection (the rest of an oversized body is not wanted). */
async function collect(req: RawBodyStream, limit: number, timeoutMs: number, ctx: { set(k: string, v: string): void }): Promise<string> {
  try {
    return await readRawBody(req, { limitBytes: limit, timeoutMs, fail: webhookBodyError });
  } catch (error) {
    ctx.set('Connection', 'close');
    throw error;
  }
}

// === 2. The XML, safe mode in. 3. The typed message

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
