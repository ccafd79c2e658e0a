/**
 * Property tests of the whole edge: whatever arrives — bytes, XML trees, query strings — the server
 * answers, with one of 200, 400, 401, 405, 413, and never emits an error (a crash of ours).
 */
import http from 'node:http';
import fc from 'fast-check';
import request from 'supertest';
import { cdata, parseXml } from '../../../src/wechat/xml';
import { signedQuery, toQueryString } from '../../helpers/signed-query';
import { createTestWebhook, TEST_TOKEN, type TestWebhook } from '../../helpers/test-webhook';

const RUNS = 200;
const ALLOWED = [200, 400, 401, 405, 413];

let t: TestWebhook;
let server: http.Server;

beforeAll(async () => {
  // A small body limit so 413 is reachable by generated bodies.
  t = createTestWebhook({ maxBodyBytes: 2048, logLevel: 'warn' });
  server = http.createServer(t.callback);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

afterEach(() => {
  expect(t.errors).toEqual([]);
  expect(t.logLines.filter((l) => (JSON.parse(l) as { level: number }).level >= 50)).toEqual([]);
});

function postSigned(body: string | Buffer) {
  return request(server).post(`/wechat?${t.query()}`).type('text/xml').send(body);
}

// === Arbitraries

const WECHAT_NAMES = [
  'xml',
  'ToUserName',
  'FromUserName',
  'CreateTime',
  'MsgType',
  'Content',
  'MsgId',
  'Event',
  'EventKey',
  'Ticket',
  'Encrypt',
  'CardId',
  'UserCardCode',
  'SendPicsInfo',
  'PicList',
  'item',
  'Latitude',
  'Recognition',
  'MsgID',
];
const elementName = fc.oneof(fc.constantFrom(...WECHAT_NAMES), fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,8}$/));
const anyText = fc.string({ unit: 'binary', maxLength: 40 });
const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
/** Text content: CDATA, escaped, or raw (raw may well break the document, which is the point). */
const leaf = fc.tuple(anyText, fc.constantFrom('cdata', 'escaped', 'raw')).map(([s, mode]) => (mode === 'cdata' ? cdata(s) : mode === 'escaped' ? escape(s) : s));

const { node } = fc.letrec<{ node: string; element: string }>((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('element')),
  element: fc
    .tuple(elementName, fc.array(tie('node'), { maxLength: 4 }), fc.boolean())
    .map(([name, children, selfClose]) => (selfClose && children.length === 0 ? `<${name}/>` : `<${name}>${children.join('')}</${name}>`)),
}));

/** An arbitrary document: any tree, or a `<xml>` root of arbitrary children. */
const xmlTree = fc.oneof(
  node,
  fc.array(node, { maxLength: 6 }).map((children) => `<xml>${children.join('')}</xml>`),
);

/** A WeChat-shaped packet with arbitrary field values, so many reach the handler and the renderer. */
const messageLike = fc
  .record({
    to: fc.oneof({ arbitrary: fc.constant('gh_account'), weight: 3 }, { arbitrary: anyText, weight: 1 }),
    from: fc.oneof({ arbitrary: fc.constant('o_follower'), weight: 3 }, { arbitrary: anyText, weight: 1 }),
    createTime: fc.oneof({ arbitrary: fc.nat().map(String), weight: 4 }, { arbitrary: anyText, weight: 1 }),
    msgType: fc.oneof(
      { arbitrary: fc.constant('text'), weight: 3 },
      { arbitrary: fc.constantFrom('image', 'event', 'voice', 'location', 'hologram', 'EVENT'), weight: 2 },
      { arbitrary: anyText, weight: 1 },
    ),
    event: fc.option(fc.oneof(fc.constantFrom('subscribe', 'CLICK', 'user_get_card', 'SCAN', 'unknown_x'), anyText)),
    content: anyText,
    msgId: fc.option(fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n }).map(String), anyText)),
    extra: fc.array(node, { maxLength: 3 }),
  })
  .map(
    (m) =>
      `<xml><ToUserName>${cdata(m.to)}</ToUserName><FromUserName>${cdata(m.from)}</FromUserName>` +
      `<CreateTime>${escape(m.createTime)}</CreateTime><MsgType>${cdata(m.msgType)}</MsgType>` +
      (m.event === null ? '' : `<Event>${cdata(m.event)}</Event>`) +
      `<Content>${cdata(m.content)}</Content>` +
      (m.msgId === null ? '' : `<MsgId>${escape(m.msgId)}</MsgId>`) +
      `${m.extra.join('')}</xml>`,
  );

