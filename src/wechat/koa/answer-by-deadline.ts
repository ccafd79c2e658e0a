/**
 * The deadline guard around everything that may wait on the store: de-duplication (claim, polling,
 * completion) and the handler. WeChat waits 5 s for a passive reply and retries a request that got
 * none; whatever the store does — a lock held by another process, an outage — this middleware answers
 * by the deadline (default 4.5 s after arrival): with the reply when one was rendered, else `success`.
 * The work goes on behind it: a claim that was waiting still runs the handler once, and `dispatch`
 * delivers that late reply through its `onLateReply` (the customer-service API), seeing
 * `ctx.state.answered`.
 *
 * @example compose([…, respond(…), decrypt(…), answerByDeadline({ deadlineMs: 4500 }), bindRequest(…), parseMessage(), dedupe(…), dispatch(…)]);
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
import { performance } from 'node:perf_hooks';
import type { Middleware } from 'koa';
import type { WebhookState } from './state';

/** Options of {@link answerByDeadline}. */
export interface AnswerByDeadlineOptions {
  /** How long after the request arrived (`ctx.state.startedAt`) WeChat gets its answer, ms (default 4500). */
  deadlineMs?: number;
}

/**
 * Races the rest of the chain against the deadline. When the deadline comes first, `ctx.state` gets
 * `answered: true` and outcome `deadline` (unless the chain already set one), the response leaves
 * with `ctx.state.replyXml` (or `success`), and a later failure of the chain goes to
 * `app.emit('error')`.
 *
 * @example app.use(answerByDeadline({ deadlineMs: 200 })); // tests
 * @see https://github.com/grammyjs/grammY/blob/main/src/convenience/webhook.ts
 */
export function answerByDeadline(options: AnswerByDeadlineOptions = {}): Middleware<WebhookState> {
  const deadlineMs = options.deadlineMs ?? 4500;
  if (!Number.isFinite(deadlineMs) || deadlineMs <= 0) throw new TypeError('answerByDeadline: deadlineMs must be a number > 0');
  return function answerByDeadlineMiddleware(ctx, next) {
    const work = next();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        function deadlineReached() {
          ctx.state.answered = true;
          ctx.state.outcome ??= 'deadline';
          resolve();
        },
        Math.max(0, ctx.state.startedAt + deadlineMs - performance.now()),
      );
      work.then(
        () => {
          clearTimeout(timer);
          resolve();
        },
        (err: unknown) => {
          clearTimeout(timer);
          if (ctx.state.answered) ctx.app.emit('error', err, ctx);
          else reject(err);
        },
      );
    });
  };
}
