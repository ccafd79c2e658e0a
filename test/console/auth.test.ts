/**
 * The console's perimeter: off without BOT_ADMIN_TOKEN, only on the admin listener with ADMIN_PORT;
 * without a session pages redirect and APIs answer 401 with no data; the session cookie's flags; the
 * login's CSRF and lockout (the staff endpoints' counters); CSRF on every POST; logout revokes the
 * session server-side; idle and absolute expiry; the security headers; the audit trail.
 */
import request from 'supertest';
import { fixedClock } from '../../src/lib/clock';
import { consoleAudit } from '../../src/console/audit';
import { createLogger, silentLogger } from '../../src/lib/logger';
import { ADMIN_TOKEN, type ConsoleTestBot, cookieOf, loginForm, startConsoleTestBot } from './console-bot';
import { startSampleBot } from '../helpers/sample-bot';

const T0 = Date.parse('2026-12-04T02:00:00Z');
const HOUR = 3_600_000;
const CSP = "default-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

function postLogin(cb: ConsoleTestBot, form: { cookie: string; csrf: string }, token: string) {
  return request(cb.app).post('/console/login').set('cookie', form.cookie).type('form').send({ token, _csrf: form.csrf });
}

describe('console login audit line', () => {
  test("a failed login's staff_auth line names the access log's reqId (the response's X-Request-Id)", async () => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });
    const cb = await startConsoleTestBot({ clock: fixedClock(T0), log });
    try {
      const res = await postLogin(cb, await loginForm(cb.app), 'wrong-token-0000000000').expect(401);
      expect(lines.filter((l) => l.audit === 'staff_auth')).toEqual([expect.objectContaining({ guard: 'console', reason: 'wrong', reqId: res.headers['x-request-id'] })]);
    } finally {
      await cb.close();
    }
  });
});

describe('console off', () => {
  test('without BOT_ADMIN_TOKEN every /console path is 404', async () => {
    const sample = await startSampleBot({ clock: fixedClock(T0) });
    try {
      for (const path of ['/console', '/console/login', '/console/api/overview', '/console/static/console.js'])
        await request(sample.bot.app.callback()).get(path).expect(404);
      await request(sample.bot.app.callback()).post('/console/login').type('form').send({ token: 'x' }).expect(404);
    } finally {
      await sample.close();
    }
  });

  test('with ADMIN_PORT it is served by the admin listener only', async () => {
    const cb = await startConsoleTestBot({ clock: fixedClock(T0), env: { ADMIN_PORT: '0' } });
    try {
      await request(cb.app).get('/console/login').expect(404);
      await request(cb.bot.adminApp!.callback()).get('/console/login').expect(200);
    } finally {
      await cb.close();
    }
  });
});

