import { performance } from 'node:perf_hooks';
import request from 'supertest';
import { createLogger } from '../../../src/lib/logger';
import type { Reply } from '../../../src/reply/reply';
import { createReplyRenderer } from '../../../src/reply/render-reply';
import type { InboundMessage } from '../../../src/wechat/inbound';
import { dispatch } from '../../../src/wechat/koa/dispatch';
import { parseXml } from '../../../src/wechat/xml';
import { subscribeXml, textXml } from '../../helpers/inbound';
import { createTestWebhook, deferred, type TestWebhook, VIEWS_DIR } from '../../helpers/test-webhook';

function post(t: TestWebhook, body: string) {
  return request(t.callback).post(`/wechat?${t.query()}`).type('text/xml').send(body);
}

/** Resolves with the next error the app emits. */
function nextAppError(t: TestWebhook): Promise<unknown> {
  return new Promise((resolve) => t.app.once('error', resolve));
}

describe('dispatch', () => {
  it('should refuse a missing handler, when built', () => {
    const renderer = createReplyRenderer({ viewsDir: VIEWS_DIR });
    const log = createLogger({ level: 'silent' });
    expect(() => dispatch({ handler: undefined as unknown as () => Reply, renderer, log })).toThrow(TypeError);
  });

  it('should render the reply of a handler that finishes within the deadline', async () => {
    const onLateReply = jest.fn(async () => undefined);
    const t = createTestWebhook({
      deadlineMs: 2000,
      onLateReply,
      handler: async (m) => {
        await Promise.resolve();
        return { type: 'text', content: `on time: ${m.MsgType}` };
      },
    });
    const res = await post(t, textXml({ content: 'x' }));
    expect(parseXml(res.text).Content).toBe('on time: text');
    expect(onLateReply).not.toHaveBeenCalled();
  });

  describe('deadline guard', () => {
    it('should answer `success` at the deadline, deliver the reply through onLateReply, and not rerun the handler for retries', async () => {
      const gate = deferred();
      const late = deferred<{ message: InboundMessage; reply: Reply }>();
      const t = createTestWebhook({
        deadlineMs: 50,
        handler: async () => {
          await gate.promise;
          return { type: 'text', content: 'worth the wait' };
        },
        onLateReply: async (message, reply) => late.resolve({ message, reply }),
      });
      const xml = textXml({ content: 'slow question', msgId: '9000000000000000001' });

      // The deadline on a fake clock (setTimeout faked, and perf_hooks' performance.now read from it;
      // I/O real): nothing is answered at 49 ms, `success` is at 50 ms.
      jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'setInterval', 'clearInterval', 'Date', 'hrtime', 'performance'] });
      // The fake performance.now runs 1 s behind the real one, so once restored, the real clock is
      // still later than every time read from the fake (the late reply's overMs stays positive).
      const realBase = performance.now() - 1000;
      const fakeBase = jest.now();
      const now = jest.spyOn(performance, 'now').mockImplementation(() => realBase + (jest.now() - fakeBase));
      let res: Awaited<ReturnType<typeof post>>;
      try {
        let answered = false;
        const pending = post(t, xml).then((r) => {
          answered = true;
          return r;
        });
        const turn = () => new Promise((r) => setImmediate(r));
        // No event tells when the request reached the deadline guard: a bounded number of loop turns.
        for (let i = 0; jest.getTimerCount() === 0; i++) {
          if (i > 100_000) throw new Error('the deadline timer was never armed');
          await turn();
        }
        jest.advanceTimersByTime(49);
        for (let i = 0; i < 50; i++) await turn();
        expect(answered).toBe(false);
        jest.advanceTimersByTime(1);
        res = await pending;
      } finally {
        now.mockRestore();
        jest.useRealTimers();
      }
      expect(res.status).toBe(200);
      expect(res.text).toBe('success'); // the handler is still blocked on the gate

      // WeChat retries while the work goes on: `success`, no second run.
      const retryDuring = await post(t, xml);
      expect(retryDuring.text).toBe('success');

      gate.resolve();
      const { message, reply } = await late.promise;
      expect(reply).toEqual({ type: 'text', content: 'worth the wait' });
      expect(message).toMatchObject({ MsgType: 'text', MsgId: '9000000000000000001', Content: 'slow question' });
      expect(await t.waitForLog('after the deadline')).toMatch(/"overMs":\d+/);

      const retryAfter = await post(t, xml);
      expect(retryAfter.text).toBe('success');
      expect(t.handlerCalls).toHaveLength(1);
      const metrics = (await request(t.callback).get('/metrics')).text;
      expect(metrics).toContain('wechat_requests_total{outcome="deadline"} 1');
      expect(metrics).toContain('wechat_requests_total{outcome="duplicate"} 2');
    });

    it('should not call onLateReply when the late handler has no reply', async () => {
      const gate = deferred();
      const onLateReply = jest.fn(async () => undefined);
      const t = createTestWebhook({
        deadlineMs: 30,
        onLateReply,
        handler: async () => {
          await gate.promise;
          return { type: 'none' };
        },
      });
      expect((await post(t, subscribeXml('late'))).text).toBe('success');
      gate.resolve();
      await t.waitForLog('after the deadline');
      expect(onLateReply).not.toHaveBeenCalled();
    });

    it('should emit the error of a handler that fails after the deadline', async () => {
      const gate = deferred();
      const t = createTestWebhook({
        deadlineMs: 30,
        handler: async () => {
          await gate.promise;
          throw new Error('failed late');
        },
      });
      expect((await post(t, textXml({ content: 'x' }))).text).toBe('success');
      const emitted = nextAppError(t);
      gate.resolve();
      expect(((await emitted) as Error).message).toBe('failed late');
      expect(await t.waitForLog('webhook handler failed')).toContain('failed late');
    });

    it('should emit the error of an onLateReply that fails, without crashing', async () => {
      const gate = deferred();
      const t = createTestWebhook({
        deadlineMs: 30,
        handler: async () => {
          await gate.promise;
          return { type: 'text', content: 'too late' };
        },
        onLateReply: async () => {
          throw new Error('customer-service API down');
        },
      });
      expect((await post(t, textXml({ content: 'x' }))).text).toBe('success');
      const emitted = nextAppError(t);
      gate.resolve();
      expect(((await emitted) as Error).message).toBe('customer-service API down');
      // The app still serves.
      expect((await request(t.callback).get('/healthz')).status).toBe(200);
    });

    it('should only log a late reply when no onLateReply is configured', async () => {
      const gate = deferred();
      const t = createTestWebhook({
        deadlineMs: 30,
        handler: async () => {
          await gate.promise;
          return { type: 'text', content: 'nobody hears this' };
        },
      });
      expect((await post(t, textXml({ content: 'x' }))).text).toBe('success');
      gate.resolve();
      expect(await t.waitForLog('after the deadline')).toContain('"level":40');
      expect(t.errors).toEqual([]);
    });
  });

  describe('handler failures', () => {
    it.each([
      [
        'throws synchronously',
        () => {
          throw new Error('sync boom');
        },
      ],
      [
        'rejects',
        async () => {
          throw new Error('async boom');
        },
      ],
      ['returns a reply the renderer refuses', () => ({ type: 'news', articles: [] }) as unknown as Reply],
      ['returns an unknown reply type', () => ({ type: 'hologram' }) as unknown as Reply],
      ['returns nothing', () => undefined as unknown as Reply],
    ])('should answer `success` and emit the error when the handler %s', async (_label, handler) => {
      const t = createTestWebhook({ handler });
      const res = await post(t, textXml({ content: 'x' }));
      expect(res.status).toBe(200);
      expect(res.text).toBe('success');
      expect(t.errors).toHaveLength(1);
    });
  });
});
