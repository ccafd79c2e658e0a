/**
 * The console's cookies, written by hand (not `ctx.cookies`, which refuses a Secure cookie on a
 * connection it cannot see is https): HttpOnly, SameSite=Strict, path `/console`, Secure when the
 * bot's public URL is https.
 *
 * @example setCookie(ctx, SESSION_COOKIE, secret, { maxAgeSeconds: 86400, secure: true });
 * @see https://www.rfc-editor.org/rfc/rfc6265#section-4.1
 */
import type { Context } from 'koa';

export const SESSION_COOKIE = 'console_session';
export const LOGIN_CSRF_COOKIE = 'console_login_csrf';

export interface CookieOptions {
  /** Seconds; 0 deletes the cookie. */
  maxAgeSeconds: number;
  secure: boolean;
  /** Default true. */
  httpOnly?: boolean;
}

export function setCookie(ctx: Pick<Context, 'append'>, name: string, value: string, o: CookieOptions): void {
  const parts = [`${name}=${value}`, 'Path=/console', `Max-Age=${Math.max(0, Math.floor(o.maxAgeSeconds))}`, 'SameSite=Strict'];
  if (o.httpOnly !== false) parts.push('HttpOnly');
  if (o.secure) parts.push('Secure');
  ctx.append('Set-Cookie', parts.join('; '));
}

/** The value of a request cookie (the first of that name), or undefined. */
export function readCookie(ctx: Pick<Context, 'get'>, name: string): string | undefined {
  for (const part of ctx.get('cookie').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
