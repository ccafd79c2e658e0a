import { performance } from 'node:perf_hooks';
import Koa from 'koa';
import request from 'supertest';
import { respond } from '../../../src/wechat/koa/respond';
import type { WebhookState } from '../../../src/wechat/koa/state';
import { deferred } from '../../helpers/test-webhook';

/** respond() needs a renderer only for the safe-mode envelope, which these tests never write. */
const renderer = { render: () => '', renderEnvelope: () => '' } as never;

/** `respond` with a deadline, as the webhook builds it. */
function answerByDeadline({ deadlineMs }: { deadlineMs: number }) {
  return respond({ token: 'DeadlineToken1', renderer, deadlineMs });
}

/**
 * A webhook-shaped app: the first middleware stamps the arrival (as handleErrors does) and notes the
 * state once WeChat was answered, then respond with its deadline, then `work` (what dedupe and
 * dispatch do).
 */
function appAround(work: Koa.Middleware<WebhookState>, deadlineMs = 50) {
  const app = new Koa<WebhookState>();
  const errors: unknown[] = [];
  const answered: WebhookState[] = [];
  app.silent = true;
  app.on('error', (err: unknown) => errors.push(err));
  app.use(async function arrival(ctx, next) {
    ctx.state.startedAt = performance.now();
    await next();
    answered.push({ ...ctx.state });
  });
  app.use(answerByDeadline({ deadlineMs }));
  app.use(work);
  return { callback: app.callback(), errors, answered };
}

describe('respond, by the deadline', () => {
  it('should refuse a deadline that is not a positive number, when built', () => {
    expect(() => answerByDeadline({ deadlineMs: 0 })).toThrow(TypeError);
    expect(() => answerByDeadline({ deadlineMs: Number.NaN })).toThrow(TypeError);
  });

  it('should pass the answer of work done in time through, without marking it answered', async () => {
    const t = appAround(async (ctx) => {
      ctx.state.replyXml = '<xml>in time</xml>';
    });
    const res = await request(t.callback).get('/');
    expect(res.text).toBe('<xml>in time</xml>');
    expect(t.answered[0].answered).toBeUndefined();
  });

  it('should answer `success` at the deadline while the work still waits, and let the work go on', async () => {
    const store = deferred();
    const finished = deferred<boolean | undefined>();
    const t = appAround(async (ctx) => {
      await store.promise; // a claim waiting for a lock held elsewhere
      finished.resolve(ctx.state.answered);
    });
    const res = await request(t.callback).get('/');
    expect(res.text).toBe('success');
    expect(t.answered[0]).toMatchObject({ answered: true, outcome: 'deadline' });
    store.resolve();
    expect(await finished.promise).toBe(true); // the late work knows WeChat was answered
  });

  it('should answer with the reply already rendered when only the store write after it is late', async () => {
    const store = deferred();
    const t = appAround(async (ctx) => {
      ctx.state.replyXml = '<xml>rendered</xml>';
      ctx.state.outcome = 'reply';
      await store.promise; // recording the reply waits for the lock
    });
    const res = await request(t.callback).get('/');
    expect(res.text).toBe('<xml>rendered</xml>');
    expect(t.answered[0]).toMatchObject({ answered: true, outcome: 'reply' });
    store.resolve();
  });

  it('should send a failure after the deadline to app.on("error"), and let one before it propagate', async () => {
    const late = deferred();
    const lateApp = appAround(async () => {
      await late.promise;
      throw new Error('failed late');
    });
    expect((await request(lateApp.callback).get('/')).text).toBe('success');
    late.resolve();
    await new Promise((r) => setImmediate(r));
    expect(lateApp.errors.map((e) => (e as Error).message)).toEqual(['failed late']);

    const early = appAround(async () => {
      throw new Error('failed early');
    });
    const res = await request(early.callback).get('/');
    expect(res.status).toBe(500);
    expect(early.errors.map((e) => (e as Error).message)).toEqual(['failed early']);
  });
});

describe('respond (by the deadline) before dispatch', () => {
  it('should deliver late a reply that arrives after WeChat was answered but before dispatch gave up on it', async () => {
    const { dispatch } = await import('../../../src/wechat/koa/dispatch');
    const { silentLogger } = await import('../../../src/lib/logger');
    const gate = deferred();
    const late = deferred<unknown>();
    // dispatch's own guard (1 s) outlasts the outer one (20 ms): the reply comes in between.
    const inner = dispatch({
      handler: async () => {
        await gate.promise;
        return { type: 'text', content: 'worth the wait' };
      },
      renderer: { render: () => '<xml>rendered</xml>' } as never,
      log: silentLogger(),
      deadlineMs: 1000,
      onLateReply: async (_m, reply) => late.resolve(reply),
    });
    const app = new Koa<WebhookState>();
    app.silent = true;
    app.use(async function arrival(ctx, next) {
      ctx.state.startedAt = performance.now();
      await next();
    });
    app.use(answerByDeadline({ deadlineMs: 20 }));
    app.use(async function withMessage(ctx, next) {
      ctx.state.message = { MsgType: 'text', Content: 'q', FromUserName: 'oF', ToUserName: 'gh', CreateTime: 1, MsgId: '1' } as never;
      await next();
    });
    app.use(inner);
    const res = await request(app.callback()).get('/');
    expect(res.text).toBe('success');
    gate.resolve();
    await expect(late.promise).resolves.toEqual({ type: 'text', content: 'worth the wait' });
  });
});
