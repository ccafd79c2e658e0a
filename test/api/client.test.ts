import axios from 'axios';
import { createApiClient } from '../../src/api/client';
import { WeChatApiError, WeChatHttpError } from '../../src/api/errors';
import { fixedClock } from '../../src/lib/clock';
import { SandboxApiError } from '../../src/sandbox/api-server';
import { caught, startHarness, type Harness } from './helpers/api-harness';

const T0 = Date.parse('2026-03-01T08:00:00+08:00');

describe('createApiClient', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  const callsTo = (path: string) => h.sandbox.calls.filter((c) => c.path === path);

  it('should reject invalid options when built', async () => {
    h = await startHarness();
    const store = h.store.kv;
    expect(() => createApiClient({ baseUrl: 'api.weixin.qq.com', tokens: h.tokens, store })).toThrow(/baseUrl/);
    expect(() => createApiClient({ baseUrl: h.sandbox.url, tokens: {} as never, store })).toThrow(/TokenProvider/);
    expect(() => createApiClient({ baseUrl: h.sandbox.url, tokens: h.tokens, timeoutMs: 0, store })).toThrow(/timeoutMs/);
  });

  it('should take its ticket cache from the caller: the API picks no store adapter', async () => {
    h = await startHarness();
    expect(() => createApiClient({ baseUrl: h.sandbox.url, tokens: h.tokens } as never)).toThrow(/store must be a KeyValueStore/);
    expect(() => createApiClient({ baseUrl: h.sandbox.url, tokens: h.tokens, store: {} as never })).toThrow(/store must be a KeyValueStore/);
  });

  it('should inject the access token and return the decoded JSON', async () => {
    h = await startHarness();
    h.sandbox.follow('o_user');
    const res = await h.api.request<{ openid: string; subscribe: number }>('GET', '/cgi-bin/user/info', { query: { openid: 'o_user' } });
    expect(res).toMatchObject({ openid: 'o_user', subscribe: 1 });
    expect(h.sandbox.tokenFetches).toBe(1);
  });

  it('should refuse query strings inside the endpoint', async () => {
    h = await startHarness();
    await expect(h.api.request('GET', '/cgi-bin/menu/get?access_token=x')).rejects.toThrow(TypeError);
  });

  it('should send CJK text as raw UTF-8, which WeChat accepts (escapes would get 40033)', async () => {
    h = await startHarness();
    h.sandbox.touch('o_user');
    await h.api.customMessage.text('o_user', '你好，世界 🎉');
    expect(h.sandbox.sent.get('o_user')?.[0].body).toEqual({ touser: 'o_user', msgtype: 'text', text: { content: '你好，世界 🎉' } });
  });

  it('should refresh the token and retry once when WeChat says it expired (42001)', async () => {
    h = await startHarness();
    h.sandbox.touch('o_user');
    await h.api.customMessage.text('o_user', 'one');
    h.sandbox.expireTokens();
    await h.api.customMessage.text('o_user', 'two');
    expect(h.sandbox.tokenFetches).toBe(2);
    expect(callsTo('/cgi-bin/message/custom/send').map((c) => c.errcode)).toEqual([0, 42001, 0]);
    expect(h.sandbox.sent.get('o_user')).toHaveLength(2);
  });

  it('should refresh and retry once on 40001 when another client took a new token past the overlap window', async () => {
    const clock = fixedClock(T0);
    h = await startHarness({ clock });
    h.sandbox.follow('o_user');
    await h.api.user.info('o_user');
    // An unrelated client fetches a token directly (ends ours after the 300 s overlap).
    const { appId, appSecret } = h.sandbox.credentials;
    await axios.get(`${h.sandbox.url}/cgi-bin/token`, { params: { grant_type: 'client_credential', appid: appId, secret: appSecret }, proxy: false });
    clock.advance(301 * 1000);
    await h.api.user.info('o_user');
    expect(callsTo('/cgi-bin/user/info').map((c) => c.errcode)).toEqual([0, 40001, 0]);
    expect(h.sandbox.tokenFetches).toBe(3);
  });

  it('should retry a token error only once', async () => {
    h = await startHarness();
    h.sandbox.route('GET', '/cgi-bin/user/info', () => {
      throw new SandboxApiError(40001, 'invalid credential, access_token is invalid or not latest');
    });
    const err = await caught(() => h.api.user.info('o_user'));
    expect(err).toBeInstanceOf(WeChatApiError);
    expect((err as WeChatApiError).errcode).toBe(40001);
    expect((err as WeChatApiError).isTokenError).toBe(true);
    expect(callsTo('/cgi-bin/user/info')).toHaveLength(2);
    expect(h.sandbox.tokenFetches).toBe(2);
  });

  it('should retry once after a short delay when WeChat is busy (-1)', async () => {
    h = await startHarness();
    h.sandbox.follow('o_user');
    h.sandbox.faults.failNext('error', { path: '/cgi-bin/user/info' });
    await expect(h.api.user.info('o_user')).resolves.toMatchObject({ subscribe: 1 });
    expect(callsTo('/cgi-bin/user/info').map((c) => c.errcode)).toEqual([-1, 0]);

    h.sandbox.faults.failNext('error', { path: '/cgi-bin/user/info', count: 2 });
    const err = (await caught(() => h.api.user.info('o_user'))) as WeChatApiError;
    expect(err).toBeInstanceOf(WeChatApiError);
    expect(err.errcode).toBe(-1);
    expect(err.hint).toMatch(/busy/);
  });

  it('should raise WeChatHttpError with the status on 5xx, without retrying', async () => {
    h = await startHarness();
    await h.tokens.get();
    h.sandbox.faults.failNext('http5xx', { path: '/cgi-bin/menu/get' });
    const err = (await caught(() => h.api.menu.get())) as WeChatHttpError;
    expect(err).toBeInstanceOf(WeChatHttpError);
    expect([502, 503]).toContain(err.status);
    expect(err.endpoint).toBe('/cgi-bin/menu/get');
    expect(callsTo('/cgi-bin/menu/get')).toHaveLength(1);
  });

  it('should raise WeChatHttpError on a connection reset', async () => {
    h = await startHarness();
    await h.tokens.get();
    h.sandbox.faults.failNext('reset', { path: '/cgi-bin/menu/get' });
    const err = (await caught(() => h.api.menu.get())) as WeChatHttpError;
    expect(err).toBeInstanceOf(WeChatHttpError);
    expect(err.cause.code).toBe('ECONNRESET');
    expect(err.status).toBeUndefined();
  });

  it('should raise WeChatHttpError when WeChat does not answer in time', async () => {
    h = await startHarness({ client: { timeoutMs: 150 } });
    await h.tokens.get();
    h.sandbox.faults.failNext('timeout', { path: '/cgi-bin/menu/get' });
    const err = (await caught(() => h.api.menu.get())) as WeChatHttpError;
    expect(err).toBeInstanceOf(WeChatHttpError);
    expect(err.cause.code).toBe('ECONNABORTED');
    expect(err.message).toMatch(/timeout/);
  });

  it('should raise WeChatHttpError with status 404 for an endpoint WeChat does not have', async () => {
    h = await startHarness();
    const err = (await caught(() => h.api.request('GET', '/cgi-bin/not-an-endpoint'))) as WeChatHttpError;
    expect(err).toBeInstanceOf(WeChatHttpError);
    expect(err.status).toBe(404);
  });

  it('should never put the token or the secret in errors or log lines', async () => {
    h = await startHarness({ client: { timeoutMs: 150 } });
    h.sandbox.touch('o_user');
    const token = await h.tokens.get();
    const errors: unknown[] = [];
    for (const kind of ['reset', 'timeout', 'http5xx'] as const) {
      h.sandbox.faults.failNext(kind, { path: '/cgi-bin/message/custom/send' });
      errors.push(await caught(() => h.api.customMessage.text('o_user', 'x')));
    }
    errors.push(await caught(() => h.api.customMessage.text('o_unknown', 'x')));
    h.sandbox.unfollow('o_user');
    errors.push(await caught(() => h.api.customMessage.text('o_user', 'x')));
    h.sandbox.expireTokens();
    await h.api.menu.delete(); // 42001 + retry, logged
    const token2 = await h.tokens.get();
    expect(errors).toHaveLength(5);
    for (const err of errors) {
      const texts = [String(err), (err as Error).message, JSON.stringify(err), String((err as Error).stack), JSON.stringify((err as { cause?: unknown }).cause ?? null)];
      for (const t of texts) {
        expect(t).not.toContain(token);
        expect(t).not.toContain('access_token=');
        expect(t).not.toContain(h.sandbox.credentials.appSecret);
      }
    }
    expect(h.log.lines.length).toBeGreaterThanOrEqual(6);
    for (const line of h.log.lines) {
      expect(line).not.toContain(token);
      expect(line).not.toContain(token2);
      expect(line).not.toContain(h.sandbox.credentials.appSecret);
    }
  });

  it('should behave the same under the same fault seed', async () => {
    const outcomes: string[][] = [];
    for (let run = 0; run < 2; run++) {
      h = await startHarness();
      await h.tokens.get();
      h.sandbox.faults.set({ http5xxRate: 0.3, resetRate: 0.2, seed: 7, paths: ['/cgi-bin/menu/delete'] });
      const seen: string[] = [];
      for (let i = 0; i < 20; i++) {
        try {
          await h.api.menu.delete();
          seen.push('ok');
        } catch (err) {
          seen.push(err instanceof WeChatHttpError ? String(err.status ?? err.cause.code) : 'other');
        }
      }
      outcomes.push(seen);
      await h.close();
    }
    expect(outcomes[0]).toEqual(outcomes[1]);
    expect(new Set(outcomes[0]).size).toBeGreaterThanOrEqual(3); // ok, a 5xx and a reset all occurred
  });
});
