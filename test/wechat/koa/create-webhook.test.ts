import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { Router } from '@koa/router';
import Koa from 'koa';
import request from 'supertest';
import { createLogger } from '../../../src/lib/logger';
import { createMetrics } from '../../../src/lib/metrics';
import { createReplyRenderer } from '../../../src/reply/render-reply';
import { createMemoryStore } from '../../../src/store/memory';
import { computeSignature } from '../../../src/wechat/signature';
import { parseXml } from '../../../src/wechat/xml';
import { createWebhookMiddleware, createWebhookRouter, type WebhookOptions } from '../../../src/wechat/koa/create-webhook';
import { DEFAULT_FROM, DEFAULT_TO, textXml } from '../../helpers/inbound';
import { signedQuery, toQueryString } from '../../helpers/signed-query';
import { createTestWebhook, echoHandler, TEST_TOKEN, VIEWS_DIR } from '../../helpers/test-webhook';

/** The handshake query WeChat sends when the URL is saved in the admin console. */
function handshakeQuery(token: string, opts: { timestamp: number; echostr?: string; nonce?: string }): Record<string, string> {
  const q = signedQuery(token, { timestamp: opts.timestamp, nonce: opts.nonce });
  return { ...q, echostr: opts.echostr ?? '5837397520665436492' };
}

