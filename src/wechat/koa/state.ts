/**
 * What the webhook's middleware share through `ctx.state`. Each middleware fills its part; only
 * `respond` writes the HTTP body for a handled message.
 */
import { parseQueryString, type QueryValues } from '../../lib/query-string';
import type { InboundMessage } from '../inbound';

export interface WebhookState {
  /** `performance.now()` when the request arrived, for the deadline and the latency metric. */
  startedAt: number;
  /** This request's id (`access-log.ts`): on the access line, on the request's log lines, in `X-Request-Id`. */
  requestId?: string;
  /** The outcome label for metrics (`reply`, `empty`, `duplicate`, `bad_signature`, …). */
  outcome?: string;
  /** The parsed query string; read it through {@link webhookQuery}. */
  query?: QueryValues;
  /** `aes` when the request came in safe or compatible mode. */
  encrypted?: boolean;
  /** Which AES key decrypted it (0 current, 1 previous); the reply uses the same. */
  keyIndex?: 0 | 1;
  /** The raw request body. */
  rawBody?: string;
  /** Safe and compatible mode: the decrypted message XML (what the request binding hashes). */
  decryptedXml?: string;
  message?: InboundMessage;
  /**
   * The request's signature binding, being written (see `bindRequest`): resolves when the message is
   * the one its signed URL is bound to, rejects with the 403/503 to answer otherwise. De-duplication
   * waits for it before anything runs; its store write rides in the same group commit as the claim.
   */
  bound?: Promise<void>;
  /** True when the dedupe store could not be reached and the message was handled without a claim. */
  dedupeSkipped?: boolean;
  /**
   * True once `respond` answered WeChat at the deadline (the deadline passed): later work must deliver its
   * reply otherwise (the customer-service API).
   */
  answered?: boolean;
  /** The plain reply XML, or the literal `success`. */
  replyXml?: string;
}

/** The request's query values, parsed once per request (Koa's own `ctx.query` is slow; see parseQueryString). */
export function webhookQuery(ctx: { querystring: string; state: WebhookState }): QueryValues {
  return (ctx.state.query ??= parseQueryString(ctx.querystring));
}
