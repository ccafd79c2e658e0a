import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { createReplyRenderer, type ReplyHeader } from '../../src/reply/render-reply';
import { MAX_NEWS_ARTICLES, type Reply } from '../../src/reply/reply';
import { parseXml } from '../../src/wechat/xml';

interface PassiveVector {
  id: string;
  input?: {
    to: string;
    from: string;
    createTime: number;
    content?: string;
    mediaId?: string;
    title?: string;
    description?: string;
    thumbMediaId?: string;
    musicUrl?: string;
    hqMusicUrl?: string;
    kfAccount?: string;
    articles?: { title: string; description?: string; picUrl?: string; url?: string }[];
  };
  expected_xml?: string;
  expected_body_options?: string[];
}
interface AesVector {
  id: string;
  timestamp?: string;
  nonce?: string;
  expected?: { encrypt?: string; msg_signature?: string; envelope_xml?: string };
}

const VIEWS = join(__dirname, '..', '..', 'views');
const vectorsDir = join(__dirname, '..', 'fixtures', 'vectors');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a JSON fixture, read as data
const passive = require(join(vectorsDir, 'passive-reply-xml.json')) as PassiveVector[];
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a JSON fixture, read as data
const aes = require(join(vectorsDir, 'aes-crypto.json')) as AesVector[];

const renderer = createReplyRenderer({ viewsDir: VIEWS });
const header: ReplyHeader = { toUserName: 'oFollower123', fromUserName: 'gh_ouraccount', createTime: 1714000000 };

/** The Reply value a passive vector describes, by its MsgType. */
function replyOf(v: PassiveVector): Reply {
  const input = v.input as NonNullable<PassiveVector['input']>;
  const msgType = /<MsgType><!\[CDATA\[(\w+)\]\]><\/MsgType>/.exec(v.expected_xml as string)?.[1];
  switch (msgType) {
    case 'text':
      return { type: 'text', content: input.content as string };
    case 'image':
      return { type: 'image', mediaId: input.mediaId as string };
    case 'voice':
      return { type: 'voice', mediaId: input.mediaId as string };
    case 'video':
      return { type: 'video', mediaId: input.mediaId as string, title: input.title, description: input.description };
    case 'music':
      return {
        type: 'music',
        title: input.title,
        description: input.description,
        musicUrl: input.musicUrl,
        hqMusicUrl: input.hqMusicUrl,
        thumbMediaId: input.thumbMediaId as string,
      };
    case 'news':
      return { type: 'news', articles: input.articles ?? [] };
    case 'transfer_customer_service':
      return { type: 'transfer_customer_service', kfAccount: input.kfAccount };
    default:
      throw new Error(`vector ${v.id}: unknown MsgType ${String(msgType)}`);
  }
}

const SAMPLES: [string, Reply][] = [
  ['text', { type: 'text', content: '你好 👋\nline two' }],
  ['image', { type: 'image', mediaId: 'MEDIA_ID_IMAGE' }],
  ['voice', { type: 'voice', mediaId: 'MEDIA_ID_VOICE' }],
  ['video (full)', { type: 'video', mediaId: 'MEDIA_ID_VIDEO', title: '标题', description: 'desc' }],
  ['video (media only)', { type: 'video', mediaId: 'MEDIA_ID_VIDEO' }],
  ['music (full)', { type: 'music', title: 'Song', description: 'Desc', musicUrl: 'http://m/a.mp3', hqMusicUrl: 'http://m/a-hq.mp3', thumbMediaId: 'THUMB' }],
  ['music (thumb only)', { type: 'music', thumbMediaId: 'THUMB' }],
  ['news (full)', { type: 'news', articles: [{ title: 'T', description: 'D', picUrl: 'http://p/1.jpg', url: 'http://u/1' }] }],
  ['news (title only)', { type: 'news', articles: [{ title: 'T' }] }],
  ['transfer_customer_service', { type: 'transfer_customer_service' }],
  ['transfer_customer_service (to an agent)', { type: 'transfer_customer_service', kfAccount: 'test1@test' }],
];

describe('createReplyRenderer', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'views-'));
    cpSync(VIEWS, dir, { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('should throw an error naming a missing template', () => {
    unlinkSync(join(dir, 'music.xml.ejs'));
    expect(() => createReplyRenderer({ viewsDir: dir })).toThrow(/music\.xml\.ejs cannot be read \(ENOENT\)/);
  });

  it('should throw an error naming a template that does not compile', () => {
    writeFileSync(join(dir, 'voice.xml.ejs'), '<xml><% if ( %></xml>');
    expect(() => createReplyRenderer({ viewsDir: dir })).toThrow(/voice\.xml\.ejs does not compile/);
  });

  it('should read every template once, at construction, and never at render time', () => {
    const local = createReplyRenderer({ viewsDir: dir });
    rmSync(dir, { recursive: true, force: true });
    for (const [, reply] of SAMPLES) expect(local.render(reply, header)).toMatch(/^<xml>/);
    expect(local.renderEnvelope({ encrypt: 'QUJD', msgSignature: 'a'.repeat(40), timeStamp: 1, nonce: '1' })).toMatch(/^<xml>/);
  });

  it('should validate its options', () => {
    expect(() => createReplyRenderer({ viewsDir: '' })).toThrow(/viewsDir/);
    expect(() => createReplyRenderer(undefined as unknown as { viewsDir: string })).toThrow(/viewsDir/);
  });
});

