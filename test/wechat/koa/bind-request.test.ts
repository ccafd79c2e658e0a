import request from 'supertest';
import { fixedClock } from '../../../src/lib/clock';
import type { BindingStore } from '../../../src/store/ports';
import { BINDING_SLACK_SECONDS, bindingTtlSeconds, messageDigest } from '../../../src/wechat/koa/bind-request';
import { createWebhook } from '../../../src/wechat/koa/create-webhook';
import { textXml } from '../../helpers/inbound';
import { signedQuery, toQueryString } from '../../helpers/signed-query';
import { createTestWebhook, encryptedBody, TEST_TOKEN, type TestWebhook } from '../../helpers/test-webhook';

const T0 = 1_714_000_000_000;
const NONCE = '1514711492';

function postWith(t: TestWebhook, query: Record<string, string>, body: string) {
  return request(t.callback)
    .post(`/wechat?${toQueryString(query)}`)
    .type('text/xml')
    .send(body);
}
const plainQuery = (t: TestWebhook) => signedQuery(TEST_TOKEN, { timestamp: Math.floor(t.clock.now() / 1000), nonce: NONCE });
const safeQuery = (t: TestWebhook, encrypt: string) => signedQuery(TEST_TOKEN, { timestamp: Math.floor(t.clock.now() / 1000), nonce: NONCE, encrypt });

/** A binding store whose every call fails, as an unreachable Redis would. */
const downBindings: BindingStore = {
  bind: async () => {
    throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
  },
};

describe('bindRequest', () => {
  it('should queue the binding and the claim together, and run nothing (claim released) when the binding refuses', async () => {
    const { createMemoryStore } = await import('../../../src/store/memory');
    const store = createMemoryStore();
    const events: string[] = [];
    let answer: (b: 'bound' | 'same' | 'other') => void = () => undefined;
    const slowBindings: BindingStore = {
      bind: () => {
        events.push('bind');
        return new Promise((resolve) => (answer = resolve));
      },
    };
    const dedupe = {
      ...store.dedupe,
      claim: (key: string, ttl: number) => {
        events.push('claim');
        return store.dedupe.claim(key, ttl);
      },
      release: (key: string) => {
        events.push('release');
        return store.dedupe.release(key);
      },
    };
    const t = createTestWebhook({ clock: fixedClock(T0), bindings: slowBindings, dedupe });
    const pending = postWith(t, plainQuery(t), textXml({ content: 'forged' }));
    const sent = pending.then((r) => r);
    await new Promise<void>((resolve) => {
      const wait = () => (events.length >= 2 ? resolve() : setImmediate(wait));
      wait();
    });
    // Both writes are under way before the binding answered: one group commit, not two in a row.
    expect(events).toEqual(['bind', 'claim']);
    expect(t.handlerCalls).toHaveLength(0);
    answer('other');
    const res = await sent;
    expect(res.status).toBe(403);
    expect(t.handlerCalls).toHaveLength(0);
    await new Promise((r) => setImmediate(r));
    expect(events).toEqual(['bind', 'claim', 'release']);
  });

  it('should refuse a plain request with 503 when the binding store is down, handling nothing', async () => {
    const t = createTestWebhook({ clock: fixedClock(T0), bindings: downBindings });
    const res = await postWith(t, plainQuery(t), textXml({ content: 'hi' }));
    expect(res.status).toBe(503);
    expect(t.handlerCalls).toHaveLength(0);
    expect(t.errors).toHaveLength(1);
  });

  it('should still handle an encrypted request when the binding store is down (msg_signature binds it)', async () => {
    const t = createTestWebhook({ clock: fixedClock(T0), bindings: downBindings });
    const { body, encrypt } = encryptedBody(t.crypto!, textXml({ content: 'hi' }));
    const res = await postWith(t, safeQuery(t, encrypt), body);
    expect(res.status).toBe(200);
    expect(t.handlerCalls).toHaveLength(1);
  });

  it('should treat a retry WeChat encrypted afresh under the same URL as the same message', async () => {
    const t = createTestWebhook({ clock: fixedClock(T0) });
    const xml = textXml({ content: 'once' });
    const first = encryptedBody(t.crypto!, xml);
    const again = encryptedBody(t.crypto!, xml); // new random prefix: another Encrypt, another msg_signature
    expect(again.encrypt).not.toBe(first.encrypt);
    const a = await postWith(t, safeQuery(t, first.encrypt), first.body);
    const b = await postWith(t, safeQuery(t, again.encrypt), again.body);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(t.handlerCalls).toHaveLength(1);
  });

  it('should refuse another encrypted message under the same URL', async () => {
    const t = createTestWebhook({ clock: fixedClock(T0) });
    const first = encryptedBody(t.crypto!, textXml({ content: 'one' }));
    const other = encryptedBody(t.crypto!, textXml({ content: 'two' }));
    expect((await postWith(t, safeQuery(t, first.encrypt), first.body)).status).toBe(200);
    expect((await postWith(t, safeQuery(t, other.encrypt), other.body)).status).toBe(403);
    expect(t.handlerCalls).toHaveLength(1);
  });

  it('should read only the decrypted fields in compatible mode: a changed plain FromUserName beside a valid Encrypt changes nothing', async () => {
    const t = createTestWebhook({ clock: fixedClock(T0) });
    const genuine = textXml({ from: 'oGenuine', content: 'hi' });
    const { body, encrypt } = encryptedBody(t.crypto!, genuine, { compatible: true });
    const forged = body.replace('oGenuine', 'oAttacker').replace('<Content><![CDATA[hi]]>', '<Content><![CDATA[pay me]]>');
    expect(forged).toContain('oAttacker');
    const res = await postWith(t, safeQuery(t, encrypt), forged);
    expect(res.status).toBe(200);
    expect(t.handlerCalls).toHaveLength(1);
    expect(t.handlerCalls[0]).toMatchObject({ FromUserName: 'oGenuine', Content: 'hi' });
  });

  it('should fail at build time without a binding store', () => {
    const t = createTestWebhook();
    expect(() => createWebhook({ token: TEST_TOKEN, renderer: t.renderer, handler: () => ({ type: 'none' }), dedupe: t.store.dedupe, log: t.log } as never)).toThrow(
      'bindRequest: store must be a BindingStore',
    );
  });
});

