/**
 * Builds the WeChat webhook: one Koa middleware for `GET|POST <path>` (default `/wechat`) running the
 * middleware below in order (or a `@koa/router` router around it), and a complete Koa app around it
 * with `GET /healthz`, `GET /metrics` and the staff routes behind the bearer guard (`staff-auth.ts`);
 * or, for a separate admin port, the public and the admin half of that app. No `listen()` here:
 * `app.ts` listens, tests use `app.callback()` with supertest.
 *
 * Flow of a POST: handleErrors → verifySignature → readBody → respond (writes the reply or its
 * safe-mode envelope once the rest has run) → decrypt (safe mode in) →
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
import { accessLog } from './access-log';
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
import { respond } from './respond';
import { type WebhookState, webhookQuery } from './state';
import { staffAuth, type StaffAuthShared, type StaffState } from './staff-auth';
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
  const guard = handleErrors({ log: options.log, metrics, clock: options.clock });
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
    // The one writer of a handled message's response (plain reply, or the safe-mode envelope).
    respond({ token: options.token, crypto: options.crypto, renderer: options.renderer, clock: options.clock }),
    decrypt({ token: options.token, crypto: options.crypto }),
    // From here on every step may wait on the store (binding, claim, ledger): WeChat gets its answer by the deadline.
    answerByDeadline({ deadlineMs: options.deadlineMs }),
    // With safe mode required every handled request carries a msg_signature over its Encrypt, and only
    // the decrypted message is read: that binds it already, so the store write is saved.
    ...(options.safeModeOnly ? [] : [bindRequest({ store: options.bindings, log: options.log, windowSeconds: options.timestampWindowSeconds, clock: options.clock })]),
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

/** What `health()` reports for `GET /healthz`. */
export interface HealthReport {
  /** False answers 503. */
  ok: boolean;
  /** Coarse, non-sensitive fields anyone may see (e.g. `{ store: 'ok' }`). */
  summary?: Record<string, string | number | boolean>;
  /** Everything else (file paths, error texts, drivers, versions): only with the admin token. */
  details?: Record<string, unknown>;
}

/** Which routes an app serves: everything on one port, or split over a public and an admin port. */
export type AppSurface = 'all' | 'public' | 'admin';

export interface AppOptions extends WebhookOptions {
  /** Health of the dependencies, for `GET /healthz`: `ok: false` answers 503. */
  health?: () => Promise<HealthReport>;
  /**
   * `GET /healthz` answers 503 when `health` has not answered within this, ms (default 2000): a
   * health check that hangs on a dependency must not hang the load balancer's probe.
   */
  healthTimeoutMs?: number;
  /** Extra public routes mounted after the webhook (e.g. WeChat Pay's notifications); none under `/admin`. */
  routers?: Router[];
  /** BOT_ADMIN_TOKEN: enables the staff routers and the detailed `/healthz` (needs `auth`). */
  adminToken?: string;
  /** Staff routes, served only behind the bearer guard (`staff-auth.ts`) with `adminToken`. */
  staffRouters?: Router[];
  /**
   * The operator console (`src/console`): one middleware for `/console/*` with its own session guard,
   * mounted after the operations routes where the staff routes are (not on the `public` surface).
   */
  console?: Middleware;
  /** BOT_METRICS_TOKEN: when set, `GET /metrics` needs it as a bearer token (needs `auth`). */
  metricsToken?: string;
  /** The failure counters and lockout policy of the bearer guards (the shared store). */
  auth?: Omit<StaffAuthShared, 'log' | 'clock'>;
  /**
   * `all` (default): webhook, public routes, `/healthz`, `/metrics`, staff routes. `public`: webhook,
   * public routes, the anonymous `/healthz`. `admin`: `/healthz` (detailed with the token), `/metrics`,
   * staff routes. Routes an app does not serve answer 404.
   */
  surface?: AppSurface;
  /**
   * One access line per request at info (BOT_ACCESS_LOG; default true). Off, every response still
   * carries its `X-Request-Id`.
   */
  accessLog?: boolean;
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

/**
 * A complete Koa app: the webhook, `/healthz`, `/metrics`, the staff routes behind their guard, and an
 * error listener that logs. With `surface`, one of the two apps of a split deployment (ADMIN_PORT).
 *
 * @example const app = createWebhook({ ...webhookOptions, adminToken, auth: { counters: store.counters, kv: store.kv }, staffRouters: [router] });
 * @see https://koajs.com/#application
 */
export function createWebhook(options: AppOptions): Koa<WebhookState> {
  const surface = options.surface ?? 'all';
  const metrics = options.metrics ?? createMetrics();
  const app = new Koa<WebhookState>();
  app.proxy = true;
  app.silent = true;
  const healthTimeoutMs = options.healthTimeoutMs ?? 2000;
  if (!Number.isFinite(healthTimeoutMs) || healthTimeoutMs <= 0) throw new TypeError('createWebhook: healthTimeoutMs must be a number > 0');
  const guards = bearerGuards(options);
  for (const r of options.routers ?? []) assertNotStaff(r);
  app.use(accessLog({ log: options.log, enabled: options.accessLog }));
  if (surface !== 'admin') app.use(createWebhookMiddleware({ ...options, metrics }));
  app.use(opsRouter(options, metrics, guards, surface).routes());
  if (surface !== 'admin') for (const r of options.routers ?? []) app.use(r.routes());
  if (surface !== 'public' && guards.admin && options.staffRouters?.length) app.use(staffRouter(guards.admin, options.staffRouters).routes());
  if (surface !== 'public' && !guards.admin && options.staffRouters?.length) options.log.info('BOT_ADMIN_TOKEN is not set: the staff endpoints are off');
  if (surface !== 'public' && options.console) app.use(options.console);
  app.on('error', (err: unknown, ctx?: { state?: WebhookState }) => {
    // Koa also emits the socket's errors when a client hangs up mid-request: not a failure of ours.
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && CLIENT_GONE.test(code)) {
      options.log.debug({ reqId: ctx?.state?.requestId, code }, 'client closed the connection early');
      return;
    }
    const e = err instanceof Error ? { message: err.message, name: err.name, stack: err.stack } : { message: String(err) };
    options.log.error({ reqId: ctx?.state?.requestId, err: e }, 'webhook handler failed');
  });
  return app;
}

