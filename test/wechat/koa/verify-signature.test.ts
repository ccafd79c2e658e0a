import Koa from 'koa';
import request from 'supertest';
import { fixedClock } from '../../../src/lib/clock';
import { WebhookError } from '../../../src/wechat/koa/errors';
import { verifySignature } from '../../../src/wechat/koa/verify-signature';
import { computeSignature } from '../../../src/wechat/signature';
import { signedQuery, toQueryString } from '../../helpers/signed-query';

const TOKEN = 'AloneToken42';
const NOW_S = 1_714_000_000;

/** The middleware alone: 204 when it passes, the WebhookError's status and outcome otherwise. */
function appWith(options: Parameters<typeof verifySignature>[0]) {
  const app = new Koa();
  app.use(async function funnel(ctx, next) {
    try {
      await next();
    } catch (err) {
      if (!(err instanceof WebhookError)) throw err;
      ctx.status = err.status;
      ctx.body = err.outcome;
    }
  });
  app.use(verifySignature(options));
  app.use(async function passed(ctx) {
    ctx.status = 204;
  });
  return app.callback();
}

describe('verifySignature', () => {
  it.each([undefined, '', 'ab', 'x'.repeat(33), 'with space', 'ünïcode'])('should refuse token %p when built', (token) => {
    expect(() => verifySignature({ token: token as string })).toThrow(TypeError);
  });

  it('should pass a request signed with the token inside the window', async () => {
    const cb = appWith({ token: TOKEN, clock: fixedClock(NOW_S * 1000 + 999) });
    expect((await request(cb).get(`/?${toQueryString(signedQuery(TOKEN, { timestamp: NOW_S }))}`)).status).toBe(204);
  });

  it('should accept both edges of the default window and nothing beyond', async () => {
    const cb = appWith({ token: TOKEN, clock: fixedClock(NOW_S * 1000 + 999) });
    const at = async (offset: number) => (await request(cb).get(`/?${toQueryString(signedQuery(TOKEN, { timestamp: NOW_S + offset }))}`)).text;
    expect([await at(-300), await at(300)]).toEqual(['', '']);
    expect([await at(-301), await at(301)]).toEqual(['stale_timestamp', 'stale_timestamp']);
  });

  it('should tell a bad signature from a stale timestamp in its outcome (not in the response)', async () => {
    const cb = appWith({ token: TOKEN, windowSeconds: 5, clock: fixedClock(NOW_S * 1000) });
    expect((await request(cb).get(`/?${toQueryString(signedQuery('OtherToken', { timestamp: NOW_S }))}`)).text).toBe('bad_signature');
    expect((await request(cb).get(`/?${toQueryString(signedQuery(TOKEN, { timestamp: NOW_S - 6 }))}`)).text).toBe('stale_timestamp');
  });

  it('should check the signature over the exact timestamp text', async () => {
    const cb = appWith({ token: TOKEN, clock: fixedClock(NOW_S * 1000) });
    const nonce = '77';
    // "01714000000" is numerically the same time, but it is not what was signed.
    const q = { signature: computeSignature(TOKEN, String(NOW_S), nonce), timestamp: `0${NOW_S}`, nonce };
    expect((await request(cb).get(`/?${toQueryString(q)}`)).status).toBe(401);
  });
});
