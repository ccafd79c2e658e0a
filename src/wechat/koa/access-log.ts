/**
 * The app's first middleware: gives each request a short id (`X-Request-Id` on every response, also on
 * errors Koa answers itself) and writes one access line at info when it is done: method, path (never
 * the query string: it carries `signature`, `nonce`, `echostr`, tokens), status, outcome, ms, reqId.
 * Never the body. A sane `X-Request-Id` from a proxy is logged as `upstreamId`, beside our own id,
 * never instead of it: a client can send any header, so it must not be able to forge or collide ids.
 *
 * Cheap on the hot path: the id is a process prefix and a counter (no crypto per request), the line is
 * one flat object through pino's `info(obj, msg)`, no child logger.
 *
 * @example app.use(accessLog({ log })); // first, before the webhook and the other routes
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Middleware } from 'koa';
import type { Logger } from '../../lib/logger';
import type { WebhookState } from './state';

export interface AccessLogOptions {
  log: Logger;
  /** False: no access line (BOT_ACCESS_LOG=0); the request id and its header stay. Default true. */
  enabled?: boolean;
}

/** The longest path written to the access line (a hostile request line can be 16 KB). */
const MAX_PATH = 200;
/** What a proxy's request id may look like to be logged as `upstreamId`. */
const SANE_UPSTREAM_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Short, unique request ids: a random prefix per process (so two instances never share ids), a counter.
 *
 * @example const next = requestIds(); next(); // 'k3f9x2-1', then 'k3f9x2-2', …
 */
export function requestIds(prefix = randomBytes(4).readUInt32BE(0).toString(36)): () => string {
  let n = 0;
  return () => `${prefix}-${(++n).toString(36)}`;
}

/** The metrics and access-line outcome of a finished request: the webhook's own, or one from its status. */
export function outcomeOf(state: WebhookState, status: number): string {
  return state.outcome ?? (status < 400 ? 'ok' : String(status));
}

export function accessLog(options: AccessLogOptions): Middleware<WebhookState> {
  const { log } = options;
  const enabled = options.enabled ?? true;
  const nextId = requestIds();
  return async function accessLogMiddleware(ctx, next) {
    const startedAt = performance.now();
    const reqId = nextId();
    ctx.state.startedAt = startedAt;
    ctx.state.requestId = reqId;
    ctx.set('X-Request-Id', reqId);
    let status = 0;
    try {
      await next();
      status = ctx.status;
    } catch (err) {
      // Koa's own error answer clears the headers and then sets `err.headers`: keep the id on it.
      status = errorStatus(err);
      if (err !== null && typeof err === 'object') {
        const e = err as { headers?: Record<string, string> };
        e.headers = { ...e.headers, 'X-Request-Id': reqId };
      }
      throw err;
    } finally {
      if (enabled && log.isLevelEnabled('info')) {
        const upstream = ctx.req.headers['x-request-id'];
        const path = ctx.path;
        log.info(
          {
            reqId,
            method: ctx.method,
            path: path.length > MAX_PATH ? `${path.slice(0, MAX_PATH)}…` : path,
            status,
            outcome: outcomeOf(ctx.state, status),
            ms: Math.round((performance.now() - startedAt) * 100) / 100,
            upstreamId: typeof upstream === 'string' && SANE_UPSTREAM_ID.test(upstream) ? upstream : undefined,
          },
          'request',
        );
      }
    }
  };
}

/** The status Koa will answer a thrown error with (its `status`, or 500). */
function errorStatus(err: unknown): number {
  const s = (err as { status?: unknown; statusCode?: unknown } | null)?.status ?? (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' && s >= 400 && s < 600 ? s : 500;
}
