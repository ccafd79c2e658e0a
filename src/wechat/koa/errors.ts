/**
 * Errors of the inbound edge. Each carries the HTTP status the edge answers with and a short, safe
 * message (never a secret, never the body).
 */
export class WebhookError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 405 | 413 | 500 | 503,
    readonly outcome: string,
    message: string,
    /**
     * For the operator, when this error usually means our own setup is wrong (a bad signature: the
     * Token): logged at warn, rate-limited; never sent to the client.
     */
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'WebhookError';
  }
}
