import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { fixedClock } from '../../../src/lib/clock';
import { createMessageCrypto, type MessageCrypto } from '../../../src/wechat/crypto';
import { computeSignature } from '../../../src/wechat/signature';
import { parseXml } from '../../../src/wechat/xml';
import { DEFAULT_FROM, DEFAULT_TO, textXml } from '../../helpers/inbound';
import { signedQuery, toQueryString } from '../../helpers/signed-query';
import { createTestWebhook, encryptedBody, TEST_AES_KEY, TEST_APPID, TEST_PREVIOUS_AES_KEY, TEST_TOKEN, type TestWebhook } from '../../helpers/test-webhook';

interface AesVector {
  id: string;
  kind: string;
  token: string;
  encoding_aes_key: string;
  appid: string;
  timestamp: string;
  nonce: string;
  msg_signature: string;
  post_body?: string;
  encrypt: string;
  expected: { msg: string };
}

const aesVectors: AesVector[] = JSON.parse(readFileSync(join(__dirname, '..', '..', 'fixtures', 'vectors', 'aes-crypto.json'), 'utf8'));

/** Checks the safe-mode envelope of a reply and returns the decrypted reply XML. */
function openEnvelope(body: string, token: string, crypto: MessageCrypto, nowSeconds: number): { xml: string; keyIndex: 0 | 1; nonce: string } {
  const env = parseXml(body) as Record<string, string>;
  expect(Object.keys(env).sort()).toEqual(['Encrypt', 'MsgSignature', 'Nonce', 'TimeStamp']);
  expect(env.TimeStamp).toBe(String(nowSeconds));
  expect(env.Nonce).toMatch(/^\d+$/);
  expect(env.MsgSignature).toBe(computeSignature(token, env.TimeStamp, env.Nonce, env.Encrypt));
  const { xml, keyIndex } = crypto.decrypt(env.Encrypt);
  return { xml, keyIndex, nonce: env.Nonce };
}

function postSafe(t: TestWebhook, body: string, encrypt: string, query: Record<string, string> = {}) {
  const q = { ...signedQuery(TEST_TOKEN, { timestamp: Math.floor(t.clock.now() / 1000), encrypt }), ...query };
  return request(t.callback)
    .post(`/wechat?${toQueryString(q)}`)
    .type('text/xml')
    .send(body);
}

