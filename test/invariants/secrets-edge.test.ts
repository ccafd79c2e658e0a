/**
 * Design invariant 5, at the edge: the token and the AES keys (current and previous, in every encoding)
 * never appear in a response body, a response header, a log line (debug level, no scrubbing) or an
 * emitted error, across a run of good and bad requests.
 */
import request from 'supertest';
import { createMessageCrypto } from '../../src/wechat/crypto';
import { verifySignature } from '../../src/wechat/koa/verify-signature';
import { computeSignature } from '../../src/wechat/signature';
import { clickXml, subscribeXml, textXml } from '../helpers/inbound';
import { signedQuery, toQueryString } from '../helpers/signed-query';
import { createTestWebhook, deferred, encryptedBody, TEST_AES_KEY, TEST_APPID, TEST_PREVIOUS_AES_KEY, TEST_TOKEN, type TestWebhook } from '../helpers/test-webhook';

/** Every form a secret could leak in: as configured, decoded key bytes as hex/base64, the token’s case variants. */
function secretForms(): string[] {
  const forms = [TEST_TOKEN, TEST_TOKEN.toLowerCase(), TEST_AES_KEY, TEST_PREVIOUS_AES_KEY];
  for (const key of [TEST_AES_KEY, TEST_PREVIOUS_AES_KEY]) {
    const bytes = Buffer.from(`${key}=`, 'base64');
    expect(bytes).toHaveLength(32);
    forms.push(bytes.toString('hex'), bytes.toString('base64'), bytes.subarray(0, 16).toString('hex'));
  }
  return forms;
}

interface Exchange {
  label: string;
  status: number;
  text: string;
  headers: Record<string, string>;
}

async function run(t: TestWebhook, label: string, req: PromiseLike<request.Response>, out: Exchange[]): Promise<void> {
  const res = await req;
  out.push({ label, status: res.status, text: res.text ?? '', headers: res.headers as Record<string, string> });
}

