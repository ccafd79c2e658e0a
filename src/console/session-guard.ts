/**
 * The guard in front of every console page and API: without a live session, pages answer 302 to the
 * login and `/console/api/*` answers 401 with no data; with one, `ctx.state.session` is set, and every
 * request that is not GET/HEAD must carry the session's CSRF token (`x-csrf-token` header or `_csrf`
 * form field), else 403 (audited). The store unreachable: 503.
 *
 * @example compose([sessionGuard({ sessions, audit, log }), pagesRouter.routes()])
 * @see https://cheatsheetseries.owasp.org/cheatsheets/Cross-Site_Request_Forgery_Prevention_Cheat_Sheet.html#synchronizer-token-pattern
 */
import type { Middleware } from 'koa';
import type { Logger } from '../lib/logger';
import { secretMatches } from '../wechat/koa/staff-auth';
import type { ConsoleAudit, ConsoleState } from './console-page';
import { readCookie, SESSION_COOKIE } from './cookies';
import { readConsoleBody } from './read-body';
import type { SessionStore } from './session-store';

export const LOGIN_PATH = '/console/login';

/** True for the console's JSON API paths (they answer 401/403 as JSON, never a redirect or HTML). */
export const isApiPath = (path: string): boolean => path === '/console/api' || path.startsWith('/console/api/');

export function sessionGuard(o: { sessions: SessionStore; audit: ConsoleAudit; log: Logger }): Middleware<ConsoleState> {
  return async function consoleSessionGuard(ctx, next) {
    let session;
    try {
      session = await o.sessions.get(readCookie(ctx, SESSION_COOKIE));
    } catch (err) {
      o.log.error({ err: err instanceof Error ? err.message : String(err), path: ctx.path }, 'console: the store is unreachable, refusing');
      ctx.status = 503;
      ctx.body = { ok: false, message: 'the console is unavailable: the store does not answer' };
      return;
    }
    if (!session) {
      if (isApiPath(ctx.path)) {
        ctx.status = 401;
        ctx.body = { ok: false, message: 'log in first' };
      } else ctx.redirect(LOGIN_PATH);
      return;
    }
    ctx.state.session = { id: session.id, csrf: session.csrf };
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      const header = ctx.get('x-csrf-token');
      const presented = header !== '' ? header : (await readConsoleBody(ctx))._csrf;
      if (typeof presented !== 'string' || !secretMatches(presented, session.csrf)) {
        await o.audit.record({ session: session.id, action: 'csrf.refused', target: `${ctx.method} ${ctx.path}` });
        ctx.status = 403;
        ctx.body = { ok: false, message: 'the CSRF token is missing or wrong: reload the page' };
        return;
      }
    }
    await next();
  };
}
