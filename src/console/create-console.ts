/**
 * The operator console (issue 16) as one Koa middleware for everything under `/console`: security
 * headers, the language, static files, the login, then the session guard (302 / 401, CSRF) and the
 * pages' routes. Other paths pass through untouched at the cost of one string compare, so mounting it
 * beside the webhook adds nothing to the webhook's path. The composition root mounts it only when
 * BOT_ADMIN_TOKEN is set (on the admin listener with ADMIN_PORT).
 *
 * @example app.use(createConsole({ ...deps, adminToken: settings.adminToken }));
 * @see https://koajs.com/#middleware
 */
import { Router } from '@koa/router';
import type { Middleware } from 'koa';
import compose from 'koa-compose';
import type { TrustedProxies } from '../lib/client-address';
import { attemptLimiter, type LockoutPolicy } from '../wechat/koa/staff-auth';
import { consoleAudit } from './audit';
import type { ConsoleContext, ConsoleDeps, ConsoleLang, ConsolePage, ConsoleState } from './console-page';
import { readCookie, setCookie } from './cookies';
import { chooseLang, LANG_COOKIE, langOf, mergeMessages, translator } from './i18n';
import { loginRoutes } from './login-routes';
import { COMMON_MESSAGES } from './messages';
import { CONSOLE_PAGES } from './pages';
import { renderPage } from './render';
import { consoleErrors } from './console-errors';
import { securityHeaders } from './security-headers';
import { isApiPath, LOGIN_PATH, sessionGuard } from './session-guard';
import { type SessionPolicy, sessionStore } from './session-store';
import { serveStatic } from './static-routes';

export interface ConsoleOptions extends Omit<ConsoleDeps, 'audit'> {
  /** BOT_ADMIN_TOKEN: what the login form must be given (≥ 16 characters). */
  adminToken: string;
  /** Proxies whose X-Forwarded-For names the client (the lockout counts per client address). */
  trustedProxies?: TrustedProxies;
  /** The staff endpoints' lockout policy (the same counters are shared). */
  lockoutPolicy?: Partial<LockoutPolicy>;
  sessionPolicy?: Partial<SessionPolicy>;
  /** The pages (default all of `pages.ts`). */
  pages?: readonly ConsolePage[];
}

const LANG_COOKIE_SECONDS = 365 * 86_400;

export function createConsole(o: ConsoleOptions): Middleware {
  if (typeof o.adminToken !== 'string' || o.adminToken.length < 16) throw new TypeError('createConsole: the admin token must be at least 16 characters');
  const secure = o.settings.publicUrl?.startsWith('https:') ?? false;
  const audit = consoleAudit({ kv: o.kv, counters: o.counters, log: o.log.child({ module: 'console' }), clock: o.clock });
  const deps: ConsoleDeps = { ...o, audit };
  const pages = (o.pages ?? CONSOLE_PAGES).filter((p) => !p.sandboxOnly || o.sandbox);
  const messages = mergeMessages(COMMON_MESSAGES, ...pages.map((p) => p.messages));
  const sessions = sessionStore({ kv: o.kv, clock: o.clock, policy: o.sessionPolicy });
  const limiter = attemptLimiter({ counters: o.counters, kv: o.kv, clock: o.clock, policy: o.lockoutPolicy });
  const auth = loginRoutes({ adminToken: o.adminToken, sessions, limiter, audit, log: o.log, secure, trustedProxies: o.trustedProxies });
  const nav = (lang: ConsoleLang) => pages.map((p) => ({ id: p.id, path: p.path, title: p.title[lang] }));

  const open = new Router<ConsoleState>();
  open.get(LOGIN_PATH, auth.showForm);
  open.post(LOGIN_PATH, auth.login);

  const signedIn = new Router<ConsoleState>();
  signedIn.post('/console/logout', auth.logout);
  for (const page of pages) page.mount(signedIn, deps);

  const chain = compose<ConsoleContext>([
    securityHeaders(),
    async function consoleLanguage(ctx, next) {
      const asked = langOf(ctx.query.lang);
      const lang = chooseLang(asked, readCookie(ctx, LANG_COOKIE), ctx.get('accept-language'));
      if (asked) setCookie(ctx, LANG_COOKIE, lang, { maxAgeSeconds: LANG_COOKIE_SECONDS, secure });
      ctx.state.lang = lang;
      ctx.state.view = { t: translator(messages, lang), nav: nav(lang) };
      await next();
    },
    consoleErrors(),
    async function consoleStatic(ctx, next) {
      if (!(await serveStatic(ctx))) await next();
    },
    open.routes() as Middleware<ConsoleState>,
    sessionGuard({ sessions, audit, log: o.log }),
    signedIn.routes() as Middleware<ConsoleState>,
    async function consoleNotFound(ctx) {
      if (ctx.body !== undefined) return;
      if (isApiPath(ctx.path)) ctx.body = { ok: false, message: 'not found' };
      else renderPage(ctx as ConsoleContext, 'not-found', { title: ctx.state.view!.t('error.notFound') });
      ctx.status = 404;
    },
  ] as Middleware<ConsoleState>[]);

  return function operatorConsole(ctx, next) {
    const path = ctx.path;
    return path === '/console' || path.startsWith('/console/') ? chain(ctx as unknown as ConsoleContext) : next();
  };
}