const QUERY_KEYS = ['signature', 'timestamp', 'nonce', 'echostr', 'encrypt_type', 'msg_signature', 'openid'];
/** Raw query text: URL-legal characters, `%` included, so broken escapes occur. */
const rawQueryText = fc.string({
  unit: fc.constantFrom(..."abcXYZ0189-_.~!$'()*+,;=:@/?%&[]".split(''), '%0', '%ZZ', '%E4%BD', '%00', '%FF', '+'),
  maxLength: 60,
});
const queryPair = fc.tuple(fc.oneof(fc.constantFrom(...QUERY_KEYS), anyText), fc.oneof(anyText, fc.nat().map(String)));
const queryString = fc.oneof(
  rawQueryText,
  fc.array(queryPair, { maxLength: 8 }).map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')),
  // A valid signature plus arbitrary extra parameters (encrypt_type, repeated keys, …).
  fc.array(queryPair, { maxLength: 4 }).map((pairs) => {
    const signed = toQueryString(signedQuery(TEST_TOKEN, { timestamp: Math.floor(t.clock.now() / 1000) }));
    return [signed, ...pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)].join('&');
  }),
);

// === Properties

describe('the webhook under arbitrary input', () => {
  it('should answer arbitrary bytes (signed, so they reach the parser) with 200, 400 or 413', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 600 }), fc.uint8Array({ minLength: 1900, maxLength: 2300 })), async (bytes) => {
        const res = await postSigned(Buffer.from(bytes));
        expect([200, 400, 413]).toContain(res.status);
      }),
      { numRuns: RUNS },
    );
  });

  it('should answer arbitrary XML trees with 200, 400 or 413', async () => {
    await fc.assert(
      fc.asyncProperty(xmlTree, async (xml) => {
        const res = await postSigned(xml);
        expect([200, 400, 413]).toContain(res.status);
      }),
      { numRuns: RUNS },
    );
  });

  it('should answer WeChat-shaped packets with arbitrary values with 200 or 400, rendering any echo safely', async () => {
    await fc.assert(
      fc.asyncProperty(messageLike, async (xml) => {
        const res = await postSigned(xml);
        expect([200, 400, 413]).toContain(res.status);
        if (res.status === 200) expect(res.text === 'success' || res.text.startsWith('<xml>')).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('should answer arbitrary Encrypt contents with a valid msg_signature with 200, 400 or 401', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.base64String({ maxLength: 400 }),
          anyText,
          fc.uint8Array({ maxLength: 300 }).map((b) => t.crypto!.encrypt(Buffer.from(b).toString('latin1'))),
        ),
        async (encrypt) => {
          const body = `<xml><ToUserName>${cdata('gh_x')}</ToUserName><Encrypt>${cdata(encrypt)}</Encrypt></xml>`;
          const q = signedQuery(TEST_TOKEN, { timestamp: Math.floor(t.clock.now() / 1000), encrypt });
          const res = await request(server)
            .post(`/wechat?${toQueryString(q)}`)
            .type('text/xml')
            .send(body);
          // 401 stays possible: the parser trims text, so an Encrypt with edge whitespace is not what was signed.
          expect([200, 400, 401]).toContain(res.status);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('should answer arbitrary query strings on any method with 200, 400, 401, 405 or 413', async () => {
    const methods = ['get', 'post', 'put', 'delete', 'head', 'options', 'patch'] as const;
    await fc.assert(
      fc.asyncProperty(queryString, fc.constantFrom(...methods), fc.option(xmlTree), async (query, method, body) => {
        let req = request(server)[method](`/wechat?${query}`);
        if (body !== null && method !== 'get' && method !== 'head') req = req.type('text/xml').send(body);
        const res = await req;
        expect(ALLOWED).toContain(res.status);
      }),
      { numRuns: RUNS },
    );
  });

  it('should echo any text content back verbatim through the reply template (CDATA-safe)', async () => {
    const content = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 60 }),
      fc.array(fc.constantFrom(']]>', ']]', '>', '<![CDATA[', '</Content>', '<MsgType>news</MsgType>', '&amp;', 'x', ' '), { maxLength: 12 }).map((a) => a.join('')),
    );
    let n = 0;
    await fc.assert(
      fc.asyncProperty(content, async (text) => {
        n += 1;
        const before = t.handlerCalls.length;
        const xml =
          `<xml><ToUserName>${cdata('gh_a')}</ToUserName><FromUserName>${cdata('o_b')}</FromUserName><CreateTime>1</CreateTime>` +
          `<MsgType>${cdata('text')}</MsgType><Content>${cdata(text)}</Content><MsgId>${7_100_000_000 + n}</MsgId></xml>`;
        const res = await postSigned(xml);
        expect(res.status).toBe(200);
        const seen = (t.handlerCalls[before] as { Content: string }).Content;
        expect(seen).toBe(text);
        if (seen === '') expect(res.text).toContain('<Content><![CDATA[]]></Content>');
        else expect(parseXml(res.text)).toMatchObject({ MsgType: 'text', Content: seen });
      }),
      { numRuns: RUNS },
    );
  });

  it('should still answer a normal message afterwards', async () => {
    const res = await postSigned(
      `<xml><ToUserName>${cdata('gh_a')}</ToUserName><FromUserName>${cdata('o_b')}</FromUserName><CreateTime>1</CreateTime>` +
        `<MsgType>${cdata('text')}</MsgType><Content>${cdata('still here')}</Content><MsgId>424242</MsgId></xml>`,
    );
    expect(res.status).toBe(200);
    expect(res.text).toContain('still here');
  });
});