describe('console sessions', () => {
  let cb: ConsoleTestBot;
  const clock = fixedClock(T0);
  beforeAll(async () => {
    cb = await startConsoleTestBot({ clock });
  });
  afterAll(() => cb.close());

  test('without a session pages redirect to the login and APIs answer 401 with no data', async () => {
    for (const path of ['/console', '/console/campaigns', '/console/nope']) {
      const res = await request(cb.app).get(path).expect(302);
      expect(res.headers.location).toBe('/console/login');
    }
    for (const path of ['/console/api/overview', '/console/api/campaigns', '/console/api/overview/activity']) {
      const res = await request(cb.app).get(path).expect(401);
      expect(res.body).toEqual({ ok: false, message: 'log in first' });
    }
    await request(cb.app).post('/console/api/campaigns/pause').send({ campaign: 'welcome-packet' }).expect(401);
    await request(cb.app).get('/console').set('cookie', 'console_session=forged-value').expect(302);
  });

  test('the login form has a token field and a hidden CSRF field; every answer carries the security headers', async () => {
    const res = await request(cb.app).get('/console/login').expect(200);
    expect(res.text).toMatch(/<input type="password" name="token"/);
    expect(res.text).toMatch(/<input type="hidden" name="_csrf" value="[\w-]{43}">/);
    for (const r of [res, await request(cb.app).get('/console').expect(302), await request(cb.app).get('/console/api/overview').expect(401)]) {
      expect(r.headers['content-security-policy']).toBe(CSP);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['referrer-policy']).toBe('no-referrer');
      expect(r.headers['cache-control']).toBe('no-store');
    }
  });

  test('a login sets an HttpOnly, SameSite=Strict session cookie with an expiry (not Secure over http); no token in the pages', async () => {
    const form = await loginForm(cb.app);
    const res = await postLogin(cb, form, ADMIN_TOKEN).expect(302);
    expect(res.headers.location).toBe('/console');
    const set = (res.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('console_session='))!;
    expect(set).toMatch(/^console_session=[\w-]{43}; Path=\/console; Max-Age=86400; SameSite=Strict; HttpOnly$/);
    const cookie = cookieOf(res, 'console_session')!;
    const page = await request(cb.app).get('/console').set('cookie', cookie).expect(200);
    expect(page.text).not.toContain(ADMIN_TOKEN);
    expect(page.text).not.toContain(cookie.split('=')[1]);
  });

  test('a wrong token or a missing CSRF field is refused without a session', async () => {
    const form = await loginForm(cb.app);
    const wrong = await postLogin(cb, form, 'not-the-admin-token-at-all').expect(401);
    expect(cookieOf(wrong, 'console_session')).toBeUndefined();
    expect(wrong.text).toContain('That token is not right.');
    const noCsrf = await request(cb.app).post('/console/login').set('cookie', form.cookie).type('form').send({ token: ADMIN_TOKEN }).expect(403);
    expect(cookieOf(noCsrf, 'console_session')).toBeUndefined();
    await request(cb.app).post('/console/login').type('form').send({ token: ADMIN_TOKEN, _csrf: form.csrf }).expect(403);
  });

  test('every POST needs the session CSRF token (header or form field): 403 otherwise', async () => {
    const s = await cb.login();
    await request(cb.app).post('/console/api/campaigns/resume').set('cookie', s.cookie).send({ campaign: 'welcome-packet' }).expect(403);
    await request(cb.app)
      .post('/console/api/campaigns/resume')
      .set('cookie', s.cookie)
      .set('x-csrf-token', 'x'.repeat(43))
      .send({ campaign: 'welcome-packet' })
      .expect(403);
    await request(cb.app).post('/console/logout').set('cookie', s.cookie).type('form').send({}).expect(403);
    const ok = await request(cb.app).post('/console/api/campaigns/resume').set('cookie', s.cookie).set('x-csrf-token', s.csrf).send({ campaign: 'welcome-packet' });
    expect(ok.status).toBe(409); // passed the CSRF check: the campaign was not paused
    await request(cb.app).post('/console/campaigns/resume').set('cookie', s.cookie).type('form').send({ campaign: 'welcome-packet', _csrf: s.csrf }).expect(409);
  });

  test('a login always starts a new session and ends the one the browser presented (no session fixation)', async () => {
    const old = await cb.login();
    const form = await loginForm(cb.app);
    const res = await request(cb.app)
      .post('/console/login')
      .set('cookie', `${form.cookie}; ${old.cookie}`)
      .type('form')
      .send({ token: ADMIN_TOKEN, _csrf: form.csrf })
      .expect(302);
    const fresh = cookieOf(res, 'console_session')!;
    expect(fresh).toMatch(/^console_session=.{20,}/);
    expect(fresh).not.toBe(old.cookie);
    await request(cb.app).get('/console').set('cookie', fresh).expect(200);
    await request(cb.app).get('/console').set('cookie', old.cookie).expect(302);
    await request(cb.app).get('/console/api/overview').set('cookie', old.cookie).expect(401);
  });

  test('logout revokes the session on the server: the old cookie no longer works', async () => {
    const s = await cb.login();
    const res = await request(cb.app).post('/console/logout').set('cookie', s.cookie).type('form').send({ _csrf: s.csrf }).expect(302);
    expect(res.headers.location).toBe('/console/login');
    expect(cookieOf(res, 'console_session')).toBe('console_session=');
    await request(cb.app).get('/console').set('cookie', s.cookie).expect(302);
    await request(cb.app).get('/console/api/overview').set('cookie', s.cookie).expect(401);
  });

  test('a session ends 8 h after its last use, and 24 h after the login whatever the use', async () => {
    const idle = await cb.login();
    clock.advance(7 * HOUR);
    await request(cb.app).get('/console').set('cookie', idle.cookie).expect(200);
    clock.advance(7 * HOUR);
    await request(cb.app).get('/console').set('cookie', idle.cookie).expect(200);
    clock.advance(8 * HOUR + 60_000);
    await request(cb.app).get('/console').set('cookie', idle.cookie).expect(302);
    const used = await cb.login();
    for (let h = 0; h < 3; h++) {
      clock.advance(7 * HOUR);
      await request(cb.app).get('/console').set('cookie', used.cookie).expect(200);
    }
    clock.advance(3 * HOUR + 1000);
    await request(cb.app).get('/console').set('cookie', used.cookie).expect(302);
  });

  test('the store not answering: 503 for the login and every page, nothing let through', async () => {
    const form = await loginForm(cb.app);
    const s = await cb.login();
    const kv = cb.bot.store.kv;
    const get = kv.get;
    kv.get = () => Promise.reject(new Error('store down'));
    try {
      await request(cb.app).get('/console/login').set('cookie', s.cookie).expect(503);
      await postLogin(cb, form, ADMIN_TOKEN).expect(503);
      await request(cb.app).get('/console').set('cookie', s.cookie).expect(503);
      expect((await request(cb.app).get('/console/api/overview').set('cookie', s.cookie).expect(503)).body).toEqual({
        ok: false,
        message: 'the console is unavailable: the store does not answer',
      });
    } finally {
      kv.get = get;
    }
  });

  test('the audit names the session id, never the cookie: logins, failures, actions, logouts', async () => {
    const s = await cb.login();
    await request(cb.app).post('/console/api/campaigns/resume').set('cookie', s.cookie).set('x-csrf-token', s.csrf).send({ campaign: 'welcome-packet' });
    const recent = await consoleAudit({ kv: cb.bot.store.kv, counters: cb.bot.store.counters, log: silentLogger() }).recent(100);
    const secret = s.cookie.split('=')[1]!;
    expect(JSON.stringify(recent)).not.toContain(secret);
    expect(JSON.stringify(recent)).not.toContain(ADMIN_TOKEN);
    const actions = recent.map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['login', 'login.failed', 'login.refused', 'logout', 'csrf.refused', 'campaign.resume']));
    const resume = recent.find((r) => r.action === 'campaign.resume')!;
    expect(resume).toMatchObject({ target: 'welcome-packet', detail: { ok: false }, session: expect.stringMatching(/^[0-9a-f]{12}$/) });
    expect(recent.find((r) => r.action === 'login' && r.session === resume.session)).toBeDefined();
  });
});

