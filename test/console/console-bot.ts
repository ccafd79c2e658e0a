/**
 * The sample bot with the console on (BOT_ADMIN_TOKEN set), for the console's supertest tests: a login
 * that returns the session cookie and its CSRF token, and a seeded ledger (grants of the last hours in
 * every state the overview counts).
 *
 * @example
 * const cb = await startConsoleTestBot({ clock });
 * const s = await cb.login();
 * await request(cb.app).get('/console/api/overview').set('cookie', s.cookie);
 */
import request from 'supertest';
import type { Clock } from '../../src/lib/clock';
import type { Logger } from '../../src/lib/logger';
import type { Bot } from '../../src/bot/create-bot';
import { type SampleBot, startSampleBot } from '../helpers/sample-bot';

export const ADMIN_TOKEN = 'console-test-admin-token-0001';

export interface ConsoleSessionCookies {
  /** `console_session=…` for a Cookie header. */
  cookie: string;
  csrf: string;
}

export interface ConsoleTestBot extends SampleBot {
  app: ReturnType<Bot['app']['callback']>;
  login(token?: string): Promise<ConsoleSessionCookies>;
}

/** The first `name=value` of the response's Set-Cookie headers for `name`. */
export function cookieOf(res: { headers: Record<string, unknown> }, name: string): string | undefined {
  const all = (res.headers['set-cookie'] as string[] | undefined) ?? [];
  return all.map((c) => c.split(';')[0]!).find((c) => c.startsWith(`${name}=`));
}

/** The `_csrf` hidden field of a rendered form. */
export function csrfOf(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no _csrf field in the page');
  return m[1]!;
}

/** GET the login form; its CSRF cookie and field. */
export async function loginForm(app: ConsoleTestBot['app']): Promise<{ cookie: string; csrf: string }> {
  const res = await request(app).get('/console/login').expect(200);
  return { cookie: cookieOf(res, 'console_login_csrf')!, csrf: csrfOf(res.text) };
}

export async function startConsoleTestBot(o: { clock: Clock; env?: Record<string, string>; log?: Logger }): Promise<ConsoleTestBot> {
  const sample = await startSampleBot({ clock: o.clock, log: o.log, env: { BOT_ADMIN_TOKEN: ADMIN_TOKEN, ...o.env } });
  const app = sample.bot.app.callback();
  return {
    ...sample,
    app,
    async login(token = ADMIN_TOKEN) {
      const form = await loginForm(app);
      const res = await request(app).post('/console/login').set('cookie', form.cookie).type('form').send({ token, _csrf: form.csrf }).expect(302);
      const cookie = cookieOf(res, 'console_session');
      if (!cookie) throw new Error(`login failed: ${res.status}`);
      const page = await request(app).get('/console').set('cookie', cookie).expect(200);
      return { cookie, csrf: csrfOf(page.text) };
    },
  };
}
