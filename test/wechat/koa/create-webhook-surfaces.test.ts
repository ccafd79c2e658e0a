/**
 * What each app of `createWebhook` serves to whom: `/healthz` anonymous vs with the admin token,
 * `/metrics` behind BOT_METRICS_TOKEN, and the public / admin halves of a split deployment (ADMIN_PORT).
 */
import { Router } from '@koa/router';
import request from 'supertest';
import { createTestWebhook, type TestWebhookOverrides } from '../../helpers/test-webhook';

const ADMIN = 'staff-secret-Q7w9Zr4Lm2Xp8Vb3';
const METRICS = 'metrics-secret-4Hq8Tz1Wn6Ke';

const health = async () => ({
  ok: true,
  summary: { store: 'ok' },
  details: { config: { ok: false, lastError: '/srv/bot/config/rules.yaml:3 rules[0].match.event: "subscrib" is not one of …' }, driver: 'sqlite' },
});

function staffRouter(): Router {
  const router = new Router({ prefix: '/admin/test' });
  router.post('/ping', (ctx) => {
    ctx.body = { ok: true };
  });
  return router;
}

const app = (overrides: TestWebhookOverrides = {}) => createTestWebhook({ adminToken: ADMIN, staffRouters: [staffRouter()], health, ...overrides });
const bearer = (token: string) => `Bearer ${token}`;

describe('GET /healthz', () => {
  it('should show anonymous callers only ok and the summary: no path, no config error text', async () => {
    const t = app();
    const res = await request(t.callback).get('/healthz').expect(200);
    expect(res.body).toEqual({ ok: true, store: 'ok' });
    expect(res.text).not.toMatch(/\/srv|rules\.yaml|subscrib|sqlite/);
  });

  it('should show the details with the admin token', async () => {
    const t = app();
    const res = await request(t.callback).get('/healthz').set('Authorization', bearer(ADMIN)).expect(200);
    expect(res.body).toEqual({ ok: true, store: 'ok', config: { ok: false, lastError: expect.stringContaining('rules.yaml:3') }, driver: 'sqlite' });
  });

  it('should count a wrong token at /healthz as a failed staff attempt', async () => {
    const t = app();
    await request(t.callback).get('/healthz').set('Authorization', bearer('not-the-admin-token-00')).expect(401);
    await t.waitForLog('"reason":"wrong"');
  });

  it('should not show the error text of a throwing health function to anonymous callers', async () => {
    const t = app({
      health: async () => {
        throw new Error('connect ECONNREFUSED /var/run/postgresql/.s.PGSQL.5432');
      },
    });
    const anonymous = await request(t.callback).get('/healthz').expect(503);
    expect(anonymous.body).toEqual({ ok: false });
    const staff = await request(t.callback).get('/healthz').set('Authorization', bearer(ADMIN)).expect(503);
    expect(staff.body).toEqual({ ok: false, error: expect.stringContaining('ECONNREFUSED') });
  });
});

describe('GET /metrics with BOT_METRICS_TOKEN', () => {
  it('should answer 401 without the metrics token and the metrics with it', async () => {
    const t = app({ metricsToken: METRICS });
    await request(t.callback).get('/metrics').expect(401).expect('WWW-Authenticate', 'Bearer');
    await request(t.callback).get('/metrics').set('Authorization', bearer(ADMIN)).expect(401);
    const res = await request(t.callback).get('/metrics').set('Authorization', bearer(METRICS)).expect(200);
    expect(res.text).toContain('# TYPE wechat_requests_total counter');
  });

  it('should stay open without a metrics token (the default)', async () => {
    await request(app().callback).get('/metrics').expect(200);
  });
});

describe('createWebhook surfaces (ADMIN_PORT)', () => {
  it('should serve the webhook and the anonymous /healthz on the public app, and 404 for staff routes and /metrics', async () => {
    const t = app({ surface: 'public', metricsToken: METRICS });
    await request(t.callback).post('/admin/test/ping').set('Authorization', bearer(ADMIN)).expect(404);
    await request(t.callback).get('/metrics').set('Authorization', bearer(METRICS)).expect(404);
    const h = await request(t.callback).get('/healthz').set('Authorization', bearer(ADMIN)).expect(200);
    expect(h.body).toEqual({ ok: true, store: 'ok' });
    await request(t.callback).get(`/wechat?${t.query()}&echostr=42`).expect(200, '42');
  });

  it('should serve staff routes, the detailed /healthz and /metrics on the admin app, and no webhook', async () => {
    const t = app({ surface: 'admin' });
    await request(t.callback).post('/admin/test/ping').set('Authorization', bearer(ADMIN)).expect(200);
    await request(t.callback).post('/admin/test/ping').expect(401);
    const h = await request(t.callback).get('/healthz').set('Authorization', bearer(ADMIN)).expect(200);
    expect(h.body.driver).toBe('sqlite');
    await request(t.callback).get('/metrics').expect(200);
    await request(t.callback).get(`/wechat?${t.query()}&echostr=42`).expect(404);
  });
});