// === Operations and staff routes

interface BearerGuards {
  /** The admin token, required (staff routes). */
  admin?: Middleware;
  /** The admin token when a header is presented (`/healthz`: anonymous without one). */
  adminOptional?: Middleware;
  metrics?: Middleware;
}

/** The guards the tokens ask for, over one shared store, so all of them count failures together. */
function bearerGuards(options: AppOptions): BearerGuards {
  if ((options.adminToken || options.metricsToken) && !options.auth)
    throw new TypeError('createWebhook: adminToken and metricsToken need auth (the store counting failed attempts)');
  const shared = { ...options.auth!, log: options.log, clock: options.clock };
  if (!options.adminToken) return options.metricsToken ? { metrics: staffAuth({ ...shared, token: options.metricsToken, label: 'metrics' }) } : {};
  return {
    admin: staffAuth({ ...shared, token: options.adminToken }),
    adminOptional: staffAuth({ ...shared, token: options.adminToken, optional: true }),
    metrics: options.metricsToken ? staffAuth({ ...shared, token: options.metricsToken, label: 'metrics' }) : undefined,
  };
}

/**
 * `GET /healthz` (anonymous: `ok` and the summary; with the admin token: the details too) and
 * `GET /metrics` (behind the metrics token when set). On the public port of a split deployment
 * `/healthz` is anonymous only (a token there is ignored) and `/metrics` is not served.
 */
function opsRouter(options: AppOptions, metrics: Metrics, guards: BearerGuards, surface: AppSurface): Router {
  const router = new Router();
  const healthGuards = surface !== 'public' && guards.adminOptional ? [guards.adminOptional] : [];
  router.get('/healthz', ...healthGuards, async function healthz(ctx) {
    const staff = (ctx.state as StaffState).staff === true;
    let report: HealthReport;
    try {
      report = options.health ? await withinMs(options.health(), options.healthTimeoutMs ?? 2000) : { ok: true };
    } catch (err) {
      report = { ok: false, details: { error: err instanceof Error ? err.message : String(err) } };
    }
    ctx.status = report.ok ? 200 : 503;
    ctx.body = { ...report.summary, ...(staff ? report.details : undefined), ok: report.ok };
  });
  if (surface === 'public') return router;
  router.get('/metrics', ...(guards.metrics ? [guards.metrics] : []), async function metricsRoute(ctx) {
    ctx.type = 'text/plain; version=0.0.4';
    ctx.body = metrics.render();
  });
  return router;
}

/** The staff routers behind the guard: it runs for a request only when one of their routes matches. */
function staffRouter(guard: Middleware, routers: Router[]): Router {
  const parent = new Router();
  parent.use(guard);
  for (const r of routers) parent.use(r.routes());
  return parent;
}

/** Staff routes live under `/admin` and go in `staffRouters`; a public router there would skip the guard. */
function assertNotStaff(router: Router): void {
  const staff = router.stack.find((layer) => typeof layer.path === 'string' && /^\/admin(?:\/|$)/.test(layer.path));
  if (staff) throw new TypeError(`createWebhook: ${staff.path} is a staff route: pass its router as staffRouters, behind the admin token`);
}
