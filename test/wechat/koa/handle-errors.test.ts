import Koa from 'koa';
import request from 'supertest';
import { createLogger } from '../../../src/lib/logger';
import { createMetrics } from '../../../src/lib/metrics';
import { WebhookError } from '../../../src/wechat/koa/errors';
import { handleErrors } from '../../../src/wechat/koa/handle-errors';
import type { WebhookState } from '../../../src/wechat/koa/state';

/** handleErrors alone in front of a middleware that throws `error` (or answers when it is undefined). */
function appThrowing(error: unknown) {
  const lines: string[] = [];
  const metrics = createMetrics();
  const app = new Koa<WebhookState>();
  app.silent = true;
  const emitted: unknown[] = [];
  app.on('error', (err: unknown) => emitted.push(err));
  app.use(handleErrors({ log: createLogger({ level: 'debug', destination: { write: (l: string) => void lines.push(l) } }), metrics }));
  app.use(async function inner(ctx) {
    if (error !== undefined) throw error;
    ctx.state.outcome = 'reply';
    ctx.body = '<xml/>';
  });
  return { cb: app.callback(), lines, metrics, emitted };
}

describe('handleErrors', () => {
  it.each([
    [400, 'bad_xml', 'malformed XML', 'malformed XML'],
    [401, 'bad_signature', 'bad msg_signature', 'Unauthorized'],
    [405, 'method_not_allowed', 'method not allowed', 'method not allowed'],
    [413, 'too_large', 'body too large', 'body too large'],
    [500, 'body_consumed', 'mount it before the body parser', 'mount it before the body parser'],
  ] as const)('should answer a WebhookError %i (%s) with its status and a short text', async (status, outcome, message, body) => {
    const { cb, metrics, emitted, lines } = appThrowing(new WebhookError(status, outcome, message));
    const res = await request(cb).post('/');
    expect(res.status).toBe(status);
    expect(res.text).toBe(body);
    expect(res.headers.allow).toBe(status === 405 ? 'GET, POST' : undefined);
    expect(metrics.counter('wechat_requests_total', '').get({ outcome })).toBe(1);
    expect(emitted).toEqual([]);
    const levels = lines.map((l) => (JSON.parse(l) as { level: number }).level);
    expect(levels).toEqual([status === 500 ? 50 : 20]);
  });

  it('should answer any other error with 200 `success` and emit it on the app', async () => {
    const boom = new Error('database on fire');
    const { cb, metrics, emitted } = appThrowing(boom);
    const res = await request(cb).post('/');
    expect(res.status).toBe(200);
    expect(res.text).toBe('success');
    expect(res.text).not.toContain('database');
    expect(emitted).toEqual([boom]);
    expect(metrics.counter('wechat_requests_total', '').get({ outcome: 'error' })).toBe(1);
  });

  it('should answer a thrown non-Error the same way', async () => {
    const { cb, emitted } = appThrowing('a string');
    expect((await request(cb).post('/')).text).toBe('success');
    expect(emitted).toHaveLength(1);
  });

  it('should record the outcome and the latency of a request that went well', async () => {
    const { cb, metrics } = appThrowing(undefined);
    expect((await request(cb).post('/')).status).toBe(200);
    expect(metrics.counter('wechat_requests_total', '').get({ outcome: 'reply' })).toBe(1);
    expect(metrics.render()).toMatch(/^wechat_request_duration_seconds_count 1$/m);
  });
});