describe('createWebhook', () => {
  describe('GET /wechat (handshake)', () => {
    it('should answer echostr as text/plain when the signature matches', async () => {
      const t = createTestWebhook();
      const now = Math.floor(t.clock.now() / 1000);
      const res = await request(t.callback).get(`/wechat?${toQueryString(handshakeQuery(TEST_TOKEN, { timestamp: now }))}`);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.text).toBe('5837397520665436492');
      expect(t.handlerCalls).toHaveLength(0);
    });

    it('should verify the official handshake vector', async () => {
      const vectors = JSON.parse(readFileSync(join(__dirname, '..', '..', 'fixtures', 'vectors', 'handshake-signature.json'), 'utf8')) as {
        id: string;
        method: string;
        token: string;
        query: Record<string, string>;
        expected_response_body?: string;
        valid?: boolean;
      }[];
      const v = vectors.find((x) => x.id === 'official-url-verify-get')!;
      expect(v.query.echostr).toBeDefined();
      const t = createTestWebhook({ token: v.token });
      t.clock.set(Number(v.query.timestamp) * 1000);
      const res = await request(t.callback).get(`/wechat?${toQueryString(v.query)}`);
      expect(res.status).toBe(200);
      expect(res.text).toBe(v.expected_response_body);
    });

    it('should answer 401 with no detail when the signature is wrong', async () => {
      const t = createTestWebhook();
      const now = Math.floor(t.clock.now() / 1000);
      const q = handshakeQuery('SomeOtherToken', { timestamp: now });
      const res = await request(t.callback).get(`/wechat?${toQueryString(q)}`);
      expect(res.status).toBe(401);
      expect(res.text).toBe('Unauthorized');
      expect(res.text).not.toContain(q.echostr);
    });

    it('should answer 401 when the signature differs only in case', async () => {
      const t = createTestWebhook();
      const q = handshakeQuery(TEST_TOKEN, { timestamp: Math.floor(t.clock.now() / 1000) });
      q.signature = q.signature.toUpperCase();
      expect((await request(t.callback).get(`/wechat?${toQueryString(q)}`)).status).toBe(401);
    });

    it.each(['signature', 'timestamp', 'nonce'])('should answer 401 when %s is missing', async (param) => {
      const t = createTestWebhook();
      const q = handshakeQuery(TEST_TOKEN, { timestamp: Math.floor(t.clock.now() / 1000) });
      delete q[param];
      const res = await request(t.callback).get(`/wechat?${toQueryString(q)}`);
      expect(res.status).toBe(401);
      expect(res.text).toBe('Unauthorized');
    });

    it('should answer 401 when a parameter is repeated', async () => {
      const t = createTestWebhook();
      const q = handshakeQuery(TEST_TOKEN, { timestamp: Math.floor(t.clock.now() / 1000) });
      const res = await request(t.callback).get(`/wechat?${toQueryString(q)}&signature=${q.signature}`);
      expect(res.status).toBe(401);
    });

    it('should answer 401 with no query at all', async () => {
      const t = createTestWebhook();
      expect((await request(t.callback).get('/wechat')).status).toBe(401);
    });

    it('should answer 400 when a signed handshake has no echostr', async () => {
      const t = createTestWebhook();
      const res = await request(t.callback).get(`/wechat?${t.query()}`);
      expect(res.status).toBe(400);
    });

    it.each([
      ['300 s in the past', -300, 200],
      ['301 s in the past', -301, 401],
      ['300 s in the future', 300, 200],
      ['301 s in the future', 301, 401],
      ['a day in the past', -86_400, 401],
    ])('should check the default ±300 s window: timestamp %s → %i', async (_label, offset, status) => {
      const t = createTestWebhook();
      const now = Math.floor(t.clock.now() / 1000);
      const res = await request(t.callback).get(`/wechat?${toQueryString(handshakeQuery(TEST_TOKEN, { timestamp: now + offset }))}`);
      expect(res.status).toBe(status);
      if (status === 401) expect(res.text).toBe('Unauthorized');
    });

    it('should use a configured window', async () => {
      const t = createTestWebhook({ timestampWindowSeconds: 10 });
      const now = Math.floor(t.clock.now() / 1000);
      const at = (offset: number) => request(t.callback).get(`/wechat?${toQueryString(handshakeQuery(TEST_TOKEN, { timestamp: now + offset }))}`);
      expect((await at(-10)).status).toBe(200);
      expect((await at(-11)).status).toBe(401);
      expect((await at(11)).status).toBe(401);
    });

    it('should follow the injected clock (a captured request replayed later is refused)', async () => {
      const t = createTestWebhook();
      const url = `/wechat?${toQueryString(handshakeQuery(TEST_TOKEN, { timestamp: Math.floor(t.clock.now() / 1000) }))}`;
      expect((await request(t.callback).get(url)).status).toBe(200);
      t.clock.advance(301_000);
      expect((await request(t.callback).get(url)).status).toBe(401);
    });

    it.each(['abc', '1e9', '-5', '', '17140000000000'])('should answer 401 for a signed but non-numeric or absurd timestamp %p', async (ts) => {
      const t = createTestWebhook();
      const nonce = '12345';
      const q = { signature: computeSignature(TEST_TOKEN, ts, nonce), timestamp: ts, nonce, echostr: 'x' };
      expect((await request(t.callback).get(`/wechat?${toQueryString(q)}`)).status).toBe(401);
    });
  });

  describe('POST /wechat (plain mode)', () => {
    it('should answer a text message with reply XML: To/From swapped, CreateTime in seconds', async () => {
      const t = createTestWebhook();
      t.clock.set(1_714_000_123_456);
      const res = await request(t.callback)
        .post(`/wechat?${t.query()}`)
        .type('text/xml')
        .send(textXml({ content: 'hello' }));
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/xml/);
      const reply = parseXml(res.text);
      expect(reply).toEqual({
        ToUserName: DEFAULT_FROM,
        FromUserName: DEFAULT_TO,
        CreateTime: '1714000123',
        MsgType: 'text',
        Content: 'hello',
      });
      expect(t.handlerCalls).toHaveLength(1);
      expect(t.handlerCalls[0]).toMatchObject({ MsgType: 'text', Content: 'hello', FromUserName: DEFAULT_FROM });
    });

    it('should answer `success` as text/plain when the handler has no reply', async () => {
      const t = createTestWebhook({ handler: () => ({ type: 'none' }) });
      const res = await request(t.callback)
        .post(`/wechat?${t.query()}`)
        .type('text/xml')
        .send(textXml({ content: 'x' }));
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.text).toBe('success');
    });

    it('should not add an Allow header or a 405 outcome to a handled message', async () => {
      const t = createTestWebhook();
      const res = await request(t.callback)
        .post(`/wechat?${t.query()}`)
        .type('text/xml')
        .send(textXml({ content: 'x' }));
      expect(res.status).toBe(200);
      expect(res.headers.allow).toBeUndefined();
      const metrics = (await request(t.callback).get('/metrics')).text;
      expect(metrics).toContain('wechat_requests_total{outcome="reply"} 1');
      expect(metrics).not.toContain('method_not_allowed');
      expect(metrics).toContain('wechat_request_duration_seconds_count 1');
      expect(t.logLines.join('')).not.toContain('method not allowed');
    });

    it('should answer 401 to a POST with a bad signature, without reading further', async () => {
      const t = createTestWebhook();
      const res = await request(t.callback)
        .post(`/wechat?${toQueryString(signedQuery('WrongToken', { timestamp: Math.floor(t.clock.now() / 1000) }))}`)
        .type('text/xml')
        .send(textXml({ content: 'x' }));
      expect(res.status).toBe(401);
      expect(res.text).toBe('Unauthorized');
      expect(t.handlerCalls).toHaveLength(0);
    });

    it('should answer 401 to a POST with a stale timestamp', async () => {
      const t = createTestWebhook();
      const res = await request(t.callback)
        .post(`/wechat?${t.query({ timestamp: Math.floor(t.clock.now() / 1000) - 301 })}`)
        .type('text/xml')
        .send(textXml({ content: 'x' }));
      expect(res.status).toBe(401);
      expect(t.handlerCalls).toHaveLength(0);
    });

    it('should serve another path when configured', async () => {
      const t = createTestWebhook({ path: '/hooks/wx' });
      expect(
        (
          await request(t.callback)
            .post(`/hooks/wx?${t.query()}`)
            .type('text/xml')
            .send(textXml({ content: 'a' }))
        ).status,
      ).toBe(200);
      expect(
        (
          await request(t.callback)
            .post(`/wechat?${t.query()}`)
            .type('text/xml')
            .send(textXml({ content: 'a' }))
        ).status,
      ).toBe(404);
    });
  });

  it('should accept the path with a trailing slash', async () => {
    const t = createTestWebhook();
    const res = await request(t.callback)
      .post(`/wechat/?${t.query()}`)
      .type('text/xml')
      .send(textXml({ content: 'slash' }));
    expect(res.status).toBe(200);
    expect(parseXml(res.text).Content).toBe('slash');
  });

  it('should answer HEAD like the GET handshake, without a body', async () => {
    const t = createTestWebhook();
    const now = Math.floor(t.clock.now() / 1000);
    const res = await request(t.callback).head(`/wechat?${toQueryString(handshakeQuery(TEST_TOKEN, { timestamp: now }))}`);
    expect(res.status).toBe(200);
    expect(res.text ?? '').toBe('');
  });

  describe('other methods', () => {
    it.each(['put', 'delete', 'patch', 'options'] as const)('should answer %s with 405 and Allow', async (method) => {
      const t = createTestWebhook();
      const res = await request(t.callback)[method](`/wechat?${t.query()}`);
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe('GET, POST');
      expect(t.handlerCalls).toHaveLength(0);
      const metrics = (await request(t.callback).get('/metrics')).text;
      expect(metrics).toContain('wechat_requests_total{outcome="method_not_allowed"} 1');
    });

    it('should answer 405 to an unsigned PUT too (method before signature)', async () => {
      const t = createTestWebhook();
      expect((await request(t.callback).put('/wechat').send('x')).status).toBe(405);
    });
  });

  describe('GET /healthz', () => {
    it('should answer 200 JSON when no health function is given', async () => {
      const t = createTestWebhook();
      const res = await request(t.callback).get('/healthz');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toEqual({ ok: true });
    });

    it('should answer 200 with the health report when it is ok', async () => {
      const t = createTestWebhook({ health: async () => ({ ok: true, summary: { store: 'ok' }, details: { driver: 'memory' } }) });
      const res = await request(t.callback).get('/healthz');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ok: true, store: 'ok' });
    });

    it('should answer 503 when the health function reports not ok', async () => {
      const t = createTestWebhook({ health: async () => ({ ok: false, summary: { store: 'down' } }) });
      const res = await request(t.callback).get('/healthz');
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ ok: false, store: 'down' });
    });

    it('should answer 503 when the health function throws', async () => {
      const t = createTestWebhook({
        health: async () => {
          throw new Error('store: connection refused');
        },
      });
      const res = await request(t.callback).get('/healthz');
      expect(res.status).toBe(503);
      // The error text is for staff only (test/wechat/koa/create-webhook-surfaces.test.ts).
      expect(res.body).toEqual({ ok: false });
    });

    it('should answer 503 at once when the health function hangs (a store that never answers)', async () => {
      const t = createTestWebhook({ health: () => new Promise(() => undefined), healthTimeoutMs: 50 });
      const res = await request(t.callback).get('/healthz');
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ ok: false }); // anonymous: the timeout's text is a detail, for the admin token only
      expect(() => createTestWebhook({ healthTimeoutMs: 0 })).toThrow(/healthTimeoutMs/);
    });

    it('should answer 503 when the store of the health function is closed', async () => {
      const store = createMemoryStore();
      const t = createTestWebhook({
        store,
        health: async () => {
          await store.ping();
          return { ok: true };
        },
      });
      expect((await request(t.callback).get('/healthz')).status).toBe(200);
      await store.close();
      expect((await request(t.callback).get('/healthz')).status).toBe(503);
    });
  });

  describe('GET /metrics', () => {
    it('should serve Prometheus text with requests by outcome, the latency histogram and dedupe hits', async () => {
      const t = createTestWebhook();
      const xml = textXml({ content: 'count me' });
      await request(t.callback).post(`/wechat?${t.query()}`).type('text/xml').send(xml);
      await request(t.callback).post(`/wechat?${t.query()}`).type('text/xml').send(xml);
      await request(t.callback)
        .post(`/wechat?${toQueryString(signedQuery('WrongToken'))}`)
        .type('text/xml')
        .send(xml);
      await request(t.callback).post(`/wechat?${t.query()}`).type('text/xml').send('<xml><oops></xml>');
      const res = await request(t.callback).get('/metrics');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      const text = res.text;
      expect(text).toContain('# TYPE wechat_requests_total counter');
      expect(text).toContain('wechat_requests_total{outcome="reply"} 1');
      expect(text).toContain('wechat_requests_total{outcome="duplicate"} 1');
      expect(text).toContain('wechat_requests_total{outcome="bad_signature"} 1');
      expect(text).toContain('wechat_requests_total{outcome="bad_xml"} 1');
      expect(text).toContain('# TYPE wechat_request_duration_seconds histogram');
      expect(text).toMatch(/^wechat_request_duration_seconds_bucket\{le="\+Inf"\} 4$/m);
      expect(text).toMatch(/^wechat_request_duration_seconds_count 4$/m);
      expect(text).toMatch(/^wechat_request_duration_seconds_sum \d/m);
      expect(text).toContain('# TYPE wechat_dedupe_hits_total counter');
      expect(text).toMatch(/^wechat_dedupe_hits_total 1$/m);
    });

    it('should not count /healthz and /metrics as webhook requests', async () => {
      const t = createTestWebhook();
      await request(t.callback).get('/healthz');
      await request(t.callback).get('/metrics');
      const text = (await request(t.callback).get('/metrics')).text;
      expect(text).not.toMatch(/^wechat_requests_total\{/m);
    });
  });
});

