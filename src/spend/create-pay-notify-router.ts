/**
 * The WeChat Pay notification endpoint (default `POST /wechat/pay/notify`) as a Koa router, mounted by
 * `createBot` beside the webhook. It accepts both protocols on one path:
 *
 * - **v2** (XML body): verified with the API v2 key (`sign_type` MD5 or HMAC-SHA256); answered with HTTP
 *   200 and `<xml><return_code>SUCCESS|FAIL</return_code><return_msg>…</return_msg></xml>`.
 * - **v3** (JSON body, `Wechatpay-*` headers): signature verified with the platform key, resource
 *   decrypted with the APIv3 key; answered `200 {"code":"SUCCESS"}` or 4xx/5xx `{"code":"FAIL","message":…}`.
 *
 * Success is answered only after the payment handler resolved (the order is durably recorded and its
 * grant recorded). Bad signatures, bad decryption, wrong appid/mch id, malformed or oversized bodies are
 * answered FAIL and record nothing. No secret and no body ever reaches a log or an answer.
 *
 * @example
 * const router = createPayNotifyRouter({ v2: { key }, v3: { apiV3Key, platformKeys }, appIds: [appId], mchId, handle, log });
 * app.use(router.routes());
 * @see https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7&index=8
 * @see https://pay.weixin.qq.com/doc/v3/merchant/4012791861
 */
