import { createMessageCrypto } from '../../src/wechat/crypto';
import { dedupeKey } from '../../src/wechat/inbound';
import { parseInboundXml } from '../../src/wechat/parse-inbound';
import { checkMsgSignature, checkSignature } from '../../src/wechat/signature';
import { clickXml, DEFAULT_FROM, DEFAULT_TO, eventXml, subscribeXml, textXml } from '../helpers/inbound';
import { signedQuery, toQueryString } from '../helpers/signed-query';

describe('signedQuery', () => {
  it('should reproduce the official GET signature for its timestamp and nonce', () => {
    expect(signedQuery('AAAAA', { timestamp: 1714036504, nonce: '1514711492' })).toEqual({
      signature: 'f464b24fc39322e44b38aa78f5edd27bd1441696',
      timestamp: '1714036504',
      nonce: '1514711492',
    });
  });

  it('should sign with the current time and a fresh nonce by default', () => {
    const q = signedQuery('token');
    expect(Math.abs(Number(q.timestamp) - Date.now() / 1000)).toBeLessThan(5);
    expect(q.nonce).toMatch(/^\d{9,10}$/);
    expect(checkSignature('token', q)).toBe(true);
    expect(checkSignature('other', q)).toBe(false);
  });

  it('should add openid, encrypt_type=aes and a msg_signature over Encrypt in safe mode', () => {
    const crypto = createMessageCrypto({ encodingAESKey: 'A'.repeat(43), appId: 'wx1' });
    const encrypt = crypto.encrypt('<xml/>');
    const q = signedQuery('token', { encrypt, openid: 'o_1' });
    expect(q).toMatchObject({ encrypt_type: 'aes', openid: 'o_1' });
    expect(checkSignature('token', q)).toBe(true);
    expect(checkMsgSignature('token', q, encrypt)).toBe(true);
  });
});

describe('toQueryString', () => {
  it('should URL-encode values so base64 survives', () => {
    const s = toQueryString({ a: 'x+y/z=', b: '1' });
    expect(s).toBe('a=x%2By%2Fz%3D&b=1');
    expect(Object.fromEntries(new URLSearchParams(s))).toEqual({ a: 'x+y/z=', b: '1' });
  });
});

describe('textXml', () => {
  it('should build a text message that parses back', () => {
    expect(parseInboundXml(textXml({ content: 'hello', msgId: '6054768590064713728', createTime: 1714000000 }))).toEqual({
      ToUserName: DEFAULT_TO,
      FromUserName: DEFAULT_FROM,
      CreateTime: 1714000000,
      MsgType: 'text',
      Content: 'hello',
      MsgId: '6054768590064713728',
    });
  });

  it('should make every call a distinct message unless told otherwise', () => {
    const a = parseInboundXml(textXml({ content: 'x' }));
    const b = parseInboundXml(textXml({ content: 'x' }));
    expect(dedupeKey(a)).not.toBe(dedupeKey(b));
    expect(a.CreateTime).not.toBe(b.CreateTime);
  });

  it('should carry hostile content safely', () => {
    const content = ']]></Content><MsgType>event</MsgType><Content><![CDATA[';
    expect(parseInboundXml(textXml({ content, from: 'o_x', to: 'gh_y' }))).toMatchObject({ MsgType: 'text', Content: content, FromUserName: 'o_x', ToUserName: 'gh_y' });
  });
});

describe('eventXml', () => {
  it('should build any event with extra fields', () => {
    const xml = eventXml({ event: 'user_get_card', createTime: 1714000001, extra: { CardId: 'p1', UserCardCode: '123', OuterId: 0 } });
    expect(parseInboundXml(xml)).toMatchObject({ Event: 'user_get_card', CardId: 'p1', UserCardCode: '123', OuterId: '0', CreateTime: 1714000001 });
  });

  it('should refuse a bad element name', () => {
    expect(() => eventXml({ event: 'x', extra: { 'a b': '1' } })).toThrow(TypeError);
  });
});

describe('subscribeXml', () => {
  it('should build a plain follow', () => {
    const m = parseInboundXml(subscribeXml());
    expect(m).toMatchObject({ MsgType: 'event', Event: 'subscribe' });
    expect('EventKey' in m).toBe(false);
  });

  it('should build a follow through a parametric QR code', () => {
    expect(parseInboundXml(subscribeXml('42', { from: 'o_2' }))).toMatchObject({
      Event: 'subscribe',
      EventKey: 'qrscene_42',
      Scene: '42',
      Ticket: 'TICKET_42',
      FromUserName: 'o_2',
    });
  });
});

describe('clickXml', () => {
  it('should build a menu click', () => {
    expect(parseInboundXml(clickXml('MENU_HELP'))).toMatchObject({ Event: 'CLICK', EventKey: 'MENU_HELP' });
  });
});
