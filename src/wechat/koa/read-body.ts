/**
 * Reads the raw request body with a size limit (413 beyond it) and a read timeout (400), into
 * `ctx.state.rawBody`. Works beside an upstream body parser: when one already consumed the stream, the
 * raw text it kept (`ctx.request.rawBody`, as koa-bodyparser keeps it, or a string `ctx.request.body`)
 * is used; when none was kept the edge fails loudly with how to mount it, instead of seeing an empty
 * body.
 *
 * @example router.post('/wechat', readBody({ limitBytes: 64 * 1024 }), …);
 */
import type { Middleware } from 'koa';
import { readRawBody, type RawBodyFailure, type RawBodyStream } from '../../lib/read-raw-body';
import { WebhookError } from './errors';
import type { WebhookState } from './state';

export interface ReadBodyOptions {
  /** Default 64 KiB. */
  limitBytes?: number;
  /** Default 10 s. */
  timeoutMs?: number;
}

export function readBody(options: ReadBodyOptions = {}): Middleware<WebhookState> {
  const limit = options.limitBytes ?? 64 * 1024;
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!Number.isInteger(limit) || limit <= 0) throw new TypeError('readBody: limitBytes must be a positive integer');
  return async function readBodyMiddleware(ctx, next) {
    const req = ctx.req;
    const request = ctx.request as typeof ctx.request & { rawBody?: unknown; body?: unknown };
    if (typeof request.rawBody === 'string') {
      if (Buffer.byteLength(request.rawBody) > limit) throw new WebhookError(413, 'too_large', 'body too large');
      ctx.state.rawBody = request.rawBody;
    } else if (req.readableEnded || req.readableDidRead) {
      // Consumed upstream. (Not `req.complete`: that is true as soon as a small body has ARRIVED, still
      // unread in the buffer, e.g. behind any upstream middleware that awaited something.)
      if (typeof request.body === 'string') {
        if (Buffer.byteLength(request.body) > limit) throw new WebhookError(413, 'too_large', 'body too large');
        ctx.state.rawBody = request.body;
      } else {
        throw new WebhookError(
          500,
          'body_consumed',
          'the request body was consumed by an upstream body parser without keeping the raw text: mount the WeChat webhook before the body parser, or enable its rawBody option',
        );
      }
    } else {
      const declared = Number(ctx.get('content-length') || '0');
      if (declared > limit) {
        req.resume();
        ctx.set('Connection', 'close');
        throw new WebhookError(413, 'too_large', 'body too large');
      }
      ctx.state.rawBody = await collect(req, limit, timeoutMs, ctx);
    }
    await next();
  };
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
