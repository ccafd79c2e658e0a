/**
 * The headers of every console response: a Content-Security-Policy that runs only our own scripts
 * (no inline script, no framing, forms post only to us), no MIME sniffing, no Referer, no caching.
 *
 * @example router.use(securityHeaders());
 * @see https://cheatsheetseries.owasp.org/cheatsheets/HTTP_Headers_Cheat_Sheet.html
 */
import type { Middleware } from 'koa';

export const CONSOLE_CSP = "default-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export function securityHeaders(): Middleware {
  return async function consoleSecurityHeaders(ctx, next) {
    ctx.set('Content-Security-Policy', CONSOLE_CSP);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('Cache-Control', 'no-store');
    ctx.set('X-Frame-Options', 'DENY');
    await next();
  };
}
