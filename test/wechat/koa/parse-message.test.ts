import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import request from 'supertest';
import { fixedClock } from '../../../src/lib/clock';
import type { Reply } from '../../../src/reply/reply';
import { createMessageCrypto } from '../../../src/wechat/crypto';
import type { InboundMessage } from '../../../src/wechat/inbound';
import { parseInboundXml } from '../../../src/wechat/parse-inbound';
import { parseXml } from '../../../src/wechat/xml';
import { DEFAULT_FROM, DEFAULT_TO, eventXml, textXml } from '../../helpers/inbound';
import { signedQuery, toQueryString } from '../../helpers/signed-query';
import { createTestWebhook, encryptedBody, type TestWebhook } from '../../helpers/test-webhook';

const fixturesDir = join(__dirname, '..', '..', 'fixtures', 'inbound');
const vectors: { id: string; expect: Record<string, string> }[] = JSON.parse(
  readFileSync(join(__dirname, '..', '..', 'fixtures', 'vectors', 'inbound-xml.json'), 'utf8'),
);
const aesVectors: { id: string; token: string; encoding_aes_key: string; appid: string; timestamp: string; nonce: string; msg_signature: string }[] = JSON.parse(
  readFileSync(join(__dirname, '..', '..', 'fixtures', 'vectors', 'aes-crypto.json'), 'utf8'),
);

/** The typed variant each fixture must reach the handler as: `[MsgType, Event?]`. */
const VARIANT: Record<string, [string, string?]> = {
  ...Object.fromEntries(vectors.filter((v) => v.expect.MsgType).map((v) => [v.id, [v.expect.MsgType, v.expect.Event]])),
  'unknown-msgtype': ['unknown'],
  'unknown-event': ['event', 'unknown'],
  'subscribe-qrscene': ['event', 'subscribe'],
  'event-click-lowercase': ['event', 'CLICK'],
  'event-pic_photo_or_album-multiple': ['event', 'pic_photo_or_album'],
  miniprogrampage: ['miniprogrampage'],
  'text-from-article': ['text'],
};

const fixtureIds = readdirSync(fixturesDir)
  .filter((f) => f.endsWith('.xml') && f !== 'safe-mode-envelope.xml')
  .map((f) => f.slice(0, -4));

function post(t: TestWebhook, body: string | Buffer) {
  return request(t.callback).post(`/wechat?${t.query()}`).type('text/xml').send(body);
}

