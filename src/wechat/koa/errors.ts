/**
 * Errors of the inbound edge. Each carries the HTTP status the edge answers with and a short, safe
 * message (never a secret, never the body).
 */
export class WebhookError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 405 | 413 | 500 | 503,
    readonly outcome: string,
    message: string,
  ) {
    super(message);
    this.name = 'WebhookError';
  }
}
