/**
 * Builds the WeChat webhook: one Koa middleware for `GET|POST <path>` (default `/wechat`) running the
 * middleware below in order (or a `@koa/router` router around it), and a complete Koa app around it
 * with `GET /healthz` and `GET /metrics`. No `listen()` here: `app.ts` listens, tests use
 * `app.callback()` with supertest.
 *
 * Flow of a POST: handleErrors → verifySignature → readBody → decrypt (safe mode in, envelope out) →
 * answerByDeadline (WeChat is answered by the deadline, whatever the store does) → bindRequest (a
 * signed URL carries one message) → parseMessage → dedupe → dispatch (handler under the deadline
 * guard, render once). With `safeModeOnly`, requireSafeMode refuses plain requests before the body is
 * read, and bindRequest is left out (msg_signature binds what the bot reads).
 *
 * @example
 * const app = createWebhook({ token, renderer, handler: async (m) => ({ type: 'text', content: 'hi' }), dedupe: store.dedupe, bindings: store.bindings, log });
 * app.listen(3000);
 */
import Koa, { type Middleware, type ParameterizedContext } from 'koa';
import compose from 'koa-compose';
import { Router } from '@koa/router';
import type { Clock } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import { createMetrics, type Metrics } from '../../lib/metrics';
import type { ReplyRenderer } from '../../reply/render-reply';
import type { BindingStore, DedupeStore } from '../../store/ports';
import type { MessageCrypto } from '../crypto';
import { answerByDeadline } from './answer-by-deadline';
import { bindRequest } from './bind-request';
import { decrypt } from './decrypt';
import { dedupe } from './dedupe';
import { type Delivery, dispatch, type DispatchOptions, type MessageHandler } from './dispatch';
import { WebhookError } from './errors';
import { handleErrors } from './handle-errors';
import { parseMessage } from './parse-message';
import { readBody } from './read-body';
import { requireSafeMode } from './require-safe-mode';
import { type WebhookState, webhookQuery } from './state';
import { verifySignature } from './verify-signature';

export type { Delivery, MessageHandler };

export interface WebhookOptions {
  token: string;
  /** Safe/compatible mode. Without it, only plain-mode requests are accepted. */
  crypto?: MessageCrypto;
  renderer: ReplyRenderer;
  handler: MessageHandler;
  dedupe: DedupeStore;
  /** Where each signed request is bound to its first message (`store.bindings`), shared by every instance. */
  bindings: BindingStore;
  /**
   * Refuse plain and `encrypt_type`-less requests (403): only encrypted ones are handled. Needs
   * `crypto`. Default false here; the settings turn it on whenever an AES key is set.
   */
  safeModeOnly?: boolean;
  log: Logger;
  metrics?: Metrics;
  clock?: Clock;
  /** Default `/wechat`. */
  path?: string;
  timestampWindowSeconds?: number;
  maxBodyBytes?: number;
  deadlineMs?: number;
  dedupeTtlSeconds?: number;
  onLateReply?: DispatchOptions['onLateReply'];
}

/**
 * The webhook as one Koa middleware for `GET|POST <path>` (default `/wechat`, with or without a
 * trailing slash); any other method there gets 405, and other paths pass through to the next
 * middleware. Each method's chain is composed once here, not per request (as a router would).
 *
 * @example app.use(createWebhookMiddleware({ token, renderer, handler, dedupe: store.dedupe, log }));
 */
export function createWebhookMiddleware(options: WebhookOptions): Middleware<WebhookState> {
  const path = options.path ?? '/wechat';
  const withSlash = `${path}/`;
  const handle = webhookHandler(options);
  return function wechatWebhook(ctx, next) {
    const requested = ctx.path; // a getter that parses the URL
    return requested === path || requested === withSlash ? handle(ctx, next) : next();
  };
}

/** The webhook routes alone, to mount in an existing Koa app (`app.use(router.routes())`). */
export function createWebhookRouter(options: WebhookOptions): Router<WebhookState> {
  const router = new Router<WebhookState>();
  router.all(options.path ?? '/wechat', webhookHandler(options));
  return router;
}

