/**
 * Runs the app's handler (typed message → reply value) under the deadline guard and renders the reply
 * once. If the handler has not finished by the deadline (default 4.5 s after arrival, inside WeChat's
 * 5 s), WeChat gets `success` at once, the work goes on, and its reply is delivered late through
 * `onLateReply` (the customer-service API) instead of being lost. So does a handler that starts only
 * after WeChat was answered (`ctx.state.answered`, set by `respond` at the deadline while the store kept
 * the message's claim waiting).
 *
 * @example router.post('/wechat', …, dispatch({ handler, renderer, log }));
 */
import { performance } from 'node:perf_hooks';
import type { Middleware } from 'koa';
import { type Clock, systemClock } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import type { Reply } from '../../reply/reply';
import type { ReplyRenderer } from '../../reply/render-reply';
import type { InboundMessage } from '../inbound';
import type { WebhookState } from './state';

/** How the message reached us, for the handler (a campaign may grant only for encrypted ones). */
export interface Delivery {
  /** True when it came in safe or compatible mode (`msg_signature` verified, `Encrypt` decrypted). */
  encrypted: boolean;
}

export type MessageHandler = (message: InboundMessage, delivery: Delivery) => Promise<Reply> | Reply;

export interface DispatchOptions {
  handler: MessageHandler;
  renderer: ReplyRenderer;
  log: Logger;
  clock?: Clock;
  /** Default 4500 ms after the request arrived. */
  deadlineMs?: number;
  /** Delivers a reply that missed the deadline (e.g. `api.customMessage.sendReply`). */
  onLateReply?: (message: InboundMessage, reply: Reply) => Promise<void>;
}

/** What the deadline timer resolves with. */
const LATE = Symbol('late');

export function dispatch(options: DispatchOptions): Middleware<WebhookState> {
  const { handler, renderer, log, onLateReply } = options;
  if (typeof handler !== 'function') throw new TypeError('dispatch: handler must be a function');
  const clock = options.clock ?? systemClock;
  const deadlineMs = options.deadlineMs ?? 4500;
  return async function dispatchMiddleware(ctx, next) {
    const message = ctx.state.message!;
    // Already awaited by de-duplication (then a resolved promise); here so no chain runs a handler first.
    if (ctx.state.bound) await ctx.state.bound;
    let work: Promise<Reply>;
    try {
      work = Promise.resolve(handler(message, { encrypted: ctx.state.encrypted === true }));
    } catch (err) {
      work = Promise.reject(err);
    }
    // One promise and one timer per message (cheaper than Promise.race over a timer promise). Once
    // WeChat was answered, the reply can only go late, however fast the handler is.
    const first = ctx.state.answered
      ? LATE
      : await new Promise<Reply | typeof LATE>((resolve, reject) => {
          const timer = setTimeout(resolve, Math.max(0, ctx.state.startedAt + deadlineMs - performance.now()), LATE);
          work.then(
            (reply) => {
              clearTimeout(timer);
              resolve(reply);
            },
            (err: unknown) => {
              clearTimeout(timer);
              reject(err);
            },
          );
        });

    // respond's deadline timer may fire a moment before this one (both at the same deadline): a reply
    // that comes in between finds WeChat answered already and goes late too, never dropped.
    if (first === LATE || ctx.state.answered) {
      ctx.state.outcome = 'deadline';
      ctx.state.replyXml = 'success';
      const app = ctx.app;
      work
        .then(
          async (reply) => {
            const overMs = Math.round(performance.now() - ctx.state.startedAt - deadlineMs);
            log.warn({ overMs, msgType: message.MsgType }, `handler completed ${overMs} ms after the deadline`);
            if (reply.type !== 'none' && onLateReply) await onLateReply(message, reply);
          },
          (err: unknown) => app.emit('error', err, ctx),
        )
        .catch((err: unknown) => app.emit('error', err, ctx));
      await next();
      return;
    }
    const reply = first;
    ctx.state.outcome = reply.type === 'none' ? 'empty' : 'reply';
    ctx.state.replyXml =
      reply.type === 'none'
        ? 'success'
        : renderer.render(reply, {
            toUserName: message.FromUserName,
            fromUserName: message.ToUserName,
            createTime: Math.floor(clock.now() / 1000),
          });
    await next();
  };
}
