import { hostname } from 'node:os';
import request from 'supertest';
import { fixedClock } from '../../../src/lib/clock';
import { createMessageCrypto } from '../../../src/wechat/crypto';
import { requestIds } from '../../../src/wechat/koa/access-log';
import { textXml } from '../../helpers/inbound';
import { signedQuery, toQueryString } from '../../helpers/signed-query';
import { createTestWebhook, encryptedBody, TEST_APPID } from '../../helpers/test-webhook';

type Line = Record<string, unknown>;
const parsed = (lines: string[]): Line[] => lines.map((l) => JSON.parse(l) as Line);
const accessLines = (lines: string[]): Line[] => parsed(lines).filter((l) => l.msg === 'request');

describe('access log', () => {
  it('writes one line per webhook request: fields, no query values, no body; pid and hostname; id = X-Request-Id', async () => {
    const t = createTestWebhook({ logLevel: 'info', crypto: null });
    const q = signedQuery('EdgeTestToken7q2Zr', { timestamp: Math.floor(t.clock.now() / 1000), openid: 'oSecretOpenid42' });
    const res = await request(t.callback)
      .post(`/wechat?${toQueryString(q)}`)
      .type('text/xml')
      .send(textXml({ content: 'body-marker-xyz' }));
    expect(res.status).toBe(200);
    const lines = accessLines(t.logLines);
    expect(lines).toHaveLength(1);
    const [line] = lines;
    expect(line).toMatchObject({ level: 30, method: 'POST', path: '/wechat', status: 200, outcome: 'reply', pid: process.pid, hostname: hostname() });
    expect(typeof line.ms).toBe('number');
    expect(line.reqId).toBe(res.headers['x-request-id']);
    const all = t.logLines.join('\n');
    for (const secret of [q.signature, q.nonce, q.timestamp, 'oSecretOpenid42', 'body-marker-xyz']) expect(all).not.toContain(secret);
  });

  it('never writes the echostr of the handshake', async () => {
    const t = createTestWebhook({ logLevel: 'info' });
    const res = await request(t.callback).get(`/wechat?${t.query()}&echostr=echo-marker-123`);
    expect(res.text).toBe('echo-marker-123');
    expect(accessLines(t.logLines)).toMatchObject([{ method: 'GET', path: '/wechat', status: 200, outcome: 'handshake' }]);
    expect(t.logLines.join('\n')).not.toContain('echo-marker-123');
  });

  it('covers the other routes too, with a fresh id each', async () => {
    const t = createTestWebhook({ logLevel: 'info' });
    const a = await request(t.callback).get('/healthz?token=query-secret-1');
    const b = await request(t.callback).get('/metrics');
    const c = await request(t.callback).get('/admin/cards');
    const d = await request(t.callback).get('/nothing-here');
    const lines = accessLines(t.logLines);
    expect(lines.map((l) => [l.path, l.status])).toEqual([
      ['/healthz', 200],
      ['/metrics', 200],
      ['/admin/cards', c.status],
      ['/nothing-here', 404],
    ]);
    expect(lines.map((l) => l.reqId)).toEqual([a, b, c, d].map((r) => r.headers['x-request-id']));
    expect(new Set(lines.map((l) => l.reqId)).size).toBe(4);
    expect(t.logLines.join('\n')).not.toContain('query-secret-1');
  });

  it('logs a proxy request id as upstreamId, never as ours, and drops an insane one', async () => {
    const t = createTestWebhook({ logLevel: 'info' });
    const res = await request(t.callback).get('/healthz').set('X-Request-Id', 'nginx-abc123');
    await request(t.callback)
      .get('/healthz')
      .set('X-Request-Id', 'x'.repeat(65) + '<script>');
    const [first, second] = accessLines(t.logLines);
    expect(first.upstreamId).toBe('nginx-abc123');
    expect(res.headers['x-request-id']).not.toBe('nginx-abc123');
    expect(second.upstreamId).toBeUndefined();
  });

  it('puts the request id on the request’s own lines', async () => {
    const t = createTestWebhook({ logLevel: 'debug' });
    const res = await request(t.callback).post(`/wechat?${t.query()}`).type('text/xml').send('<xml><broken');
    expect(res.status).toBe(400);
    const id = res.headers['x-request-id'];
    expect(id).toMatch(/^[0-9a-z]+-[0-9a-z]+$/);
    const own = parsed(t.logLines).filter((l) => l.msg === 'malformed XML');
    expect(own).toHaveLength(1);
    expect(own[0].reqId).toBe(id);
  });

  it('is off with accessLog: false (BOT_ACCESS_LOG=0), and at LOG_LEVEL=warn; the header stays', async () => {
    const off = createTestWebhook({ logLevel: 'info', accessLog: false });
    const res = await request(off.callback).get('/healthz');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-z]+-[0-9a-z]+$/);
    const warn = createTestWebhook({ logLevel: 'warn' });
    await request(warn.callback).get('/healthz');
    expect(accessLines(off.logLines)).toHaveLength(0);
    expect(accessLines(warn.logLines)).toHaveLength(0);
  });

  it('makes short ids from a process prefix and a counter', () => {
    const next = requestIds('p1');
    expect([next(), next(), next()]).toEqual(['p1-1', 'p1-2', 'p1-3']);
  });
});

describe('setup hints', () => {
  it('N bad signatures → one warn line with "check WECHAT_TOKEN", then the suppressed count after the window', async () => {
    const clock = fixedClock(Date.now());
    const t = createTestWebhook({ logLevel: 'info', clock });
    const bad = () => toQueryString(signedQuery('WrongToken123', { timestamp: Math.floor(clock.now() / 1000) }));
    for (let i = 0; i < 5; i++) expect((await request(t.callback).post(`/wechat?${bad()}`).send('<xml/>')).status).toBe(401);
    let warns = parsed(t.logLines).filter((l) => l.level === 40);
    expect(warns).toHaveLength(1);
    expect(String(warns[0].msg)).toContain('check WECHAT_TOKEN');
    expect(warns[0].suppressed).toBeUndefined();
    clock.advance(59_000);
    await request(t.callback).post(`/wechat?${bad()}`).send('<xml/>');
    expect(parsed(t.logLines).filter((l) => l.level === 40)).toHaveLength(1);
    clock.advance(1_000);
    await request(t.callback).post(`/wechat?${bad()}`).send('<xml/>');
    warns = parsed(t.logLines).filter((l) => l.level === 40);
    expect(warns).toHaveLength(2);
    expect(warns[1]).toMatchObject({ suppressed: 5, outcome: 'bad_signature' });
    expect(String(warns[1].msg)).toContain('check WECHAT_TOKEN');
    expect(t.logLines.join('\n')).not.toContain('WrongToken123');
  });

  it('a message sealed with another AES key → warn "check WECHAT_ENCODING_AES_KEY"', async () => {
    const t = createTestWebhook({ logLevel: 'info' });
    const other = createMessageCrypto({ encodingAESKey: 'A'.repeat(43), appId: TEST_APPID });
    const { body, encrypt } = encryptedBody(other, textXml({ content: 'hi' }));
    const res = await request(t.callback)
      .post(`/wechat?${t.query({ encrypt })}`)
      .type('text/xml')
      .send(body);
    expect(res.status).toBe(400);
    const warns = parsed(t.logLines).filter((l) => l.level === 40);
    expect(warns).toHaveLength(1);
    expect(String(warns[0].msg)).toContain('check WECHAT_ENCODING_AES_KEY');
  });
});
