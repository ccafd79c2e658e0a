import Koa from 'koa';
import request from 'supertest';
import { fixedClock } from '../../../src/lib/clock';
import { createReplyRenderer } from '../../../src/reply/render-reply';
import { createMessageCrypto } from '../../../src/wechat/crypto';
import { respond } from '../../../src/wechat/koa/respond';
import type { WebhookState } from '../../../src/wechat/koa/state';
import { computeSignature } from '../../../src/wechat/signature';
import { parseXml } from '../../../src/wechat/xml';
import { TEST_AES_KEY, TEST_APPID, TEST_PREVIOUS_AES_KEY, TEST_TOKEN, VIEWS_DIR } from '../../helpers/test-webhook';

const renderer = createReplyRenderer({ viewsDir: VIEWS_DIR });
const crypto = createMessageCrypto({ encodingAESKey: TEST_AES_KEY, previousEncodingAESKey: TEST_PREVIOUS_AES_KEY, appId: TEST_APPID });
const NOW_MS = 1_714_000_000_900;
const REPLY = '<xml><ToUserName><![CDATA[o_f]]></ToUserName><Content><![CDATA[hi]]></Content></xml>';

/** respond() alone, over a stand-in for the rest of the chain that sets (or throws instead of) the state. */
function appWith(rest: Koa.Middleware<WebhookState>) {
  const app = new Koa<WebhookState>();
  app.silent = true;
  app.use(async function funnel(ctx, next) {
    try {
      await next();
    } catch (err) {
      ctx.status = 418;
      ctx.body = `funnel: ${(err as Error).message}`;
    }
  });
  app.use(respond({ token: TEST_TOKEN, crypto, renderer, clock: fixedClock(NOW_MS) }));
  app.use(rest);
  return app.callback();
}

describe('respond', () => {
  it('should refuse to be built without a token or a renderer', () => {
    expect(() => respond({ token: '', renderer })).toThrow(TypeError);
    expect(() => respond({ token: TEST_TOKEN, renderer: undefined as never })).toThrow(TypeError);
  });

  it('should write the plain reply XML as application/xml with status 200', async () => {
    const res = await request(appWith(async (ctx) => void (ctx.state.replyXml = REPLY))).post('/');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/xml/);
    expect(res.text).toBe(REPLY);
  });

  it.each([
    ['no reply', undefined],
    ['an empty reply', ''],
    ['`success`', 'success'],
  ])('should write `success` as text/plain for %s, encrypted request or not', async (_label, replyXml) => {
    for (const encrypted of [false, true]) {
      const res = await request(
        appWith(async (ctx) => {
          ctx.state.encrypted = encrypted;
          ctx.state.replyXml = replyXml;
        }),
      ).post('/');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.text).toBe('success');
    }
  });

  it('should write the safe-mode envelope under the key that decrypted the request, signed with the token', async () => {
    for (const keyIndex of [0, 1] as const) {
      const res = await request(
        appWith(async (ctx) => {
          ctx.state.encrypted = true;
          ctx.state.keyIndex = keyIndex;
          ctx.state.replyXml = REPLY;
        }),
      ).post('/');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/xml/);
      const env = parseXml(res.text) as Record<string, string>;
      expect(env.TimeStamp).toBe(String(Math.floor(NOW_MS / 1000)));
      expect(env.MsgSignature).toBe(computeSignature(TEST_TOKEN, env.TimeStamp, env.Nonce, env.Encrypt));
      expect(crypto.decrypt(env.Encrypt)).toEqual({ xml: REPLY, keyIndex });
      expect(res.text).not.toContain('hi]]>');
    }
  });

  it('should write nothing when the chain throws, leaving the answer to the error funnel', async () => {
    const res = await request(
      appWith(async (ctx) => {
        ctx.state.replyXml = REPLY;
        throw new Error('bad input');
      }),
    ).post('/');
    expect(res.status).toBe(418);
    expect(res.text).toBe('funnel: bad input');
  });
});
