import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dedupeKey, isCardEvent, isEvent, isEventOf, type ClickEvent, type InboundMessage, type SubscribeEvent } from '../../src/wechat/inbound';
import { InvalidInboundError, parseInbound, parseInboundXml } from '../../src/wechat/parse-inbound';
import { MalformedXmlError, parseXml } from '../../src/wechat/xml';

interface InboundVector {
  id: string;
  xml: string;
  expect: Record<string, string>;
  dedupe_key: string[] | null;
}

const fixturesDir = join(__dirname, '..', 'fixtures', 'inbound');
const vectors: InboundVector[] = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'vectors', 'inbound-xml.json'), 'utf8'));
const fixture = (id: string): string => readFileSync(join(fixturesDir, `${id}.xml`), 'utf8');

/**
 * Reads a vector's dot path. `PicList.item` was normalised to an array, so `item` on an array is the
 * array itself and a field of an array is read from its first element.
 */
function at(value: unknown, path: string): unknown {
  let current: unknown = value;
  for (const part of path.split('.')) {
    if (Array.isArray(current)) {
      if (part === 'item') continue;
      current = current[0];
    }
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** Our own fixtures and what they must parse to (dot paths, as in the vectors). */
const EXTRA: Record<string, Record<string, unknown>> = {
  'unknown-msgtype': { MsgType: 'unknown', RawMsgType: 'hologram', MsgId: '8000000000000000001', 'raw.HoloId': 'h-1' },
  'unknown-event': { MsgType: 'event', Event: 'unknown', RawEvent: 'debug_demo', 'raw.debug_str': 'hello world' },
  'subscribe-qrscene': { Event: 'subscribe', EventKey: 'qrscene_campaign_2024', Scene: 'campaign_2024' },
  'event-click-lowercase': { MsgType: 'event', Event: 'CLICK', EventKey: 'MENU_HELP' },
  'event-pic_photo_or_album-multiple': {
    Event: 'pic_photo_or_album',
    'SendPicsInfo.Count': '2',
    'SendPicsInfo.PicList': [{ PicMd5Sum: '5a75aaca956d97be686719218f275c6b' }, { PicMd5Sum: '1b5f7c23b5bf75682a53e7b6d163e185' }],
  },
  miniprogrampage: { MsgType: 'miniprogrampage', Title: 'Title', AppId: 'AppId', PagePath: 'PagePath', ThumbUrl: 'ThumbUrl' },
  'text-from-article': { MsgType: 'text', MsgDataId: 'xxxx', Idx: 'xxxx' },
};

describe('inbound fixtures', () => {
  it('should hold one file per vector, identical to the vector', () => {
    for (const v of vectors) expect(fixture(v.id)).toBe(`${v.xml}\n`);
  });

  it('should have an expectation for every file', () => {
    const ids = readdirSync(fixturesDir)
      .filter((f) => f.endsWith('.xml'))
      .map((f) => f.slice(0, -4));
    const known = new Set([...vectors.map((v) => v.id), ...Object.keys(EXTRA)]);
    expect(ids.filter((id) => !known.has(id))).toEqual([]);
  });
});

describe('parseInboundXml', () => {
  const messages = vectors.filter((v) => v.dedupe_key !== null);

  it.each(messages.map((v) => [v.id, v] as const))('should parse %s to the vector’s fields', (_id, v) => {
    const m = parseInboundXml(fixture(v.id));
    for (const [path, expected] of Object.entries(v.expect)) {
      // CreateTime is a number after parsing; the vectors write it as text.
      const actual = at(m, path);
      expect([path, typeof actual === 'number' ? String(actual) : actual]).toEqual([path, expected]);
    }
    expect(typeof m.CreateTime).toBe('number');
    expect(m.MsgType).not.toBe('unknown');
    if (m.MsgType === 'event') expect(m.Event).not.toBe('unknown');
  });

  it.each(Object.entries(EXTRA))('should parse our fixture %s', (id, expected) => {
    const m = parseInboundXml(fixture(id));
    for (const [path, value] of Object.entries(expected)) expect([path, at(m, path)]).toEqual([path, value]);
  });

  it('should leave the safe-mode envelope to the decryption step (it has no header)', () => {
    const v = vectors.find((x) => x.dedupe_key === null) as InboundVector;
    expect(parseXml(fixture(v.id))).toMatchObject(v.expect);
    expect(() => parseInboundXml(fixture(v.id))).toThrow(InvalidInboundError);
  });

  it('should parse the compatible-mode packet of the official crypto sample (plain fields beside Encrypt)', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a JSON fixture, read as data
    const aes = require('../fixtures/vectors/aes-crypto.json') as { id: string; post_body?: string }[];
    const body = aes.find((x) => x.id === 'official-wxbizmsgcrypt-decrypt')?.post_body as string;
    expect(parseInboundXml(body)).toMatchObject({ MsgType: 'text', Content: 'abcdteT', MsgId: '6054768590064713728' });
  });

  it('should throw MalformedXmlError for malformed XML', () => {
    expect(() => parseInboundXml('<xml><ToUserName>')).toThrow(MalformedXmlError);
  });
});

describe('parseInbound', () => {
  const header = { ToUserName: 'gh_1', FromUserName: 'o_1', CreateTime: '1714000000' };

  it('should produce exact, clean objects for a text message', () => {
    expect(parseInbound({ ...header, MsgType: 'text', Content: 'hi', MsgId: '6054768590064713728', Extra: 'x' })).toEqual({
      ToUserName: 'gh_1',
      FromUserName: 'o_1',
      CreateTime: 1714000000,
      MsgType: 'text',
      Content: 'hi',
      MsgId: '6054768590064713728',
    });
  });

  it('should strip qrscene_ into Scene only on subscribe and keep EventKey verbatim', () => {
    const follow = parseInbound({ ...header, MsgType: 'event', Event: 'subscribe', EventKey: 'qrscene_123123' });
    expect(follow).toMatchObject({ Event: 'subscribe', EventKey: 'qrscene_123123', Scene: '123123' });
    const plain = parseInbound({ ...header, MsgType: 'event', Event: 'subscribe' }) as SubscribeEvent;
    expect(plain.Scene).toBeUndefined();
    expect('Scene' in plain).toBe(false);
    const other = parseInbound({ ...header, MsgType: 'event', Event: 'subscribe', EventKey: 'last_trade_no_4200' });
    expect(other).toMatchObject({ EventKey: 'last_trade_no_4200' });
    expect((other as SubscribeEvent).Scene).toBeUndefined();
    const scan = parseInbound({ ...header, MsgType: 'event', Event: 'SCAN', EventKey: 'qrscene_1' });
    expect('Scene' in scan).toBe(false);
  });

  it('should match MsgType and Event case-insensitively to the canonical spelling', () => {
    expect(parseInbound({ ...header, MsgType: 'Text', Content: 'x', MsgId: '1' }).MsgType).toBe('text');
    expect(parseInbound({ ...header, MsgType: 'event', Event: 'click', EventKey: 'k' })).toMatchObject({ Event: 'CLICK' });
    expect(parseInbound({ ...header, MsgType: 'event', Event: 'Subscribe' })).toMatchObject({ Event: 'subscribe' });
    expect(parseInbound({ ...header, MsgType: 'event', Event: 'USER_GET_CARD', CardId: 'c', UserCardCode: '1' })).toMatchObject({
      Event: 'user_get_card',
    });
    expect(parseInbound({ ...header, MsgType: 'event', Event: 'masssendjobfinish', MsgID: '1', Status: 's' })).toMatchObject({
      Event: 'MASSSENDJOBFINISH',
      MsgID: '1',
    });
  });

  it('should fill a missing required field with an empty string rather than reject the packet', () => {
    expect(parseInbound({ ...header, MsgType: 'event', Event: 'CLICK' })).toMatchObject({ Event: 'CLICK', EventKey: '' });
    expect(parseInbound({ ...header, MsgType: 'event', Event: 'scancode_push' })).toMatchObject({
      ScanCodeInfo: { ScanType: '', ScanResult: '' },
    });
    expect(parseInbound({ ...header, MsgType: 'event', Event: 'pic_weixin', SendPicsInfo: '' })).toMatchObject({
      SendPicsInfo: { Count: '0', PicList: [] },
    });
  });

  it('should turn unknown types into unknown variants without throwing', () => {
    const raw = { ...header, MsgType: 'channels_live', Foo: { Bar: '1' } };
    expect(parseInbound(raw)).toEqual({
      ToUserName: 'gh_1',
      FromUserName: 'o_1',
      CreateTime: 1714000000,
      MsgType: 'unknown',
      RawMsgType: 'channels_live',
      raw,
    });
    expect(parseInbound({ ...header, MsgType: 'event', Event: 'weapp_audit_success' })).toMatchObject({
      MsgType: 'event',
      Event: 'unknown',
      RawEvent: 'weapp_audit_success',
    });
    expect(parseInbound({ ...header, MsgType: 'event' })).toMatchObject({ Event: 'unknown', RawEvent: '' });
    expect(parseInbound({ ...header, MsgType: 'unknown' })).toMatchObject({ MsgType: 'unknown', RawMsgType: 'unknown' });
  });

  it.each([
    ['ToUserName', { ...header, ToUserName: undefined, MsgType: 'text' }],
    ['ToUserName', { ...header, ToUserName: '', MsgType: 'text' }],
    ['FromUserName', { ...header, FromUserName: undefined, MsgType: 'text' }],
    ['FromUserName', { ...header, FromUserName: { a: '1' }, MsgType: 'text' }],
    ['CreateTime', { ...header, CreateTime: undefined, MsgType: 'text' }],
    ['CreateTime', { ...header, CreateTime: '17e8', MsgType: 'text' }],
    ['CreateTime', { ...header, CreateTime: '-1', MsgType: 'text' }],
    ['CreateTime', { ...header, CreateTime: '', MsgType: 'text' }],
    ['CreateTime', { ...header, CreateTime: '1234567890123456789', MsgType: 'text' }],
    ['MsgType', { ...header }],
    ['MsgType', { ...header, MsgType: '  ' }],
    ['MsgType', { ...header, MsgType: ['text', 'image'] }],
  ])('should reject an invalid header (%s)', (field, fields) => {
    let caught: unknown;
    try {
      parseInbound(fields as Record<string, unknown>);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidInboundError);
    expect((caught as InvalidInboundError).field).toBe(field);
  });

  it('should reject an element where text is expected, naming the path but not the value', () => {
    const secretish = 'x'.repeat(10_000);
    expect(() => parseInbound({ ...header, MsgType: 'text', Content: { b: secretish }, MsgId: '1' })).toThrow(/Content must be text/);
    expect(() => parseInbound({ ...header, MsgType: 'event', Event: 'CLICK', EventKey: ['a', 'b'] })).toThrow(/EventKey must appear once/);
    expect(() => parseInbound({ ...header, MsgType: 'event', Event: 'scancode_push', EventKey: '1', ScanCodeInfo: 'text' })).toThrow(/ScanCodeInfo must be an element/);
    expect(() => parseInbound({ ...header, MsgType: 'event', Event: 'pic_weixin', EventKey: '1', SendPicsInfo: { PicList: { item: 'abc' } } })).toThrow(
      /SendPicsInfo\.PicList\.item\[0\]/,
    );
    try {
      parseInbound({ ...header, MsgType: 'text', Content: { b: secretish }, MsgId: '1' });
    } catch (error) {
      expect((error as Error).message).not.toContain(secretish.slice(0, 50));
    }
  });

  it('should reject a packet that is not an object', () => {
    expect(() => parseInbound(null as unknown as Record<string, unknown>)).toThrow(InvalidInboundError);
    expect(() => parseInbound([] as unknown as Record<string, unknown>)).toThrow(InvalidInboundError);
  });
});

describe('dedupeKey', () => {
  const getCard = (code: string, createTime = 1472551036): string =>
    `<xml><ToUserName><![CDATA[gh_fc0a06a20993]]></ToUserName><FromUserName><![CDATA[oZI8Fj040]]></FromUserName>` +
    `<CreateTime>${createTime}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[user_get_card]]></Event>` +
    `<CardId><![CDATA[pZI8Fjwsy5fVPRBeD78J4RmqVvBc]]></CardId><UserCardCode><![CDATA[${code}]]></UserCardCode></xml>`;

  it('should give two user_get_card events with one CreateTime and different codes different keys', () => {
    expect(dedupeKey(parseInboundXml(getCard('226009850808')))).not.toBe(dedupeKey(parseInboundXml(getCard('226009850809'))));
  });

  it('should give a retried event the same key', () => {
    expect(dedupeKey(parseInboundXml(getCard('226009850808')))).toBe(dedupeKey(parseInboundXml(getCard('226009850808'))));
  });

  it('should key user messages by MsgId and events by sender, time, event and key', () => {
    expect(dedupeKey(parseInboundXml(fixture('text')))).toBe('msg:1234567890123456');
    const click = dedupeKey(parseInboundXml(fixture('event-CLICK')));
    expect(click).toContain('FromUser');
    expect(click).toContain('123456789');
    expect(click).toContain('CLICK');
    expect(click).toContain('EVENTKEY');
  });

  it('should give every fixture a key, and distinct fixtures distinct keys where WeChat would', () => {
    const keys = new Map<string, string>();
    for (const v of vectors.filter((x) => x.dedupe_key !== null)) {
      const key = dedupeKey(parseInboundXml(fixture(v.id)));
      expect(key.length).toBeGreaterThan(0);
      keys.set(v.id, key);
    }
    // Same sender + time but different events must not collide.
    expect(keys.get('event-subscribe')).not.toBe(keys.get('event-unsubscribe'));
    expect(keys.get('event-CLICK')).not.toBe(keys.get('event-VIEW'));
  });
});

describe('narrowing (compile-time)', () => {
  // These functions only need to type-check; calling them proves nothing more at runtime.
  function clickKey(m: InboundMessage): string | undefined {
    if (isEventOf(m, 'CLICK')) {
      const narrowed: ClickEvent = m;
      return narrowed.EventKey;
    }
    return undefined;
  }
  function sceneOf(m: InboundMessage): string | undefined {
    if (isEventOf(m, 'subscribe')) return m.Scene;
    return undefined;
  }
  function cardCode(m: InboundMessage): string | undefined {
    if (isEventOf(m, 'user_del_card')) return m.UserCardCode;
    return undefined;
  }
  function describeMessage(m: InboundMessage): string {
    switch (m.MsgType) {
      case 'text':
        return m.Content;
      case 'location':
        return m.Label;
      case 'event':
        return m.Event === 'unknown' ? m.RawEvent : m.Event;
      case 'unknown':
        return m.RawMsgType;
      default:
        return m.MsgType;
    }
  }

  it('should narrow with isEventOf, isEvent, isCardEvent and MsgType switches', () => {
    expect(clickKey(parseInboundXml(fixture('event-CLICK')))).toBe('EVENTKEY');
    expect(clickKey(parseInboundXml(fixture('text')))).toBeUndefined();
    expect(sceneOf(parseInboundXml(fixture('subscribe-qrscene')))).toBe('campaign_2024');
    expect(cardCode(parseInboundXml(fixture('card-user_del_card')))).toBe('12312312');
    expect(describeMessage(parseInboundXml(fixture('location')))).toBe('位置信息');
    expect(describeMessage(parseInboundXml(fixture('unknown-event')))).toBe('debug_demo');
    const card = parseInboundXml(fixture('card-user_del_card'));
    expect(isEvent(card) && isCardEvent(card)).toBe(true);
  });
});