describe('bindingTtlSeconds', () => {
  it.each([
    ['a timestamp of now', 1000, 1000, 300, 300 + BINDING_SLACK_SECONDS],
    ['a timestamp at the future edge', 1300, 1000, 300, 600 + BINDING_SLACK_SECONDS],
    ['a timestamp at the past edge', 700, 1000, 300, BINDING_SLACK_SECONDS],
  ])('should keep the binding until the timestamp leaves the window, for %s', (_what, ts, nowSeconds, window, expected) => {
    expect(bindingTtlSeconds(ts, nowSeconds * 1000 + 999, window)).toBe(expected);
  });
});

describe('messageDigest', () => {
  it('should be the SHA-256 of the mode and the message, so a plain copy of an encrypted message differs', () => {
    expect(messageDigest(false, '<xml/>')).toMatch(/^[0-9a-f]{64}$/);
    expect(messageDigest(false, '<xml/>')).toBe(messageDigest(false, '<xml/>'));
    expect(messageDigest(true, '<xml/>')).not.toBe(messageDigest(false, '<xml/>'));
    expect(messageDigest(false, '<xml>a</xml>')).not.toBe(messageDigest(false, '<xml>b</xml>'));
  });
});

describe('requireSafeMode', () => {
  it('should refuse plain requests with 403 and handle encrypted (compatible-mode) ones', async () => {
    const t = createTestWebhook({ clock: fixedClock(T0), safeModeOnly: true });
    const plain = await postWith(t, plainQuery(t), textXml({ content: 'hi' }));
    expect(plain.status).toBe(403);
    const { body, encrypt } = encryptedBody(t.crypto!, textXml({ content: 'hi' }), { compatible: true });
    const safe = await postWith(t, safeQuery(t, encrypt), body);
    expect(safe.status).toBe(200);
    expect(t.handlerCalls).toHaveLength(1);
  });

  it('should refuse to build without crypto', () => {
    expect(() => createTestWebhook({ crypto: null, safeModeOnly: true })).toThrow('safeModeOnly needs crypto');
  });
});

describe('bindRequest under safeModeOnly', () => {
  it('should not be mounted: msg_signature binds an encrypted request already (the store is never asked)', async () => {
    let asked = 0;
    const counting: BindingStore = {
      bind: async () => {
        asked++;
        return 'bound';
      },
    };
    const t = createTestWebhook({ clock: fixedClock(T0), safeModeOnly: true, bindings: counting });
    const { body, encrypt } = encryptedBody(t.crypto!, textXml({ content: 'hi' }));
    expect((await postWith(t, safeQuery(t, encrypt), body)).status).toBe(200);
    // Another Encrypt under the same URL fails msg_signature; a plain body is refused by the mode.
    const other = encryptedBody(t.crypto!, textXml({ content: 'pay me' }));
    expect((await postWith(t, safeQuery(t, encrypt), other.body)).status).toBe(401);
    expect((await postWith(t, plainQuery(t), textXml({ content: 'pay me' }))).status).toBe(403);
    expect(asked).toBe(0);
    expect(t.handlerCalls).toHaveLength(1);
  });
});