// === Mounting beside other middleware

function routerOptions(overrides: Partial<WebhookOptions> = {}): { options: WebhookOptions; lines: string[] } {
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', destination: { write: (l: string) => void lines.push(l) } });
  return {
    lines,
    options: {
      token: TEST_TOKEN,
      renderer: createReplyRenderer({ viewsDir: VIEWS_DIR }),
      handler: echoHandler,
      dedupe: createMemoryStore().dedupe,
      bindings: createMemoryStore().bindings,
      log,
      metrics: createMetrics(),
      ...overrides,
    },
  };
}

function readAll(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

type RequestWithBody = Koa.Request & { rawBody?: string; body?: unknown };

describe('createWebhookRouter', () => {
  const post = (app: Koa, body: string) =>
    request(app.callback())
      .post(`/wechat?${toQueryString(signedQuery(TEST_TOKEN))}`)
      .type('text/xml')
      .send(body);

  it('should work behind an upstream middleware that awaits before passing on', async () => {
    const app = new Koa();
    app.use(async function slowAuth(_ctx, next) {
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setTimeout(resolve, 5));
      await next();
    });
    app.use(createWebhookRouter(routerOptions().options).routes());
    const res = await post(app, textXml({ content: 'after an await' }));
    expect(res.status).toBe(200);
    expect(parseXml(res.text).Content).toBe('after an await');
  });

  it('should use ctx.request.rawBody kept by an upstream body parser', async () => {
    const app = new Koa();
    app.use(async function bodyParser(ctx, next) {
      const raw = await readAll(ctx.req);
      const request = ctx.request as RequestWithBody;
      request.rawBody = raw;
      request.body = { parsed: true };
      await next();
    });
    app.use(createWebhookRouter(routerOptions().options).routes());
    const res = await post(app, textXml({ content: 'parsed upstream' }));
    expect(res.status).toBe(200);
    expect(parseXml(res.text).Content).toBe('parsed upstream');
  });

  it('should use a string ctx.request.body kept by an upstream text parser', async () => {
    const app = new Koa();
    app.use(async function textParser(ctx, next) {
      (ctx.request as RequestWithBody).body = await readAll(ctx.req);
      await next();
    });
    app.use(createWebhookRouter(routerOptions().options).routes());
    const res = await post(app, textXml({ content: 'text parser' }));
    expect(res.status).toBe(200);
    expect(parseXml(res.text).Content).toBe('text parser');
  });

  it('should apply the size limit to a raw body kept upstream', async () => {
    const app = new Koa();
    app.use(async function bodyParser(ctx, next) {
      (ctx.request as RequestWithBody).rawBody = await readAll(ctx.req);
      await next();
    });
    app.use(createWebhookRouter(routerOptions({ maxBodyBytes: 1024 }).options).routes());
    expect((await post(app, textXml({ content: 'x'.repeat(2000) }))).status).toBe(413);
  });

  it('should fail with a clear, logged 500 when an upstream parser consumed the body without keeping it', async () => {
    const app = new Koa();
    app.use(async function lossyParser(ctx, next) {
      await readAll(ctx.req);
      (ctx.request as RequestWithBody).body = { xml: 'gone' };
      await next();
    });
    const { options, lines } = routerOptions();
    let handled = 0;
    app.use(createWebhookRouter({ ...options, handler: (m) => (handled++, echoHandler(m)) }).routes());
    const res = await post(app, textXml({ content: 'lost' }));
    expect(res.status).toBe(500);
    expect(res.text).toMatch(/mount the WeChat webhook before the body parser/);
    expect(res.text).toMatch(/rawBody/);
    expect(handled).toBe(0);
    const logged = lines.map((l) => JSON.parse(l) as { level: number; msg: string; err?: { message: string } });
    expect(logged.some((l) => l.level >= 50 && /body parser/.test(l.err?.message ?? ''))).toBe(true);
  });

  it('should not fall through to the host app’s later middleware after handling a message', async () => {
    const app = new Koa();
    let fellThrough = 0;
    app.use(createWebhookRouter(routerOptions().options).routes());
    app.use(async function notFound(ctx) {
      fellThrough++;
      ctx.status = 404;
    });
    const res = await post(app, textXml({ content: 'stay' }));
    expect(res.status).toBe(200);
    expect(fellThrough).toBe(0);
  });

  it('should route under a parent router prefix', async () => {
    const app = new Koa();
    const parent = new Router();
    parent.use('/bots', createWebhookRouter(routerOptions().options).routes());
    app.use(parent.routes());
    const res = await request(app.callback())
      .post(`/bots/wechat?${toQueryString(signedQuery(TEST_TOKEN))}`)
      .type('text/xml')
      .send(textXml({ content: 'nested' }));
    expect(res.status).toBe(200);
    expect(parseXml(res.text).Content).toBe('nested');
  });

  it('should refuse a token WeChat would not accept, when built', () => {
    expect(() => createWebhookRouter(routerOptions({ token: '' }).options)).toThrow(TypeError);
    expect(() => createWebhookRouter(routerOptions({ token: 'has space' }).options)).toThrow(/token/);
  });
});