describe('invariant 5 at the edge: no secret in responses, headers or logs', () => {
  it('should keep the token and AES keys out of everything a run of good and bad requests produces', async () => {
    const crypto = createMessageCrypto({ encodingAESKey: TEST_AES_KEY, previousEncodingAESKey: TEST_PREVIOUS_AES_KEY, appId: TEST_APPID });
    const previousOnly = createMessageCrypto({ encodingAESKey: TEST_PREVIOUS_AES_KEY, appId: TEST_APPID });
    const gate = deferred();
    const late = deferred();
    let calls = 0;
    const t = createTestWebhook({
      crypto,
      deadlineMs: 200,
      handler: async (m) => {
        calls++;
        if (m.MsgType === 'text' && m.Content === 'throw') throw new Error('handler failed on purpose');
        if (m.MsgType === 'text' && m.Content === 'slow') await gate.promise;
        if (m.MsgType === 'text') return { type: 'text', content: m.Content };
        return { type: 'none' };
      },
      onLateReply: async () => late.resolve(),
      health: async () => ({ ok: true }),
    });
    const cb = t.callback;
    const now = Math.floor(t.clock.now() / 1000);
    const out: Exchange[] = [];
    const post = (query: string, body: string) => request(cb).post(`/wechat?${query}`).type('text/xml').send(body);
    const safe = (xml: string, c = t.crypto!) => {
      const { body, encrypt } = encryptedBody(c, xml);
      return post(toQueryString(signedQuery(TEST_TOKEN, { timestamp: now, encrypt })), body);
    };

    // Good requests.
    await run(t, 'handshake', request(cb).get(`/wechat?${t.query()}&echostr=123456789`), out);
    await run(t, 'plain text', post(t.query(), textXml({ content: 'hello' })), out);
    const retried = textXml({ content: 'retry me' });
    await run(t, 'plain text', post(t.query(), retried), out);
    await run(t, 'retry', post(t.query(), retried), out);
    await run(t, 'follow', post(t.query(), subscribeXml('qr1')), out);
    await run(t, 'click', post(t.query(), clickXml('MENU')), out);
    await run(t, 'safe mode', safe(textXml({ content: 'sealed' })), out);
    await run(t, 'safe mode, previous key', safe(textXml({ content: 'old key' }), previousOnly), out);
    {
      const { body, encrypt } = encryptedBody(t.crypto!, textXml({ content: 'compat' }), { compatible: true });
      await run(t, 'compatible mode', post(toQueryString(signedQuery(TEST_TOKEN, { timestamp: now, encrypt })), body), out);
    }
    await run(t, 'healthz', request(cb).get('/healthz'), out);

    // Bad requests.
    await run(t, 'bad signature', post(toQueryString(signedQuery('WrongToken1')), textXml({ content: 'x' })), out);
    await run(t, 'bad handshake', request(cb).get(`/wechat?${toQueryString(signedQuery('WrongToken1'))}&echostr=1`), out);
    await run(t, 'stale', post(t.query({ timestamp: now - 1000 }), textXml({ content: 'x' })), out);
    {
      const { body, encrypt } = encryptedBody(t.crypto!, textXml({ content: 'x' }));
      const q = { ...signedQuery(TEST_TOKEN, { timestamp: now, encrypt }), msg_signature: computeSignature('nope', encrypt) };
      await run(t, 'wrong msg_signature', post(toQueryString(q), body), out);
    }
    await run(t, 'foreign appid', safe(textXml({ content: 'x' }), createMessageCrypto({ encodingAESKey: TEST_AES_KEY, appId: 'wxother000000000' })), out);
    await run(t, 'unknown key', safe(textXml({ content: 'x' }), createMessageCrypto({ encodingAESKey: 'Q'.repeat(43), appId: TEST_APPID })), out);
    await run(t, 'garbage Encrypt', post(toQueryString(signedQuery(TEST_TOKEN, { timestamp: now, encrypt: 'AAAA' })), '<xml><Encrypt>AAAA</Encrypt></xml>'), out);
    await run(t, 'malformed', post(t.query(), '<xml><a></xml>'), out);
    await run(t, 'doctype', post(t.query(), '<!DOCTYPE x [<!ENTITY a "b">]><xml>&a;</xml>'), out);
    await run(t, 'oversized', post(t.query(), `<xml>${'x'.repeat(70_000)}</xml>`), out);
    await run(t, 'empty', post(t.query(), ''), out);
    await run(t, 'put', request(cb).put(`/wechat?${t.query()}`), out);
    await run(t, 'unknown encrypt_type', post(`${t.query()}&encrypt_type=des`, textXml({ content: 'x' })), out);
    await run(t, 'handler throws', post(t.query(), textXml({ content: 'throw' })), out);
    await run(t, 'deadline', post(t.query(), textXml({ content: 'slow' })), out);
    gate.resolve();
    await late.promise;
    await t.waitForLog('after the deadline');
    await run(t, 'metrics', request(cb).get('/metrics'), out);

    // The run covered what it claims to.
    expect(out.map((e) => `${e.label} ${e.status}`)).toEqual(
      expect.arrayContaining([
        'handshake 200',
        'safe mode 200',
        'safe mode, previous key 200',
        'bad signature 401',
        'foreign appid 400',
        'oversized 413',
        'put 405',
        'handler throws 200',
        'deadline 200',
      ]),
    );
    expect(calls).toBeGreaterThanOrEqual(8);
    expect(t.errors.length).toBeGreaterThanOrEqual(1);
    expect(t.logLines.length).toBeGreaterThan(10);

    const secrets = secretForms();
    const leaks: string[] = [];
    const check = (where: string, text: string) => {
      for (const s of secrets) if (text.includes(s)) leaks.push(`${where} contains a secret form (${s.length} chars)`);
    };
    for (const e of out) {
      check(`${e.label}: body`, e.text);
      check(`${e.label}: headers`, JSON.stringify(e.headers));
    }
    t.logLines.forEach((line, i) => check(`log line ${i}`, line));
    t.errors.forEach((err, i) => check(`error ${i}`, `${String(err)} ${(err as Error).stack ?? ''} ${JSON.stringify(err)}`));
    expect(leaks).toEqual([]);
  });

  it('should not put the token or key in the errors of bad options', () => {
    const badKey = `${TEST_AES_KEY.slice(0, 42)}!`;
    let message = '';
    try {
      createMessageCrypto({ encodingAESKey: badKey, appId: TEST_APPID });
    } catch (err) {
      message = `${String(err)} ${(err as Error).stack ?? ''}`;
    }
    expect(message).not.toBe('');
    expect(message).not.toContain(badKey);
    expect(message).not.toContain(TEST_AES_KEY.slice(0, 20));

    const badToken = 'token with spaces but secret';
    expect(() => verifySignature({ token: badToken })).toThrow(TypeError);
    try {
      verifySignature({ token: badToken });
    } catch (err) {
      expect(String(err)).not.toContain(badToken);
    }
  });
});
