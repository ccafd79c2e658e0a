/**
 * Turns the parsed XML fields into the typed `InboundMessage`, once. Missing or invalid header fields
 * get 400; unknown message types become the `unknown` variant and carry on.
 */
import type { Middleware } from 'koa';
import { InvalidInboundError, parseInbound } from '../parse-inbound';
import { WebhookError } from './errors';
import type { WebhookState } from './state';

export function parseMessage(): Middleware<WebhookState> {
  return async function parseMessageMiddleware(ctx, next) {
    try {
      ctx.state.message = parseInbound(ctx.state.fields ?? {});
    } catch (err) {
      if (err instanceof InvalidInboundError) throw new WebhookError(400, 'bad_message', err.message);
      throw err;
    }
    await next();
  };
}