describe('ReplyRenderer.render', () => {
  it.each(SAMPLES)('should render %s as the snapshot', (_name, reply) => {
    expect(renderer.render(reply, header)).toMatchSnapshot();
  });

  it('should render the literal success for no reply', () => {
    expect(renderer.render({ type: 'none' }, header)).toBe('success');
    const noReply = passive.find((v) => v.id === 'no-reply') as PassiveVector;
    expect(noReply.expected_body_options).toContain(renderer.render({ type: 'none' }, header));
  });

  const xmlVectors = passive.filter((v) => v.expected_xml !== undefined);

  it.each(xmlVectors.map((v) => [v.id, v] as const))('should match the fields of vector %s', (_id, v) => {
    const input = v.input as NonNullable<PassiveVector['input']>;
    const rendered = renderer.render(replyOf(v), { toUserName: input.to, fromUserName: input.from, createTime: input.createTime });
    const expected = parseXml(v.expected_xml as string);
    if (Array.isArray(input.articles) && input.articles.length > MAX_NEWS_ARTICLES) {
      // Only MAX_NEWS_ARTICLES survive; the rest of the packet is as the vector says.
      const items = (expected.Articles as { item: unknown[] }).item.slice(0, MAX_NEWS_ARTICLES);
      expected.ArticleCount = String(items.length);
      expected.Articles = { item: items.length === 1 ? items[0] : items };
    }
    expect(parseXml(rendered)).toEqual(expected);
  });

  it.each(['text', 'image', 'voice', 'video', 'transfer_customer_service', 'transfer_customer_service-to-account'])('should reproduce vector %s byte for byte', (id) => {
    const v = passive.find((x) => x.id === id) as PassiveVector;
    const input = v.input as NonNullable<PassiveVector['input']>;
    expect(renderer.render(replyOf(v), { toUserName: input.to, fromUserName: input.from, createTime: input.createTime })).toBe(v.expected_xml);
  });

  it('should put the follower in ToUserName and our account in FromUserName, with CreateTime in seconds', () => {
    expect(parseXml(renderer.render({ type: 'text', content: 'x' }, header))).toMatchObject({
      ToUserName: 'oFollower123',
      FromUserName: 'gh_ouraccount',
      CreateTime: '1714000000',
    });
  });

  it('should refuse a CreateTime in milliseconds or not a whole number', () => {
    expect(() => renderer.render({ type: 'text', content: 'x' }, { ...header, createTime: 1714000000000 })).toThrow(/seconds/);
    expect(() => renderer.render({ type: 'text', content: 'x' }, { ...header, createTime: 1.5 })).toThrow(/seconds/);
    expect(() => renderer.render({ type: 'text', content: 'x' }, { ...header, createTime: -1 })).toThrow(/seconds/);
  });

  it('should refuse a missing header', () => {
    expect(() => renderer.render({ type: 'text', content: 'x' }, { ...header, toUserName: '' })).toThrow(/toUserName/);
    expect(() => renderer.render({ type: 'text', content: 'x' }, undefined as unknown as ReplyHeader)).toThrow(/header/);
  });

  it(`should keep at most ${MAX_NEWS_ARTICLES} news article(s) and count what it keeps`, () => {
    const articles = Array.from({ length: 12 }, (_, i) => ({ title: `T${i}`, url: `http://u/${i}` }));
    const parsed = parseXml(renderer.render({ type: 'news', articles }, header));
    const items = (parsed.Articles as { item: unknown }).item;
    const list = Array.isArray(items) ? items : [items];
    expect(list).toHaveLength(MAX_NEWS_ARTICLES);
    expect(parsed.ArticleCount).toBe(String(MAX_NEWS_ARTICLES));
    expect(list[0]).toEqual({ Title: 'T0', Url: 'http://u/0' });
  });

  it('should treat an empty news list as a programming error', () => {
    expect(() => renderer.render({ type: 'news', articles: [] }, header)).toThrow(/at least one article/);
  });

  it('should not let a polluted Object.prototype into any view', () => {
    const before = SAMPLES.map(([, reply]) => renderer.render(reply, header));
    const envelope = { encrypt: 'abc', msgSignature: 'a'.repeat(40), timeStamp: 1714036504, nonce: '1' };
    const envelopeBefore = renderer.renderEnvelope(envelope);
    const proto = Object.prototype as Record<string, unknown>;
    const names = ['cdata', 'head', 'header', 'msgType', 'reply', 'articles', 'envelope'];
    try {
      for (const n of names) proto[n] = n === 'cdata' || n === 'head' ? () => 'POLLUTED' : 'POLLUTED';
      expect(SAMPLES.map(([, reply]) => renderer.render(reply, header))).toEqual(before);
      expect(renderer.renderEnvelope(envelope)).toBe(envelopeBefore);
    } finally {
      for (const n of names) delete proto[n];
    }
  });

  it('should refuse an unknown reply type', () => {
    expect(() => renderer.render({ type: 'sticker' } as unknown as Reply, header)).toThrow(/unknown reply type/);
  });

  describe('CDATA injection', () => {
    const evil = [
      ']]>',
      '<xml>',
      '</Content><MsgType><![CDATA[news]]></MsgType><Content>',
      ']]></Content><MsgType>news</MsgType><Content><![CDATA[',
      '<!DOCTYPE x [<!ENTITY e "e">]>&e;',
      '&lt;&amp;',
    ];

    it.each(evil)('should carry %j in text content unchanged, without adding elements', (content) => {
      const parsed = parseXml(renderer.render({ type: 'text', content }, header));
      expect(parsed).toEqual({ ToUserName: 'oFollower123', FromUserName: 'gh_ouraccount', CreateTime: '1714000000', MsgType: 'text', Content: content });
    });

    it('should escape every user-influenced field of every reply type', () => {
      const x = ']]></x><MsgType>evil</MsgType><![CDATA[';
      const replies: Reply[] = [
        { type: 'image', mediaId: x },
        { type: 'voice', mediaId: x },
        { type: 'video', mediaId: x, title: x, description: x },
        { type: 'music', title: x, description: x, musicUrl: x, hqMusicUrl: x, thumbMediaId: x },
        { type: 'news', articles: [{ title: x, description: x, picUrl: x, url: x }] },
        { type: 'transfer_customer_service', kfAccount: x },
      ];
      for (const reply of replies) {
        const parsed = parseXml(renderer.render(reply, { ...header, toUserName: x, fromUserName: x }));
        expect(parsed.MsgType).toBe(reply.type);
        expect(parsed.ToUserName).toBe(x);
        expect(JSON.stringify(parsed)).not.toContain('"evil"');
      }
    });

    it('should round-trip any content through parseXml with exactly the five text fields', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (content) => {
          const parsed = parseXml(renderer.render({ type: 'text', content }, header));
          expect(Object.keys(parsed)).toEqual(['ToUserName', 'FromUserName', 'CreateTime', 'MsgType', 'Content']);
          const legal = content
            .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '')
            .replace(/\r\n?/g, '\n');
          expect(parsed.Content).toBe(legal);
        }),
        { numRuns: 150 },
      );
    });
  });
});