/** The webhook's handling of a request already routed to it, by method. */
function webhookHandler(options: WebhookOptions): Middleware<WebhookState> {
  const metrics = options.metrics ?? createMetrics();
  const guard = handleErrors({ log: options.log, metrics });
  const verify = verifySignature({ token: options.token, windowSeconds: options.timestampWindowSeconds, clock: options.clock });
  if (options.safeModeOnly && !options.crypto)
    throw new TypeError('createWebhook: safeModeOnly needs crypto (set WECHAT_ENCODING_AES_KEY, or turn WECHAT_SAFE_MODE_ONLY off)');

  const get = compose<ParameterizedContext<WebhookState>>([
    guard,
    verify,
    async function echo(ctx) {
      const echostr = webhookQuery(ctx).echostr;
      if (echostr === undefined || echostr === '') throw new WebhookError(400, 'bad_request', 'missing echostr');
      ctx.state.outcome = 'handshake';
      ctx.type = 'text/plain';
      ctx.body = echostr;
    },
  ]);

  // The chain ends here: a handled message never falls through to the host app's middleware.
  const post = compose<ParameterizedContext<WebhookState>>([
    guard,
    verify,
    ...(options.safeModeOnly ? [requireSafeMode({ log: options.log })] : []),
    readBody({ limitBytes: options.maxBodyBytes }),
    decrypt({ token: options.token, crypto: options.crypto, renderer: options.renderer, clock: options.clock }),
    // From here on every step may wait on the store (binding, claim, ledger): WeChat gets its answer by the deadline.
    answerByDeadline({ deadlineMs: options.deadlineMs }),
    // With safe mode required every handled request carries a msg_signature over its Encrypt, and only
    // the decrypted message is read: that binds it already, so the store write is saved.
    ...(options.safeModeOnly
      ? []
      : [bindRequest({ store: options.bindings, log: options.log, windowSeconds: options.timestampWindowSeconds, clock: options.clock })]),
    parseMessage(),
    dedupe({ store: options.dedupe, metrics, ttlSeconds: options.dedupeTtlSeconds, deadlineMs: options.deadlineMs }),
    dispatch({
      handler: options.handler,
      renderer: options.renderer,
      log: options.log,
      clock: options.clock,
      deadlineMs: options.deadlineMs,
      onLateReply: options.onLateReply,
    }),
  ]);

  const other = compose<ParameterizedContext<WebhookState>>([
    guard,
    async function methodNotAllowed() {
      throw new WebhookError(405, 'method_not_allowed', 'method not allowed');
    },
  ]);

  return function webhook(ctx) {
    if (ctx.method === 'POST') return post(ctx);
    if (ctx.method === 'GET' || ctx.method === 'HEAD') return get(ctx);
    return other(ctx);
  };
}

export interface AppOptions extends WebhookOptions {
  /** Health of the dependencies, for `GET /healthz`: `ok: false` answers 503. */
  health?: () => Promise<{ ok: boolean } & Record<string, unknown>>;
  /**
   * `GET /healthz` answers 503 when `health` has not answered within this, ms (default 2000): a
   * health check that hangs on a dependency must not hang the load balancer's probe.
   */
  healthTimeoutMs?: number;
  /** Extra routes (admin endpoints) mounted after the webhook. */
  routers?: Router[];
}

/**
 * Resolves or rejects as `promise` does, or rejects with "health check timed out after N ms" first.
 *
 * @example await withinMs(options.health(), 2000);
 */
function withinMs<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`health check timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/** Error codes of a connection the client closed or broke, which Koa passes to `app.on('error')`. */
const CLIENT_GONE = /^(?:ECONNRESET|EPIPE|ECONNABORTED|ERR_STREAM_PREMATURE_CLOSE|HPE_)/;

/** A complete Koa app: the webhook, `/healthz`, `/metrics`, and an error listener that logs. */
export function createWebhook(options: AppOptions): Koa<WebhookState> {
  const metrics = options.metrics ?? createMetrics();
  const app = new Koa<WebhookState>();
  app.proxy = true;
  app.silent = true;
  const webhook = createWebhookMiddleware({ ...options, metrics });
  const healthTimeoutMs = options.healthTimeoutMs ?? 2000;
  if (!Number.isFinite(healthTimeoutMs) || healthTimeoutMs <= 0) throw new TypeError('createWebhook: healthTimeoutMs must be a number > 0');
  const ops = new Router();
  ops.get('/healthz', async function healthz(ctx) {
    let body: { ok: boolean } & Record<string, unknown>;
    try {
      body = options.health ? await withinMs(options.health(), healthTimeoutMs) : { ok: true };
    } catch (err) {
      body = { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
    ctx.status = body.ok ? 200 : 503;
    ctx.body = body;
  });
  ops.get('/metrics', async function metricsRoute(ctx) {
    ctx.type = 'text/plain; version=0.0.4';
    ctx.body = metrics.render();
  });
  app.use(webhook);
  app.use(ops.routes());
  for (const r of options.routers ?? []) app.use(r.routes());
  app.on('error', (err: unknown) => {
    // Koa also emits the socket's errors when a client hangs up mid-request: not a failure of ours.
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && CLIENT_GONE.test(code)) {
      options.log.debug({ code }, 'client closed the connection early');
      return;
    }
    const e = err instanceof Error ? { message: err.message, name: err.name, stack: err.stack } : { message: String(err) };
    options.log.error({ err: e }, 'webhook handler failed');
  });
  return app;
}