describe('parseMessage', () => {
  it('should know the variant of every fixture', () => {
    expect(fixtureIds.filter((id) => !VARIANT[id])).toEqual([]);
    expect(fixtureIds.length).toBeGreaterThanOrEqual(44);
  });

  describe.each(fixtureIds)('fixture %s', (id) => {
    it('should go through the whole edge with 200 and reach the handler as its typed variant', async () => {
      const t = createTestWebhook();
      const xml = readFileSync(join(fixturesDir, `${id}.xml`), 'utf8');
      const res = await post(t, xml);
      expect(res.status).toBe(200);
      expect(t.handlerCalls).toHaveLength(1);
      const m = t.handlerCalls[0] as InboundMessage & { Event?: string };
      const [msgType, event] = VARIANT[id];
      expect(m.MsgType).toBe(msgType);
      if (event !== undefined) expect(m.Event).toBe(event);
      // Parsed once, at the edge, exactly as the protocol layer parses it.
      expect(m).toEqual(parseInboundXml(xml));
      if (msgType === 'text') expect(parseXml(res.text).Content).toBe((m as { Content: string }).Content);
      else expect(res.text).toBe('success');
      expect(t.errors).toEqual([]);
    });
  });

  it('should take the official safe-mode envelope fixture through safe mode', async () => {
    const v = aesVectors.find((x) => x.id === 'official-wxbizmsgcrypt-decrypt')!;
    const t = createTestWebhook({
      token: v.token,
      crypto: createMessageCrypto({ encodingAESKey: v.encoding_aes_key, appId: v.appid }),
      clock: fixedClock(Number(v.timestamp) * 1000),
    });
    const q = { ...signedQuery(v.token, { timestamp: Number(v.timestamp), nonce: v.nonce }), encrypt_type: 'aes', msg_signature: v.msg_signature };
    const res = await request(t.callback)
      .post(`/wechat?${toQueryString(q)}`)
      .type('text/xml')
      .send(readFileSync(join(fixturesDir, 'safe-mode-envelope.xml'), 'utf8'));
    expect(res.status).toBe(200);
    expect(t.handlerCalls).toEqual([expect.objectContaining({ MsgType: 'text', Content: 'abcdteT' })]);
  });

  it('should keep a 64-bit MsgId exact', async () => {
    const t = createTestWebhook();
    await post(t, textXml({ content: 'big', msgId: '18446744073709551615' }));
    expect(t.handlerCalls[0]).toMatchObject({ MsgId: '18446744073709551615' });
  });

  it('should decode the five built-in entities and numeric references in plain text', async () => {
    const t = createTestWebhook();
    const xml = textXml({ content: 'PLACEHOLDER' }).replace('<![CDATA[PLACEHOLDER]]>', 'a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; &#20320;&#x597D;');
    const res = await post(t, xml);
    expect(res.status).toBe(200);
    expect(t.handlerCalls[0]).toMatchObject({ Content: `a <b> & "c" 'd' 你好` });
  });

  describe('unknown types', () => {
    it('should answer `success` to an unknown MsgType, passing the unknown variant on', async () => {
      const t = createTestWebhook();
      const xml = textXml({ content: 'x' }).replace('<MsgType><![CDATA[text]]></MsgType>', '<MsgType><![CDATA[hologram]]></MsgType>');
      const res = await post(t, xml);
      expect(res.status).toBe(200);
      expect(res.text).toBe('success');
      expect(t.handlerCalls[0]).toMatchObject({ MsgType: 'unknown', RawMsgType: 'hologram' });
      expect(t.errors).toEqual([]);
    });

    it('should answer `success` to an unknown Event', async () => {
      const t = createTestWebhook();
      const res = await post(t, eventXml({ event: 'brand_new_event', extra: { Foo: 'bar' } }));
      expect(res.status).toBe(200);
      expect(res.text).toBe('success');
      expect(t.handlerCalls[0]).toMatchObject({ MsgType: 'event', Event: 'unknown', RawEvent: 'brand_new_event' });
    });

    it('should render the handler’s reply to an unknown type', async () => {
      const handler = (m: InboundMessage): Reply =>
        m.MsgType === 'unknown' || (m.MsgType === 'event' && m.Event === 'unknown') ? { type: 'text', content: 'not understood' } : { type: 'none' };
      const t = createTestWebhook({ handler });
      const res = await post(t, eventXml({ event: 'brand_new_event' }));
      expect(res.status).toBe(200);
      expect(parseXml(res.text)).toMatchObject({ ToUserName: DEFAULT_FROM, FromUserName: DEFAULT_TO, MsgType: 'text', Content: 'not understood' });
    });

    it('should answer `success` to an event with no Event at all', async () => {
      const t = createTestWebhook();
      const xml = eventXml({ event: 'x' }).replace(/<Event>.*?<\/Event>/, '');
      const res = await post(t, xml);
      expect(res.status).toBe(200);
      expect(res.text).toBe('success');
    });
  });

  describe('bad input', () => {
    const malformed: [string, string][] = [
      ['not XML at all', 'hello world'],
      ['an unclosed element', '<xml><ToUserName>gh</xml>'],
      ['mismatched tags', '<xml><a></b></xml>'],
      ['two roots', '<xml></xml><xml></xml>'],
      ['text after the root', '<xml><a>1</a></xml>trailing'],
      ['an unterminated CDATA', '<xml><Content><![CDATA[abc</Content></xml>'],
      ['an undefined entity', '<xml><Content>&nbsp;</Content></xml>'],
      ['only a declaration', '<?xml version="1.0"?>'],
      ['JSON', '{"ToUserName":"gh","MsgType":"text"}'],
      ['a NUL byte', '<xml>\u0000</xml>'],
    ];
    it.each(malformed)('should answer 400 to %s', async (_label, body) => {
      const t = createTestWebhook();
      const res = await post(t, body);
      expect(res.status).toBe(400);
      expect(t.handlerCalls).toHaveLength(0);
    });

    const hostile: [string, string][] = [
      [
        'a billion-laughs DOCTYPE',
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
          '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName>' +
          '<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&lol3;</Content><MsgId>1</MsgId></xml>',
      ],
      [
        'an external entity (XXE)',
        '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName>' +
          '<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&xxe;</Content><MsgId>2</MsgId></xml>',
      ],
      ['a lowercase doctype', '<!doctype xml><xml><a>1</a></xml>'],
      ['a deep nesting bomb', `<xml>${'<a>'.repeat(5000)}x${'</a>'.repeat(5000)}</xml>`],
      ['an element flood', `<xml>${'<a/>'.repeat(10_000)}</xml>`],
    ];
    it.each(hostile)('should answer 400 to %s, refused before the XML library sees it', async (_label, body) => {
      const t = createTestWebhook();
      // Refused by the linear pre-scan (DOCTYPE, element count), so no entity is expanded and no
      // nesting is walked: neither the validator nor the parser of fast-xml-parser is called.
      const validate = jest.spyOn(XMLValidator, 'validate');
      const parse = jest.spyOn(XMLParser.prototype, 'parse');
      try {
        const res = await post(t, body);
        expect(res.status).toBe(400);
        expect(validate).not.toHaveBeenCalled();
        expect(parse).not.toHaveBeenCalled();
        expect(t.handlerCalls).toHaveLength(0);
        expect(res.text).not.toMatch(/root:|passwd/);
      } finally {
        validate.mockRestore();
        parse.mockRestore();
      }
    });

    it.each([
      ['no ToUserName', (x: string) => x.replace(/<ToUserName>.*?<\/ToUserName>/, '')],
      ['no FromUserName', (x: string) => x.replace(/<FromUserName>.*?<\/FromUserName>/, '')],
      ['no MsgType', (x: string) => x.replace(/<MsgType>.*?<\/MsgType>/, '')],
      ['a non-numeric CreateTime', (x: string) => x.replace(/<CreateTime>\d+<\/CreateTime>/, '<CreateTime>soon</CreateTime>')],
      ['an element where text belongs', (x: string) => x.replace(/<Content>.*?<\/Content>/, '<Content><b>1</b></Content>')],
    ])('should answer 400 to a well-formed packet with %s', async (_label, edit) => {
      const t = createTestWebhook();
      const res = await post(t, edit(textXml({ content: 'x' })));
      expect(res.status).toBe(400);
      expect(t.handlerCalls).toHaveLength(0);
    });
  });

  describe('CDATA injection', () => {
    const payloads = [
      'a]]>b',
      ']]>',
      ']]]]><![CDATA[>',
      '</Content><MsgType><![CDATA[news]]></MsgType><Content>',
      'x]]></Content><MsgType>music</MsgType><Content><![CDATA[y',
      '<![CDATA[nested]]>',
      '&lt;not decoded twice&gt; & < > " \'',
    ];

    it.each(payloads)('should round-trip %p through the reply without changing its structure', async (content) => {
      const t = createTestWebhook();
      const res = await post(t, textXml({ content }));
      expect(res.status).toBe(200);
      expect(t.handlerCalls[0]).toMatchObject({ Content: content });
      const reply = parseXml(res.text);
      expect(Object.keys(reply).sort()).toEqual(['Content', 'CreateTime', 'FromUserName', 'MsgType', 'ToUserName']);
      expect(reply.MsgType).toBe('text');
      expect(reply.Content).toBe(content);
    });

    it('should round-trip an injection attempt through safe mode too', async () => {
      const t = createTestWebhook();
      const content = '</Content><MsgType><![CDATA[news]]></MsgType>]]>';
      const { body, encrypt } = encryptedBody(t.crypto!, textXml({ content }));
      const q = signedQuery('EdgeTestToken7q2Zr', { timestamp: Math.floor(t.clock.now() / 1000), encrypt });
      const res = await request(t.callback)
        .post(`/wechat?${toQueryString(q)}`)
        .type('text/xml')
        .send(body);
      expect(res.status).toBe(200);
      const env = parseXml(res.text) as Record<string, string>;
      const reply = parseXml(t.crypto!.decrypt(env.Encrypt).xml);
      expect(reply.Content).toBe(content);
      expect(reply.MsgType).toBe('text');
    });
  });
});
