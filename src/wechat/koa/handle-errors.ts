/**
 * First middleware: the one error funnel. Client mistakes (bad signature, malformed or oversized body,
 * wrong method) get their status and a short text — 401 with no detail. Anything else is a bug or an
 * outage of ours: WeChat gets `success` (so the follower never sees "service unavailable" and WeChat
 * stops retrying) and the error goes to `app.emit('error')`. Records the outcome and latency metrics.
 *
 * @example app.use(handleErrors({ log, metrics }));
 */
import { performance } from 'node:perf_hooks';
import type { Middleware } from 'koa';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import { WebhookError } from './errors';
import type { WebhookState } from './state';

export interface HandleErrorsOptions {
  log: Logger;
  metrics: Metrics;
}

export function handleErrors(options: HandleErrorsOptions): Middleware<WebhookState> {
  const { log, metrics } = options;
  const requests = metrics.counter('wechat_requests_total', 'Webhook requests by outcome');
  const latency = metrics.histogram('wechat_request_duration_seconds', 'Webhook latency in seconds');
  return async function handleErrorsMiddleware(ctx, next) {
    ctx.state.startedAt = performance.now();
    try {
      await next();
    } catch (err) {
      if (err instanceof WebhookError) {
        ctx.state.outcome = err.outcome;
        ctx.status = err.status;
        ctx.type = 'text/plain';
        ctx.body = err.status === 401 ? 'Unauthorized' : err.status === 403 ? 'Forbidden' : err.message;
        if (err.status === 405) ctx.set('Allow', 'GET, POST');
        if (err.status === 500) log.error({ err: { message: err.message } }, 'webhook misconfigured');
        else log.debug({ status: err.status, outcome: err.outcome }, err.message);
      } else {
        ctx.state.outcome = 'error';
        ctx.status = 200;
        ctx.type = 'text/plain';
        ctx.body = 'success';
        ctx.app.emit('error', err, ctx);
      }
    } finally {
      const outcome = ctx.state.outcome ?? (ctx.status < 400 ? 'ok' : String(ctx.status));
      requests.inc({ outcome });
      latency.observe((performance.now() - ctx.state.startedAt) / 1000);
    }
  };
}
