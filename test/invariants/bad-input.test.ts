/**
 * Design invariant 4, at the edge: bad input (bad signature, stale or forged requests, malformed,
 * hostile or oversized XML, wrong method) gets a clear error and changes nothing — the handler is not
 * called and the store is not touched — and a later good copy of the same message is handled as new.
 * Unknown message types are not errors: they answer `success`, reach the handler only as the `unknown`
 * variant, and touch nothing but their own de-duplication record.
 */
import request from 'supertest';
import { createMessageCrypto } from '../../src/wechat/crypto';
import { createMemoryStore } from '../../src/store/memory';
import type { Store } from '../../src/store/ports';
import { computeSignature } from '../../src/wechat/signature';
import { eventXml, textXml } from '../helpers/inbound';
import { signedQuery, toQueryString } from '../helpers/signed-query';
import { createTestWebhook, encryptedBody, TEST_AES_KEY, TEST_TOKEN, type TestWebhook } from '../helpers/test-webhook';

/** A memory store whose every port method call is recorded (`dedupe.claim gh_…`, `kv.set …`). */
function recordingStore(): { store: Store; calls: string[] } {
  const inner = createMemoryStore();
  const calls: string[] = [];
  const wrap = <T extends object>(port: T, name: string): T =>
    new Proxy(port, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls.push(`${name}.${String(prop)} ${String(args[0])}`);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  return {
    calls,
    store: { ...inner, kv: wrap(inner.kv, 'kv'), dedupe: wrap(inner.dedupe, 'dedupe'), counters: wrap(inner.counters, 'counters') },
  };
}

interface BadCase {
  name: string;
  status: number;
  /** Sends the bad request for the good message `xml`. */
  send(t: TestWebhook, xml: string): PromiseLike<request.Response>;
}

const now = (t: TestWebhook) => Math.floor(t.clock.now() / 1000);
const postTo = (t: TestWebhook, query: string, body: string | Buffer) => request(t.callback).post(`/wechat?${query}`).type('text/xml').send(body);

const BAD: BadCase[] = [
  { name: 'a bad signature', status: 401, send: (t, xml) => postTo(t, toQueryString(signedQuery('WrongToken', { timestamp: now(t) })), xml) },
  { name: 'no signature at all', status: 401, send: (t, xml) => postTo(t, '', xml) },
  { name: 'a stale timestamp (replay)', status: 401, send: (t, xml) => postTo(t, t.query({ timestamp: now(t) - 3600 }), xml) },
  { name: 'a future timestamp', status: 401, send: (t, xml) => postTo(t, t.query({ timestamp: now(t) + 3600 }), xml) },
  {
    name: 'a wrong msg_signature (safe mode)',
    status: 401,
    send: (t, xml) => {
      const { body, encrypt } = encryptedBody(t.crypto!, xml);
      const q = { ...signedQuery(TEST_TOKEN, { timestamp: now(t), encrypt }), msg_signature: computeSignature('x', encrypt) };
      return postTo(t, toQueryString(q), body);
    },
  },
  {
    name: 'a foreign AppId (safe mode)',
    status: 400,
    send: (t, xml) => {
      const { body, encrypt } = encryptedBody(createMessageCrypto({ encodingAESKey: TEST_AES_KEY, appId: 'wxforeign00000000' }), xml);
      return postTo(t, toQueryString(signedQuery(TEST_TOKEN, { timestamp: now(t), encrypt })), body);
    },
  },
  { name: 'malformed XML (truncated)', status: 400, send: (t, xml) => postTo(t, t.query(), xml.slice(0, xml.length - 8)) },
  {
    name: 'a DOCTYPE with entities',
    status: 400,
    send: (t, xml) => postTo(t, t.query(), `<!DOCTYPE xml [<!ENTITY e "boom">]>${xml.replace('</xml>', '<X>&e;</X></xml>')}`),
  },
  { name: 'an undefined entity', status: 400, send: (t, xml) => postTo(t, t.query(), xml.replace('</xml>', '<X>&ghost;</X></xml>')) },
  { name: 'a missing FromUserName', status: 400, send: (t, xml) => postTo(t, t.query(), xml.replace(/<FromUserName>.*?<\/FromUserName>/, '')) },
  {
    name: 'an oversized body (Content-Length)',
    status: 413,
    send: (t, xml) => postTo(t, t.query(), xml.replace('</xml>', `<Pad>${'p'.repeat(70 * 1024)}</Pad></xml>`)),
  },
  { name: 'an empty body', status: 400, send: (t) => postTo(t, t.query(), '') },
  { name: 'a PUT', status: 405, send: (t, xml) => request(t.callback).put(`/wechat?${t.query()}`).type('text/xml').send(xml) },
  { name: 'a DELETE', status: 405, send: (t) => request(t.callback).delete(`/wechat?${t.query()}`) },
];

describe('invariant 4 at the edge: bad input changes nothing', () => {
  it.each(BAD.map((c) => [c.name, c] as const))('should refuse %s clearly, touch nothing, and handle a good copy afterwards', async (_name, c) => {
    const { store, calls } = recordingStore();
    const t = createTestWebhook({ store });
    const xml = textXml({ content: `good copy after ${c.name}` });

    const res = await c.send(t, xml);
    expect(res.status).toBe(c.status);
    // A clear, short answer: the 401s say nothing more; the others name the problem.
    if (c.status === 401) expect(res.text).toBe('Unauthorized');
    else expect(res.text).toMatch(/^[a-z][\w ,:()'/.-]{5,200}$/i);
    expect(t.handlerCalls).toHaveLength(0);
    expect(calls).toEqual([]);
    expect(t.errors).toEqual([]);
    expect(t.logLines.filter((l) => (JSON.parse(l) as { level: number }).level >= 50)).toEqual([]);

    // The refused copy claimed nothing: the real message is handled as new.
    const good = await postTo(t, t.query(), xml);
    expect(good.status).toBe(200);
    expect(good.text).toContain(`good copy after ${c.name}`);
    expect(t.handlerCalls).toHaveLength(1);
  });

  it('should touch nothing for a burst of every kind of bad input', async () => {
    const { store, calls } = recordingStore();
    const t = createTestWebhook({ store });
    for (const c of BAD) await c.send(t, textXml({ content: 'burst' }));
    expect(t.handlerCalls).toHaveLength(0);
    expect(calls).toEqual([]);
    const metrics = (await request(t.callback).get('/metrics')).text;
    expect(metrics).not.toMatch(/outcome="(reply|empty|duplicate|error)"/);
  });

  it.each([
    ['an unknown MsgType', textXml({ content: 'x' }).replace('<![CDATA[text]]></MsgType>', '<![CDATA[hologram]]></MsgType>'), { MsgType: 'unknown' }],
    ['an unknown Event', eventXml({ event: 'quantum_entangle', eventKey: 'k' }), { MsgType: 'event', Event: 'unknown' }],
  ])('should answer %s with `success`, pass it on only as the unknown variant, and touch only its dedupe record', async (_name, xml, variant) => {
    const { store, calls } = recordingStore();
    const t = createTestWebhook({ store });
    const res = await postTo(t, t.query(), xml);
    expect(res.status).toBe(200);
    expect(res.text).toBe('success');
    expect(t.handlerCalls).toEqual([expect.objectContaining(variant)]);
    expect(calls.map((c) => c.split(' ')[0])).toEqual(['dedupe.claim', 'dedupe.complete']);
    expect(t.errors).toEqual([]);
    // A retry of it is answered from that record, not handled again.
    await postTo(t, t.query(), xml);
    expect(t.handlerCalls).toHaveLength(1);
  });
});
