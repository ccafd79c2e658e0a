import request from 'supertest';
import { fixedClock } from '../../../src/lib/clock';
import { createMetrics } from '../../../src/lib/metrics';
import type { Reply } from '../../../src/reply/reply';
import { createMemoryStore } from '../../../src/store/memory';
import type { DedupeClaim, DedupeStore } from '../../../src/store/ports';
import { StoreBusyError } from '../../../src/store/run-when-unlocked';
import type { InboundMessage } from '../../../src/wechat/inbound';
import { dedupe } from '../../../src/wechat/koa/dedupe';
import { parseXml } from '../../../src/wechat/xml';
import { eventXml, subscribeXml, textXml } from '../../helpers/inbound';
import { signedQuery, toQueryString } from '../../helpers/signed-query';
import { createTestWebhook, deferred, echoHandler, encryptedBody, TEST_TOKEN, type TestWebhook } from '../../helpers/test-webhook';

/** Wraps a dedupe store to see every claim (and wait for the n-th) and every write. */
function spyDedupe(inner: DedupeStore) {
  const claims: DedupeClaim[] = [];
  const writes: string[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const store: DedupeStore = {
    async claim(key, ttl) {
      const result = await inner.claim(key, ttl);
      claims.push(result);
      for (const w of waiters.filter((x) => claims.length >= x.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
      return result;
    },
    async complete(key, reply, ttl) {
      writes.push(`complete ${key}`);
      return inner.complete(key, reply, ttl);
    },
    peek: (key) => inner.peek(key),
    async release(key) {
      writes.push(`release ${key}`);
      return inner.release(key);
    },
  };
  return {
    store,
    claims,
    writes,
    /** Resolves once `n` claims have returned. */
    claimsReached(n: number): Promise<void> {
      if (claims.length >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
  };
}

/** A dedupe store whose every claim fails with `error` (down, or busy past its wait). */
function claimFails(error: Error): DedupeStore {
  return {
    claim: async () => {
      throw error;
    },
    complete: async () => undefined,
    peek: async () => undefined,
    release: async () => undefined,
  };
}

/**
 * Resolves once `n` copies waited for a first attempt (`wechat_dedupe_hits_total`). Copies in one
 * process wait for the first one there, without a claim of their own, so the store cannot tell.
 */
async function hitsReached(t: TestWebhook, n: number): Promise<void> {
  const hits = t.metrics.counter('wechat_dedupe_hits_total', 'Retries answered from the first reply');
  while (hits.get() < n) await new Promise((r) => setImmediate(r));
}

function post(t: TestWebhook, body: string) {
  return request(t.callback).post(`/wechat?${t.query()}`).type('text/xml').send(body);
}

/** A handler that holds every call until `gate` opens, and says when the first call entered. */
function gatedHandler(reply: (m: InboundMessage) => Reply = echoHandler) {
  const gate = deferred();
  const entered = deferred();
  return {
    gate,
    entered,
    handler: async (m: InboundMessage): Promise<Reply> => {
      entered.resolve();
      await gate.promise;
      return reply(m);
    },
  };
}

describe('dedupe', () => {
  it('should refuse to keep keys for less than 5 minutes, when built', () => {
    expect(() => dedupe({ store: createMemoryStore().dedupe, metrics: createMetrics(), ttlSeconds: 299 })).toThrow(/at least 300/);
    expect(() => createTestWebhook({ dedupeTtlSeconds: 60 })).toThrow(TypeError);
  });

  it('should run the handler once for 3 concurrent copies and give all three byte-identical replies', async () => {
    const store = createMemoryStore();
    const spy = spyDedupe(store.dedupe);
    const { gate, handler } = gatedHandler();
    const t = createTestWebhook({ store, dedupe: spy.store, handler });
    const xml = textXml({ content: 'three at once' });
    const all = Promise.all([post(t, xml), post(t, xml), post(t, xml)]);
    await hitsReached(t, 2); // all three arrived while the first is still being handled
    // The two copies wait for the first one in this process: one claim in the store.
    expect(spy.claims).toEqual([{ state: 'new' }]);
    t.clock.advance(2000); // a re-render would show in CreateTime
    gate.resolve();
    const responses = await all;
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(t.handlerCalls).toHaveLength(1);
    expect(new Set(responses.map((r) => r.text)).size).toBe(1);
    expect(parseXml(responses[0].text).Content).toBe('three at once');
    const metrics = (await request(t.callback).get('/metrics')).text;
    expect(metrics).toMatch(/^wechat_dedupe_hits_total 2$/m);
    expect(metrics).toContain('wechat_requests_total{outcome="duplicate"} 2');
    expect(metrics).toContain('wechat_requests_total{outcome="reply"} 1');
  });

  it("should give a retry waiting here the first attempt's `success` when that one misses the deadline, and run the handler once", async () => {
    const store = createMemoryStore();
    const spy = spyDedupe(store.dedupe);
    const { gate, handler } = gatedHandler();
    const t = createTestWebhook({ store, dedupe: spy.store, handler, deadlineMs: 150 });
    const xml = textXml({ content: 'slow' });
    const first = post(t, xml).then((r) => r); // supertest sends on then()
    await spy.claimsReached(1);
    const retry = await post(t, xml); // waits for the first, which is held past the deadline
    expect(retry.text).toBe('success');
    expect((await first).text).toBe('success'); // the first attempt's own deadline guard
    gate.resolve();
    await new Promise((r) => setImmediate(r));
    expect(t.handlerCalls).toHaveLength(1);
  });

  it('should give concurrent safe-mode copies envelopes of the same reply', async () => {
    const store = createMemoryStore();
    const spy = spyDedupe(store.dedupe);
    const { gate, handler } = gatedHandler();
    const t = createTestWebhook({ store, dedupe: spy.store, handler });
    const { body, encrypt } = encryptedBody(t.crypto!, textXml({ content: 'sealed thrice' }));
    const send = () =>
      request(t.callback)
        .post(`/wechat?${toQueryString(signedQuery(TEST_TOKEN, { timestamp: Math.floor(t.clock.now() / 1000), encrypt }))}`)
        .type('text/xml')
        .send(body);
    const all = Promise.all([send(), send(), send()]);
    await hitsReached(t, 2);
    gate.resolve();
    const responses = await all;
    expect(t.handlerCalls).toHaveLength(1);
    const inner = responses.map((r) => t.crypto!.decrypt((parseXml(r.text) as Record<string, string>).Encrypt).xml);
    expect(new Set(inner).size).toBe(1);
    expect(parseXml(inner[0]).Content).toBe('sealed thrice');
  });

  it('should answer a retry after completion with the stored reply, not a second run', async () => {
    const t = createTestWebhook();
    const xml = textXml({ content: 'once' });
    const first = await post(t, xml);
    t.clock.advance(5000);
    const second = await post(t, xml);
    t.clock.advance(5000);
    const third = await post(t, xml);
    expect(t.handlerCalls).toHaveLength(1);
    expect(second.text).toBe(first.text);
    expect(third.text).toBe(first.text);
  });

  it('should still answer the follower when the dedupe store is down (fail open), and emit the error', async () => {
    const down = claimFails(new Error('store unreachable'));
    const t = createTestWebhook({ dedupe: down });
    const res = await post(t, textXml({ content: 'still here' }));
    expect(res.status).toBe(200);
    expect(parseXml(res.text).Content).toBe('still here');
    expect(t.handlerCalls).toHaveLength(1);
    expect(t.errors.map((e) => (e as Error).message)).toContain('store unreachable');
  });

  it('should dedupe events by FromUserName + CreateTime + Event + EventKey', async () => {
    const t = createTestWebhook();
    const follow = subscribeXml('spring', { createTime: 1_714_000_500 });
    await post(t, follow);
    await post(t, follow);
    await post(t, subscribeXml('spring', { createTime: 1_714_000_501 }));
    await post(t, subscribeXml('spring', { createTime: 1_714_000_500, from: 'oAnotherFollower' }));
    await post(t, eventXml({ event: 'CLICK', eventKey: 'A', createTime: 1_714_000_500 }));
    await post(t, eventXml({ event: 'CLICK', eventKey: 'B', createTime: 1_714_000_500 }));
    expect(t.handlerCalls).toHaveLength(5);
  });

  it('should handle two user_get_card events with one CreateTime but different UserCardCode', async () => {
    const t = createTestWebhook();
    const card = (code: string) => eventXml({ event: 'user_get_card', createTime: 1_714_000_900, extra: { CardId: 'pCard1', UserCardCode: code, IsGiveByFriend: 0 } });
    await post(t, card('111111111111'));
    await post(t, card('222222222222'));
    await post(t, card('111111111111')); // a real retry of the first
    expect(t.handlerCalls.map((m) => (m as { UserCardCode?: string }).UserCardCode)).toEqual(['111111111111', '222222222222']);
  });

  it('should make a retry on another instance sharing the store wait for the first reply', async () => {
    const clock = fixedClock(Date.now());
    const store = createMemoryStore({ clock });
    const spy = spyDedupe(store.dedupe);
    const { gate, entered, handler } = gatedHandler();
    const a = createTestWebhook({ store, clock, handler });
    const b = createTestWebhook({ store, clock, dedupe: spy.store });
    const xml = textXml({ content: 'across instances' });
    const first = post(a, xml).then((r) => r);
    await entered.promise;
    const second = post(b, xml).then((r) => r);
    await spy.claimsReached(1);
    expect(spy.claims[0]).toEqual({ state: 'in-flight' });
    gate.resolve();
    const [ra, rb] = await Promise.all([first, second]);
    expect(ra.status).toBe(200);
    expect(rb.status).toBe(200);
    expect(rb.text).toBe(ra.text);
    expect(parseXml(rb.text).Content).toBe('across instances');
    expect(a.handlerCalls).toHaveLength(1);
    expect(b.handlerCalls).toHaveLength(0);
  });

  it('should answer `success`, emit the error and let a later retry run the handler again when the handler throws', async () => {
    let calls = 0;
    const t = createTestWebhook({
      handler: (m) => {
        calls++;
        if (calls === 1) throw new Error('rules engine exploded');
        return echoHandler(m);
      },
    });
    const xml = textXml({ content: 'second time lucky' });
    const first = await post(t, xml);
    expect(first.status).toBe(200);
    expect(first.text).toBe('success');
    expect(t.errors).toHaveLength(1);
    expect((t.errors[0] as Error).message).toBe('rules engine exploded');
    expect(t.logLines.some((l) => l.includes('webhook handler failed') && l.includes('rules engine exploded'))).toBe(true);
    const retry = await post(t, xml);
    expect(retry.status).toBe(200);
    expect(parseXml(retry.text).Content).toBe('second time lucky');
    expect(t.handlerCalls).toHaveLength(2);
    const metrics = (await request(t.callback).get('/metrics')).text;
    expect(metrics).toContain('wechat_requests_total{outcome="error"} 1');
  });

  it('should let a retry waiting on a first attempt that fails take the message over and answer it', async () => {
    const store = createMemoryStore();
    const spy = spyDedupe(store.dedupe);
    const gate = deferred();
    let calls = 0;
    const t = createTestWebhook({
      store,
      dedupe: spy.store,
      handler: async (m) => {
        calls++;
        if (calls === 1) {
          await gate.promise;
          throw new Error('first attempt failed');
        }
        return echoHandler(m);
      },
    });
    const xml = textXml({ content: 'after a failure' });
    const both = Promise.all([post(t, xml), post(t, xml)]);
    await hitsReached(t, 1);
    gate.resolve();
    const [a, b] = await both;
    // The failed attempt answers `success` (its error is emitted); the waiting retry handles it.
    expect(a.text === 'success' || b.text === 'success').toBe(true);
    const answered = [a, b].find((r) => r.text !== 'success')!;
    expect(parseXml(answered.text).Content).toBe('after a failure');
    expect(spy.writes.filter((w) => w.startsWith('release'))).toHaveLength(1);
    expect(t.handlerCalls).toHaveLength(2);
    // And later retries get that reply, without a third run.
    const later = await post(t, xml);
    expect(later.text).toBe(answered.text);
    expect(t.handlerCalls).toHaveLength(2);
  });

  it('should let the other instance take the message over when the first attempt fails there', async () => {
    const clock = fixedClock(Date.now());
    const store = createMemoryStore({ clock });
    const spy = spyDedupe(store.dedupe);
    const gate = deferred();
    const entered = deferred();
    const a = createTestWebhook({
      store,
      clock,
      handler: async () => {
        entered.resolve();
        await gate.promise;
        throw new Error('instance A failed');
      },
    });
    const b = createTestWebhook({ store, clock, dedupe: spy.store });
    const xml = textXml({ content: 'shared failure' });
    const first = post(a, xml).then((r) => r);
    await entered.promise;
    const second = post(b, xml).then((r) => r);
    await spy.claimsReached(1);
    gate.resolve();
    const [ra, rb] = await Promise.all([first, second]);
    expect(ra.text).toBe('success');
    // B saw A's claim vanish (released after the failure) and handled the message itself.
    expect(parseXml(rb.text).Content).toBe('shared failure');
    expect(b.handlerCalls).toHaveLength(1);
    const third = await post(b, xml);
    expect(third.text).toBe(rb.text);
    expect(b.handlerCalls).toHaveLength(1);
  });

  it('should still deliver the reply, and not run the handler again, when recording the reply fails', async () => {
    const store = createMemoryStore();
    const failing: DedupeStore = {
      claim: (key, ttl) => store.dedupe.claim(key, ttl),
      complete: async () => {
        throw new Error('store write failed');
      },
      peek: (key) => store.dedupe.peek(key),
      release: (key) => store.dedupe.release(key),
    };
    const t = createTestWebhook({ store, dedupe: failing, deadlineMs: 400 });
    const xml = textXml({ content: 'handled once' });
    const first = await post(t, xml);
    expect(first.status).toBe(200);
    expect(parseXml(first.text).Content).toBe('handled once');
    expect(t.errors.map((e) => (e as Error).message)).toEqual(['store write failed']);
    // The claim stays: a retry must not run the handler a second time (it gets `success` at its deadline).
    const retry = await post(t, xml);
    expect(retry.text).toBe('success');
    expect(t.handlerCalls).toHaveLength(1);
  });

  describe('when the claim cannot be made at once', () => {
    it('should answer `success` by the deadline while the claim waits, then run the handler once and deliver its reply late', async () => {
      const store = createMemoryStore();
      const lockReleased = deferred();
      const late = deferred<Reply>();
      // A claim that waits (as SQLite's does while another process holds the lock), then goes through.
      const waiting: DedupeStore = {
        claim: async (key, ttl) => {
          await lockReleased.promise;
          return store.dedupe.claim(key, ttl);
        },
        complete: (key, reply, ttl) => store.dedupe.complete(key, reply, ttl),
        peek: (key) => store.dedupe.peek(key),
        release: (key) => store.dedupe.release(key),
      };
      const t = createTestWebhook({ store, dedupe: waiting, deadlineMs: 100, onLateReply: async (_m, reply) => late.resolve(reply) });
      const xml = textXml({ content: 'during the lock' });
      const first = await post(t, xml);
      expect(first.text).toBe('success');
      // A copy arriving meanwhile waits for the first one here: it never runs beside it.
      const copy = await post(t, xml);
      expect(copy.text).toBe('success');
      expect(t.handlerCalls).toHaveLength(0);

      lockReleased.resolve();
      expect(await late.promise).toEqual({ type: 'text', content: 'during the lock' }); // however fast the handler
      expect(t.handlerCalls).toHaveLength(1);
      await new Promise((r) => setImmediate(r));
      const retry = await post(t, xml);
      expect(retry.text).toBe('success'); // the stored answer of the late run
      expect(t.handlerCalls).toHaveLength(1);
      const metrics = (await request(t.callback).get('/metrics')).text;
      // The first and its copy were answered by the deadline; the retry after the lock from the stored reply.
      expect(metrics).toContain('wechat_requests_total{outcome="deadline"} 2');
      expect(metrics).toContain('wechat_requests_total{outcome="duplicate"} 1');
    });

    it('should not run a message whose claim failed because the store stayed busy, and emit the error', async () => {
      const busy = new StoreBusyError(30_000, new Error('database is locked'));
      const locked = claimFails(busy);
      const t = createTestWebhook({ dedupe: locked });
      const res = await post(t, textXml({ content: 'locked out' }));
      expect(res.status).toBe(200);
      expect(res.text).toBe('success');
      expect(t.handlerCalls).toHaveLength(0);
      expect(t.errors).toEqual([busy]);
      const metrics = (await request(t.callback).get('/metrics')).text;
      expect(metrics).toContain('wechat_requests_total{outcome="store_busy"} 1');
    });

    it('should run a message once when the store is down and a copy arrives while it runs (fail open, one at a time)', async () => {
      const down = claimFails(new Error('store unreachable'));
      const { gate, entered, handler } = gatedHandler();
      const t = createTestWebhook({ dedupe: down, handler });
      const xml = textXml({ content: 'only once' });
      const both = Promise.all([post(t, xml), post(t, xml)]);
      await entered.promise;
      await hitsReached(t, 1);
      gate.resolve();
      const [a, b] = await both;
      expect(t.handlerCalls).toHaveLength(1);
      expect(a.text).toBe(b.text);
      expect(parseXml(a.text).Content).toBe('only once');
    });
  });

  it('should keep keys at least 5 minutes, and forget them after the TTL', async () => {
    const t = createTestWebhook();
    const xml = textXml({ content: 'remember me' });
    await post(t, xml);
    t.clock.advance(299_000);
    await post(t, xml);
    expect(t.handlerCalls).toHaveLength(1);
    t.clock.advance(302_000); // 601 s after the first: past the default 600 s TTL
    await post(t, xml);
    expect(t.handlerCalls).toHaveLength(2);
  });

  it('should not write to the store for a request refused before parsing', async () => {
    const store = createMemoryStore();
    const spy = spyDedupe(store.dedupe);
    const t = createTestWebhook({ store, dedupe: spy.store });
    await request(t.callback)
      .post(`/wechat?${toQueryString(signedQuery('BadToken'))}`)
      .type('text/xml')
      .send(textXml({ content: 'x' }));
    await post(t, '<xml><broken>');
    expect(spy.claims).toHaveLength(0);
    expect(spy.writes).toHaveLength(0);
  });
});