describe('console cookies behind https', () => {
  test('with an https BOT_PUBLIC_URL the cookies are Secure', async () => {
    const cb = await startConsoleTestBot({ clock: fixedClock(T0), env: { BOT_PUBLIC_URL: 'https://bot.example.com' } });
    try {
      const form = await loginForm(cb.app);
      const res = await postLogin(cb, form, ADMIN_TOKEN).expect(302);
      expect((res.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('console_session='))).toMatch(/; SameSite=Strict; HttpOnly; Secure$/);
    } finally {
      await cb.close();
    }
  });
});

describe('console login lockout', () => {
  test('the 10th failure locks the address out (429, even with the right token), counted with the staff endpoints', async () => {
    const cb = await startConsoleTestBot({ clock: fixedClock(T0) });
    try {
      // Failures at the staff endpoint and at the console login count together.
      for (let i = 0; i < 5; i++) await request(cb.app).post('/admin/cards/consume').set('authorization', 'Bearer wrong-token-wrong-token').send({}).expect(401);
      const form = await loginForm(cb.app);
      for (let i = 0; i < 4; i++) await postLogin(cb, form, 'wrong-token-wrong-token').expect(401);
      const tenth = await postLogin(cb, form, 'wrong-token-wrong-token').expect(429);
      expect(tenth.headers['retry-after']).toBe('300');
      const right = await postLogin(cb, form, ADMIN_TOKEN).expect(429);
      expect(cookieOf(right, 'console_session')).toBeUndefined();
      expect(right.text).toContain('Too many failed attempts');
      await request(cb.app).post('/admin/cards/consume').set('authorization', `Bearer ${ADMIN_TOKEN}`).send({}).expect(429);
    } finally {
      await cb.close();
    }
  });
});

describe('console languages', () => {
  test('Accept-Language picks Chinese; ?lang= switches and is remembered', async () => {
    const cb = await startConsoleTestBot({ clock: fixedClock(T0) });
    try {
      const zh = await request(cb.app).get('/console/login').set('accept-language', 'zh-CN,zh;q=0.9,en;q=0.8').expect(200);
      expect(zh.text).toContain('<html lang="zh-CN">');
      expect(zh.text).toContain('管理令牌');
      const en = await request(cb.app).get('/console/login?lang=en').set('accept-language', 'zh-CN').expect(200);
      expect(en.text).toContain('Admin token');
      const lang = cookieOf(en, 'console_lang')!;
      expect(lang).toBe('console_lang=en');
      const again = await request(cb.app).get('/console/login').set('accept-language', 'zh-CN').set('cookie', lang).expect(200);
      expect(again.text).toContain('<html lang="en">');
    } finally {
      await cb.close();
    }
  });
});
