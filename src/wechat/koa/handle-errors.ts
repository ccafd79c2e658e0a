/**
 * First middleware: the one error funnel. Client mistakes (bad signature, malformed or oversized body,
 * wrong method) get their status and a short text — 401 with no detail. Anything else is a bug or an
 * outage of ours: WeChat gets `success` (so the follower never sees "service unavailable" and WeChat
 * stops retrying) and the error goes to `app.emit('error')`. Records the outcome and latency metrics.
 * An error with a `hint` (a bad signature: most often a wrong WECHAT_TOKEN) is logged at warn with it,
 * at most once a minute per hint, with how many were suppressed; the rest at debug.
 *
 * @example app.use(handleErrors({ log, metrics }));
 */
import { performance } from 'node:perf_hooks';
import type { Middleware } from 'koa';
import type { Clock } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import { rateLimitedWarn } from '../../lib/rate-limited-log';
import { outcomeOf } from './access-log';
import { WebhookError } from './errors';
import type { WebhookState } from './state';

export interface HandleErrorsOptions {
  log: Logger;
  metrics: Metrics;
  /** For the hint lines' window. */
  clock?: Clock;
  /** One hint line per key per this, ms (default 60 000). */
  hintWindowMs?: number;
}

export function handleErrors(options: HandleErrorsOptions): Middleware<WebhookState> {
  const { log, metrics } = options;
  const requests = metrics.counter('wechat_requests_total', 'Webhook requests by outcome');
  const latency = metrics.histogram('wechat_request_duration_seconds', 'Webhook latency in seconds');
  const warnHint = rateLimitedWarn({ log, clock: options.clock, windowMs: options.hintWindowMs });
  return async function handleErrorsMiddleware(ctx, next) {
    // The access log, when the app has one, started the clock already.
    ctx.state.startedAt ??= performance.now();
    try {
      await next();
    } catch (err) {
      if (err instanceof WebhookError) {
        ctx.state.outcome = err.outcome;
        ctx.status = err.status;
        ctx.type = 'text/plain';
        ctx.body = err.status === 401 ? 'Unauthorized' : err.status === 403 ? 'Forbidden' : err.message;
        if (err.status === 405) ctx.set('Allow', 'GET, POST');
        const reqId = ctx.state.requestId;
        if (err.status === 500) log.error({ reqId, err: { message: err.message } }, 'webhook misconfigured');
        else if (err.hint) warnHint(`${err.outcome}: ${err.hint}`, { reqId, status: err.status, outcome: err.outcome, hint: err.hint }, `${err.message}: ${err.hint}`);
        else log.debug({ reqId, status: err.status, outcome: err.outcome }, err.message);
      } else {
        ctx.state.outcome = 'error';
        ctx.status = 200;
        ctx.type = 'text/plain';
        ctx.body = 'success';
        ctx.app.emit('error', err, ctx);
      }
    } finally {
      requests.inc({ outcome: outcomeOf(ctx.state, ctx.status) });
      latency.observe((performance.now() - ctx.state.startedAt) / 1000);
    }
  };
}