import type { IncomingMessage } from 'node:http';
import { Router } from '@koa/router';
import type { Context } from 'koa';
import { systemClock, type Clock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import { readRawBody, type RawBodyFailure } from '../lib/read-raw-body';
import type { PaymentHandler } from './handle-payment';
import { PayNotifyError, type ParsedNotification } from './payment-order';
import { parseV2Notification, v2Answer } from './parse-v2-notification';
import { parseV3Notification } from './parse-v3-notification';
import { v3SignatureHeaders, type PlatformKeys } from './verify-v3-signature';

/** Options of {@link createPayNotifyRouter}. */
export interface PayNotifyRouterOptions {
  /** Default `/wechat/pay/notify`. */
  path?: string;
  /** v2 notifications (absent: v2 is answered FAIL "not configured"). */
  v2?: { key: string };
  /** v3 notifications (absent: v3 is answered 500 "not configured"). */
  v3?: { apiV3Key: string; platformKeys: PlatformKeys; windowSeconds?: number };
  /** Appids payments may be for. */
  appIds: readonly string[];
  mchId: string;
  handle: PaymentHandler;
  log: Logger;
  clock?: Clock;
  /** Default 32 KiB (a notification is ~1–2 KiB). */
  maxBodyBytes?: number;
  /** Default 10 s. */
  readTimeoutMs?: number;
}

/**
 * Builds the router. Throws at once on missing options.
 *
 * @example createPayNotifyRouter({ v2: { key }, appIds: [appId], mchId, handle, log }).routes()
 * @see https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7&index=8
 */
export function createPayNotifyRouter(options: PayNotifyRouterOptions): Router {
  if (!options || typeof options.handle !== 'function') throw new TypeError('createPayNotifyRouter: handle is required');
  if (!Array.isArray(options.appIds) || options.appIds.length === 0) throw new TypeError('createPayNotifyRouter: appIds must name at least one appid');
  if (typeof options.mchId !== 'string' || options.mchId === '') throw new TypeError('createPayNotifyRouter: mchId is required');
  if (typeof options.log?.child !== 'function') throw new TypeError('createPayNotifyRouter: log must be a pino logger');
  if (options.v2 && (typeof options.v2.key !== 'string' || options.v2.key.length === 0)) throw new TypeError('createPayNotifyRouter: v2.key is empty');
  if (options.v3 && (Buffer.byteLength(options.v3.apiV3Key ?? '') !== 32 || !(options.v3.platformKeys instanceof Map) || options.v3.platformKeys.size === 0))
    throw new TypeError('createPayNotifyRouter: v3 needs a 32-byte apiV3Key and at least one platform key');
  const path = options.path ?? '/wechat/pay/notify';
  if (!path.startsWith('/')) throw new TypeError('createPayNotifyRouter: path must start with "/"');
  const limit = options.maxBodyBytes ?? 32 * 1024;
  const timeoutMs = options.readTimeoutMs ?? 10_000;
  const clock = options.clock ?? systemClock;
  const log = options.log.child({ module: 'pay-notify' });
  const router = new Router();

  router.post(path, async function payNotify(ctx) {
    const v3 = isV3(ctx);
    // The access log's request id (set by createWebhook's access-log middleware), so these lines join it.
    const reqId = (ctx.state as { requestId?: string }).requestId;
    try {
      const body = await readNotifyBody(ctx.req, ctx.get('content-length'), limit, timeoutMs);
      const parsed = parse(v3, ctx, body);
      if (parsed.kind === 'ignored') {
        log.info({ reqId, protocol: v3 ? 'v3' : 'v2', reason: parsed.reason }, 'notification carries no order: acknowledged');
      } else {
        const outcome = await options.handle(parsed.order);
        log.info(
          { reqId, protocol: parsed.order.protocol, transactionId: parsed.order.transactionId, duplicate: outcome.duplicate, grant: outcome.grant?.outcome },
          'payment notification acknowledged',
        );
      }
      answer(ctx, v3, undefined);
    } catch (err) {
      const e = err instanceof PayNotifyError ? err : new PayNotifyError('unavailable', 'the notification could not be handled; send it again');
      if (!(err instanceof PayNotifyError))
        log.error({ reqId, err: err instanceof Error ? { message: err.message, name: err.name } : String(err) }, 'payment notification failed');
      else log.warn({ reqId, protocol: v3 ? 'v3' : 'v2', code: e.code, reason: e.message }, 'payment notification rejected');
      if (e.code === 'too_large') ctx.set('Connection', 'close');
      answer(ctx, v3, e);
    }
  });

  router.all(path, async function payNotifyMethod(ctx) {
    ctx.status = 405;
    ctx.set('Allow', 'POST');
    ctx.body = { code: 'FAIL', message: 'method not allowed' };
  });

  function parse(v3: boolean, ctx: Context, body: string): ParsedNotification {
    if (v3) {
      if (!options.v3) throw new PayNotifyError('not_configured', 'v3 notifications are not configured (WECHAT_PAY_APIV3_KEY, WECHAT_PAY_PLATFORM_CERT)');
      return parseV3Notification(v3SignatureHeaders(ctx.headers), body, {
        apiV3Key: options.v3.apiV3Key,
        platformKeys: options.v3.platformKeys,
        windowSeconds: options.v3.windowSeconds,
        appIds: options.appIds,
        mchId: options.mchId,
        nowSeconds: Math.floor(clock.now() / 1000),
      });
    }
    if (!options.v2) throw new PayNotifyError('not_configured', 'v2 notifications are not configured (WECHAT_PAY_KEY)');
    return parseV2Notification(body, { key: options.v2.key, appIds: options.appIds, mchId: options.mchId });
  }

  return router;
}

/** v3 when WeChat Pay's v3 headers or a JSON content type are present; else v2 XML. */
function isV3(ctx: Context): boolean {
  return ctx.get('wechatpay-signature') !== '' || ctx.get('wechatpay-serial') !== '' || /json/i.test(ctx.get('content-type'));
}

function answer(ctx: Context, v3: boolean, error: PayNotifyError | undefined): void {
  if (v3) {
    ctx.status = error ? error.status : 200;
    ctx.body = error ? { code: 'FAIL', message: error.message } : { code: 'SUCCESS', message: '成功' };
    return;
  }
  ctx.status = error?.code === 'too_large' ? 413 : 200;
  ctx.type = 'application/xml';
  ctx.body = error ? v2Answer('FAIL', error.message) : v2Answer('SUCCESS', 'OK');
}

/** Reads the body (a declared length over the limit is refused before reading); failures as the router's errors. */
function readNotifyBody(req: IncomingMessage, declared: string, limit: number, timeoutMs: number): Promise<string> {
  if (Number(declared || '0') > limit) {
    req.resume();
    return Promise.reject(new PayNotifyError('too_large', 'body too large'));
  }
  return readRawBody(req, { limitBytes: limit, timeoutMs, fail: notifyBodyError });
}

function notifyBodyError(why: RawBodyFailure): PayNotifyError {
  if (why === 'too_large') return new PayNotifyError('too_large', 'body too large');
  if (why === 'timeout') return new PayNotifyError('malformed', 'the body was not received in time');
  return new PayNotifyError('malformed', 'the body could not be read');
}
