/**
 * `GET /console/login` (the form: `token` and a hidden `_csrf`), `POST /console/login` (the admin token
 * compared in constant time, rate-limited by the SAME counters and lockout policy as the staff
 * endpoints) and `POST /console/logout` (revokes the session server-side). The login form's CSRF token
 * is a double-submit cookie (there is no session yet). Every success and failure is audited.
 *
 * @example loginRoutes({ adminToken, sessions, limiter, audit, log, secure: true, trustedProxies })
 * @see https://cheatsheetseries.owasp.org/cheatsheets/Authentication_Cheat_Sheet.html
 */
import { randomBytes } from 'node:crypto';
import type { Middleware } from 'koa';
import { clientAddress, type TrustedProxies } from '../lib/client-address';
import type { Logger } from '../lib/logger';
import { type AttemptLimiter, auditRefusal, secretMatches } from '../wechat/koa/staff-auth';
import type { ConsoleAudit, ConsoleContext, ConsoleState } from './console-page';
import { LOGIN_CSRF_COOKIE, readCookie, SESSION_COOKIE, setCookie } from './cookies';
import { readConsoleBody } from './read-body';
import { renderWithChrome } from './render';
import { LOGIN_PATH } from './session-guard';
import type { SessionStore } from './session-store';

export interface LoginOptions {
  adminToken: string;
  sessions: SessionStore;
  limiter: AttemptLimiter;
  audit: ConsoleAudit;
  log: Logger;
  /** Secure cookies (BOT_PUBLIC_URL is https). */
  secure: boolean;
  trustedProxies?: TrustedProxies;
}

const LOGIN_FORM_SECONDS = 3600;

function showLogin(ctx: ConsoleContext, o: LoginOptions, status: number, error?: string): void {
  const csrf = randomBytes(32).toString('base64url');
  setCookie(ctx, LOGIN_CSRF_COOKIE, csrf, { maxAgeSeconds: LOGIN_FORM_SECONDS, secure: o.secure });
  const t = ctx.state.view!.t;
  renderWithChrome(ctx, 'login', { t, lang: ctx.state.lang, csrf, nav: [], current: LOGIN_PATH }, { title: t('login.title'), error });
  ctx.status = status;
}

/** Runs a login step; the store failing answers 503 with the form (as the staff guard does), logged. */
function unlessStoreFails(o: LoginOptions, step: Middleware<ConsoleState>): Middleware<ConsoleState> {
  return async function loginStep(ctx, next) {
    try {
      await step(ctx, next);
    } catch (err) {
      if ((err as { status?: unknown }).status !== undefined) throw err; // a 400/413 of the body reader
      o.log.error({ err: err instanceof Error ? err.message : String(err), path: ctx.path }, 'console login: the store is unreachable, refusing');
      showLogin(ctx as ConsoleContext, o, 503, ctx.state.view!.t('login.unavailable'));
    }
  };
}

/** The login and logout handlers; `logout` runs behind the session guard (it needs the CSRF token). */
export function loginRoutes(o: LoginOptions): { showForm: Middleware<ConsoleState>; login: Middleware<ConsoleState>; logout: Middleware<ConsoleState> } {
  return {
    showForm: unlessStoreFails(o, async function showForm(ctx) {
      if (await o.sessions.get(readCookie(ctx, SESSION_COOKIE))) return ctx.redirect('/console');
      showLogin(ctx as ConsoleContext, o, 200);
    }),

    login: unlessStoreFails(o, async function login(ctx) {
      const c = ctx as ConsoleContext;
      const address = clientAddress(ctx.req, o.trustedProxies);
      const attempt = { address, method: ctx.method, path: ctx.path, reqId: (ctx.state as { requestId?: string }).requestId };
      const body = await readConsoleBody(ctx);
      const formCsrf = readCookie(ctx, LOGIN_CSRF_COOKIE);
      if (typeof body._csrf !== 'string' || formCsrf === undefined || !secretMatches(body._csrf, formCsrf)) {
        await o.audit.record({ session: '-', action: 'login.refused', detail: { address, reason: 'csrf' } });
        return showLogin(c, o, 403, c.state.view!.t('login.expired'));
      }
      const locked = await o.limiter.lockedOut(address);
      if (locked) {
        auditRefusal(o.log, 'console', attempt, locked);
        await o.audit.record({ session: '-', action: 'login.refused', detail: { address, reason: 'locked_out' } });
        ctx.set('Retry-After', String(locked.retryAfter));
        return showLogin(c, o, 429, c.state.view!.t('login.locked', { seconds: locked.retryAfter ?? 0 }));
      }
      const token = typeof body.token === 'string' ? body.token : '';
      if (!secretMatches(token, o.adminToken)) {
        const refusal = await o.limiter.fail(address, token === '' ? 'missing' : 'wrong');
        auditRefusal(o.log, 'console', attempt, refusal);
        await o.audit.record({ session: '-', action: 'login.failed', detail: { address, failures: refusal.failures } });
        if (refusal.retryAfter !== undefined) {
          ctx.set('Retry-After', String(refusal.retryAfter));
          return showLogin(c, o, 429, c.state.view!.t('login.locked', { seconds: refusal.retryAfter }));
        }
        return showLogin(c, o, 401, c.state.view!.t('login.wrong'));
      }
      // Always a new session (its id and secret made here, never taken from the request), and the
      // session this browser presented before, if any, ends: a planted or stale cookie never survives a login.
      await o.sessions.revoke(readCookie(ctx, SESSION_COOKIE));
      const { secret, session } = await o.sessions.create();
      setCookie(ctx, SESSION_COOKIE, secret, { maxAgeSeconds: o.sessions.policy.absoluteSeconds, secure: o.secure });
      setCookie(ctx, LOGIN_CSRF_COOKIE, '', { maxAgeSeconds: 0, secure: o.secure });
      await o.audit.record({ session: session.id, action: 'login', detail: { address } });
      ctx.redirect('/console');
    }),

    async logout(ctx) {
      await o.sessions.revoke(readCookie(ctx, SESSION_COOKIE));
      setCookie(ctx, SESSION_COOKIE, '', { maxAgeSeconds: 0, secure: o.secure });
      await o.audit.record({ session: ctx.state.session.id, action: 'logout' });
      ctx.redirect(LOGIN_PATH);
    },
  };
}