describe('createWebhookMiddleware', () => {
  const options = () => routerOptions().options;
  const post = (app: Koa, path: string, body: string) =>
    request(app.callback())
      .post(`${path}?${toQueryString(signedQuery(TEST_TOKEN))}`)
      .type('text/xml')
      .send(body);

  it('should handle its path and pass every other path to the next middleware', async () => {
    const app = new Koa();
    const seen: string[] = [];
    app.use(createWebhookMiddleware(options()));
    app.use(async function rest(ctx) {
      seen.push(ctx.path);
      ctx.body = 'rest';
    });
    const handled = await post(app, '/wechat', textXml({ content: 'mine' }));
    expect(parseXml(handled.text).Content).toBe('mine');
    const other = await request(app.callback()).post('/wechatx').send('x');
    expect(other.text).toBe('rest');
    const deeper = await request(app.callback()).get('/wechat/pay/notify');
    expect(deeper.text).toBe('rest');
    expect(seen).toEqual(['/wechatx', '/wechat/pay/notify']);
  });

  it('should answer 405 at its path to other methods and not fall through', async () => {
    const app = new Koa();
    let fellThrough = 0;
    app.use(createWebhookMiddleware(options()));
    app.use(async function rest() {
      fellThrough++;
    });
    const res = await request(app.callback()).delete('/wechat');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, POST');
    expect(fellThrough).toBe(0);
  });
});