describe('decrypt', () => {
  describe('safe mode', () => {
    it('should decrypt the request and answer an envelope that decrypts to the reply and whose MsgSignature verifies', async () => {
      const t = createTestWebhook({ clock: fixedClock(1_714_000_000_900) });
      const { body, encrypt } = encryptedBody(t.crypto!, textXml({ content: 'secret hello' }));
      const res = await postSafe(t, body, encrypt);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/xml/);
      expect(t.handlerCalls).toHaveLength(1);
      expect(t.handlerCalls[0]).toMatchObject({ MsgType: 'text', Content: 'secret hello' });
      const { xml, keyIndex } = openEnvelope(res.text, TEST_TOKEN, t.crypto!, 1_714_000_000);
      expect(keyIndex).toBe(0);
      expect(parseXml(xml)).toEqual({
        ToUserName: DEFAULT_FROM,
        FromUserName: DEFAULT_TO,
        CreateTime: '1714000000',
        MsgType: 'text',
        Content: 'secret hello',
      });
      expect(res.text).not.toContain('secret hello');
    });

    it('should use a fresh nonce for each envelope', async () => {
      const t = createTestWebhook();
      const nonces = new Set<string>();
      for (let i = 0; i < 3; i++) {
        const { body, encrypt } = encryptedBody(t.crypto!, textXml({ content: `n${i}` }));
        const res = await postSafe(t, body, encrypt);
        nonces.add(openEnvelope(res.text, TEST_TOKEN, t.crypto!, Math.floor(t.clock.now() / 1000)).nonce);
      }
      expect(nonces.size).toBe(3);
    });

    it('should accept the official WXBizMsgCrypt sample (compatible mode) and answer with its key', async () => {
      const v = aesVectors.find((x) => x.id === 'official-wxbizmsgcrypt-decrypt')!;
      const crypto = createMessageCrypto({ encodingAESKey: v.encoding_aes_key, appId: v.appid });
      const t = createTestWebhook({ token: v.token, crypto, clock: fixedClock(Number(v.timestamp) * 1000) });
      const q = { ...signedQuery(v.token, { timestamp: Number(v.timestamp), nonce: v.nonce }), encrypt_type: 'aes', msg_signature: v.msg_signature };
      const res = await request(t.callback)
        .post(`/wechat?${toQueryString(q)}`)
        .type('text/xml')
        .send(v.post_body!);
      expect(res.status).toBe(200);
      expect(t.handlerCalls).toHaveLength(1);
      expect(t.handlerCalls[0]).toMatchObject({ MsgType: 'text', Content: 'abcdteT', MsgId: '6054768590064713728' });
      const { xml } = openEnvelope(res.text, v.token, crypto, Number(v.timestamp));
      expect(parseXml(xml)).toMatchObject({ ToUserName: 'oyORnuP8q7ou2gfYjqLzSIWZf0rs', FromUserName: 'gh_10f6c3c3ac5a', Content: 'abcdteT' });
    });

    it('should keep `success` unencrypted', async () => {
      const t = createTestWebhook({ handler: () => ({ type: 'none' }) });
      const { body, encrypt } = encryptedBody(t.crypto!, textXml({ content: 'no reply' }));
      const res = await postSafe(t, body, encrypt);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.text).toBe('success');
      expect(t.handlerCalls).toHaveLength(1);
    });

    it('should answer 401 to a wrong msg_signature, without calling the handler', async () => {
      const t = createTestWebhook();
      const { body, encrypt } = encryptedBody(t.crypto!, textXml({ content: 'x' }));
      const res = await postSafe(t, body, encrypt, { msg_signature: computeSignature('tampered', encrypt) });
      expect(res.status).toBe(401);
      expect(res.text).toBe('Unauthorized');
      expect(t.handlerCalls).toHaveLength(0);
    });

    it('should answer 401 when msg_signature is missing', async () => {
      const t = createTestWebhook();
      const { body, encrypt } = encryptedBody(t.crypto!, textXml({ content: 'x' }));
      const q = signedQuery(TEST_TOKEN, { timestamp: Math.floor(t.clock.now() / 1000), encrypt });
      delete q.msg_signature;
      const res = await request(t.callback)
        .post(`/wechat?${toQueryString(q)}`)
        .type('text/xml')
        .send(body);
      expect(res.status).toBe(401);
    });

    it('should answer 401 when the Encrypt element was swapped for another validly encrypted message', async () => {
      const t = createTestWebhook();
      const signed = encryptedBody(t.crypto!, textXml({ content: 'signed one' }));
      const other = encryptedBody(t.crypto!, textXml({ content: 'swapped in' }));
      const res = await postSafe(t, other.body, signed.encrypt);
      expect(res.status).toBe(401);
      expect(t.handlerCalls).toHaveLength(0);
    });

    it('should answer 401 when msg_signature is right but the plain signature is wrong', async () => {
      const t = createTestWebhook();
      const { body, encrypt } = encryptedBody(t.crypto!, textXml({ content: 'x' }));
      const res = await postSafe(t, body, encrypt, { signature: computeSignature('nope') });
      expect(res.status).toBe(401);
    });

    it('should answer 400 to a message encrypted for a foreign AppId', async () => {
      const t = createTestWebhook();
      const foreign = createMessageCrypto({ encodingAESKey: TEST_AES_KEY, appId: 'wx0000000000000000' });
      const { body, encrypt } = encryptedBody(foreign, textXml({ content: 'not for you' }));
      const res = await postSafe(t, body, encrypt);
      expect(res.status).toBe(400);
      expect(t.handlerCalls).toHaveLength(0);
    });

    it('should answer 400 to a message encrypted with an unknown key', async () => {
      const t = createTestWebhook();
      const stranger = createMessageCrypto({ encodingAESKey: 'S'.repeat(43), appId: TEST_APPID });
      const { body, encrypt } = encryptedBody(stranger, textXml({ content: 'x' }));
      expect((await postSafe(t, body, encrypt)).status).toBe(400);
    });

    it.each([
      ['not base64', '!!!not-base64!!!'],
      ['not whole AES blocks', Buffer.from('short').toString('base64')],
      ['random blocks', Buffer.alloc(64, 7).toString('base64')],
    ])('should answer 400 to an Encrypt that is %s', async (_label, encrypt) => {
      const t = createTestWebhook();
      const body = `<xml><ToUserName><![CDATA[gh_x]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`;
      expect((await postSafe(t, body, encrypt)).status).toBe(400);
      expect(t.handlerCalls).toHaveLength(0);
    });

    it('should answer 400 when the decrypted message is not XML', async () => {
      const t = createTestWebhook();
      const { body, encrypt } = encryptedBody(t.crypto!, '{"MsgType":"text"}');
      expect((await postSafe(t, body, encrypt)).status).toBe(400);
    });

    it('should answer 400 when the body has no Encrypt element', async () => {
      const t = createTestWebhook();
      const body = textXml({ content: 'plain only' });
      const res = await postSafe(t, body, 'c29tZXRoaW5n');
      expect(res.status).toBe(400);
      expect(t.handlerCalls).toHaveLength(0);
    });

    it('should answer 400 to a safe-mode request when no AES key is configured', async () => {
      const t = createTestWebhook({ crypto: null });
      const crypto = createMessageCrypto({ encodingAESKey: TEST_AES_KEY, appId: TEST_APPID });
      const { body, encrypt } = encryptedBody(crypto, textXml({ content: 'x' }));
      const res = await postSafe(t, body, encrypt);
      expect(res.status).toBe(400);
      expect(res.text).toMatch(/safe mode is not configured/);
      expect(t.handlerCalls).toHaveLength(0);
    });

    it('should answer 400 to an unknown encrypt_type', async () => {
      const t = createTestWebhook();
      const res = await request(t.callback)
        .post(`/wechat?${t.query()}&encrypt_type=rot13`)
        .type('text/xml')
        .send(textXml({ content: 'x' }));
      expect(res.status).toBe(400);
    });

    it('should still serve plain-mode requests when an AES key is configured', async () => {
      const t = createTestWebhook();
      const res = await request(t.callback)
        .post(`/wechat?${t.query()}`)
        .type('text/xml')
        .send(textXml({ content: 'plain' }));
      expect(res.status).toBe(200);
      expect(parseXml(res.text).Content).toBe('plain');
    });
  });

  describe('compatible mode', () => {
    it('should trust the encrypted copy over the plain fields and answer an encrypted reply', async () => {
      const t = createTestWebhook();
      const xml = textXml({ content: 'the real one' });
      const encrypt = t.crypto!.encrypt(xml);
      // Plain fields an attacker could edit (the signature covers only Encrypt), beside the encrypted copy.
      const body = xml.replace('the real one', 'edited plain copy').replace('</xml>', `<Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`);
      const res = await postSafe(t, body, encrypt);
      expect(res.status).toBe(200);
      expect(t.handlerCalls[0]).toMatchObject({ Content: 'the real one' });
      const { xml: reply } = openEnvelope(res.text, TEST_TOKEN, t.crypto!, Math.floor(t.clock.now() / 1000));
      expect(parseXml(reply).Content).toBe('the real one');
    });

    it('should answer compatible-mode bodies built by the helper', async () => {
      const t = createTestWebhook();
      const { body, encrypt } = encryptedBody(t.crypto!, textXml({ content: 'compat' }), { compatible: true });
      expect(body).toContain('<Content><![CDATA[compat]]></Content>');
      const res = await postSafe(t, body, encrypt);
      expect(res.status).toBe(200);
      expect(parseXml(openEnvelope(res.text, TEST_TOKEN, t.crypto!, Math.floor(t.clock.now() / 1000)).xml).Content).toBe('compat');
    });
  });

  describe('key rotation', () => {
    const rotated = () => createMessageCrypto({ encodingAESKey: TEST_AES_KEY, previousEncodingAESKey: TEST_PREVIOUS_AES_KEY, appId: TEST_APPID });
    const previousOnly = () => createMessageCrypto({ encodingAESKey: TEST_PREVIOUS_AES_KEY, appId: TEST_APPID });
    const currentOnly = () => createMessageCrypto({ encodingAESKey: TEST_AES_KEY, appId: TEST_APPID });

    it('should accept a message under the previous key and encrypt the reply with the previous key', async () => {
      const t = createTestWebhook({ crypto: rotated() });
      const { body, encrypt } = encryptedBody(previousOnly(), textXml({ content: 'old key' }));
      const res = await postSafe(t, body, encrypt);
      expect(res.status).toBe(200);
      const env = parseXml(res.text) as Record<string, string>;
      expect(env.MsgSignature).toBe(computeSignature(TEST_TOKEN, env.TimeStamp, env.Nonce, env.Encrypt));
      expect(parseXml(previousOnly().decrypt(env.Encrypt).xml).Content).toBe('old key');
      expect(() => currentOnly().decrypt(env.Encrypt)).toThrow();
    });

    it('should answer a message under the current key with the current key', async () => {
      const t = createTestWebhook({ crypto: rotated() });
      const { body, encrypt } = encryptedBody(currentOnly(), textXml({ content: 'new key' }));
      const res = await postSafe(t, body, encrypt);
      const env = parseXml(res.text) as Record<string, string>;
      expect(parseXml(currentOnly().decrypt(env.Encrypt).xml).Content).toBe('new key');
      expect(() => previousOnly().decrypt(env.Encrypt)).toThrow();
    });

    it('should refuse the previous key once it is no longer configured', async () => {
      const t = createTestWebhook({ crypto: currentOnly() });
      const { body, encrypt } = encryptedBody(previousOnly(), textXml({ content: 'too old' }));
      expect((await postSafe(t, body, encrypt)).status).toBe(400);
    });
  });
});