describe('views/*.xml.ejs', () => {
  const files = readdirSync(VIEWS).filter((f) => f.endsWith('.xml.ejs'));

  it('should hold one template per reply type, the header partial and the envelope', () => {
    expect(files.sort()).toEqual(['_head', 'envelope', 'image', 'music', 'news', 'text', 'transfer_customer_service', 'video', 'voice'].map((n) => `${n}.xml.ejs`));
  });

  it.each(files)('should output text in %s only through cdata() or as numbers', (file) => {
    const source = readFileSync(join(VIEWS, file), 'utf8');
    for (const [, expression] of source.matchAll(/<%-\s*([^%]*?)\s*%>/g)) expect(expression).toMatch(/^(cdata|head)\(/);
    for (const [, expression] of source.matchAll(/<%=\s*([^%]*?)\s*%>/g)) {
      expect(['header.createTime', 'envelope.timeStamp', 'articles.length']).toContain(expression);
    }
  });
});

describe('ReplyRenderer.renderEnvelope', () => {
  const v = aes.find((x) => x.id === 'wechatpy-encrypt-envelope') as AesVector;
  const envelope = {
    encrypt: v.expected?.encrypt as string,
    msgSignature: v.expected?.msg_signature as string,
    timeStamp: Number(v.timestamp),
    nonce: v.nonce as string,
  };

  it('should reproduce the envelope layout of the protocol doc byte for byte', () => {
    expect(renderer.renderEnvelope(envelope)).toBe(v.expected?.envelope_xml);
  });

  it('should render the envelope as the snapshot', () => {
    expect(renderer.renderEnvelope(envelope)).toMatchSnapshot();
  });

  it('should refuse a timestamp in milliseconds and malformed fields', () => {
    expect(() => renderer.renderEnvelope({ ...envelope, timeStamp: Date.now() })).toThrow(/seconds/);
    expect(() => renderer.renderEnvelope({ ...envelope, msgSignature: 'XYZ' })).toThrow(/msgSignature/);
    expect(() => renderer.renderEnvelope({ ...envelope, encrypt: '' })).toThrow(/encrypt/);
    expect(() => renderer.renderEnvelope({ ...envelope, nonce: '' })).toThrow(/nonce/);
  });
});
