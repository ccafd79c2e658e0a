import { createTokenProvider, accessTokenKey } from '../../src/api/access-token';
import { WeChatApiError } from '../../src/api/errors';
import { fixedClock } from '../../src/lib/clock';
import { createMemoryStore } from '../../src/store/memory';
import { startApiSandbox, type ApiSandbox } from '../../src/sandbox/api-server';
import { captureLog, caught } from './helpers/api-harness';

const T0 = Date.parse('2026-03-01T08:00:00+08:00');

describe('createTokenProvider', () => {
  let sandbox: ApiSandbox;
  afterEach(async () => {
    await sandbox?.close();
  });

  function provider(extra: Partial<Parameters<typeof createTokenProvider>[0]> & { store: Parameters<typeof createTokenProvider>[0]['store'] }) {
    return createTokenProvider({
      appId: sandbox.credentials.appId,
      appSecret: sandbox.credentials.appSecret,
      baseUrl: sandbox.url,
      pollIntervalMs: 5,
      ...extra,
    });
  }

  it('should reject invalid options when built', () => {
    const store = createMemoryStore().kv;
    expect(() => createTokenProvider({ appId: '', appSecret: 's', baseUrl: 'http://x', store })).toThrow(/appId/);
    expect(() => createTokenProvider({ appId: 'wx1', appSecret: '', baseUrl: 'http://x', store })).toThrow(/appSecret/);
    expect(() => createTokenProvider({ appId: 'wx1', appSecret: 's', baseUrl: 'ftp://x', store })).toThrow(/baseUrl/);
    expect(() => createTokenProvider({ appId: 'wx1', appSecret: 's', baseUrl: 'http://x', store: {} as never })).toThrow(/store/);
    expect(() => createTokenProvider({ appId: 'wx1', appSecret: 's', baseUrl: 'http://x', store, earlyRefreshSeconds: -1 })).toThrow(/earlyRefresh/);
  });

  it('should fetch once when many callers ask at the same time', async () => {
    sandbox = await startApiSandbox();
    const tokens = provider({ store: createMemoryStore().kv });
    const got = await Promise.all(Array.from({ length: 25 }, () => tokens.get()));
    expect(new Set(got).size).toBe(1);
    expect(sandbox.tokenFetches).toBe(1);
    expect(sandbox.isTokenValid(got[0])).toBe(true);
  });

  it('should serve the cached token until the early-refresh margin, then refresh', async () => {
    const clock = fixedClock(T0);
    sandbox = await startApiSandbox({ clock });
    const tokens = provider({ store: createMemoryStore({ clock }).kv, clock, earlyRefreshSeconds: 300 });
    const first = await tokens.get();
    clock.advance((7200 - 300 - 1) * 1000);
    expect(await tokens.get()).toBe(first);
    expect(sandbox.tokenFetches).toBe(1);
    clock.advance(2000);
    const second = await tokens.get();
    expect(second).not.toBe(first);
    expect(sandbox.tokenFetches).toBe(2);
    // WeChat's overlap window: the previous token still works for a while.
    expect(sandbox.isTokenValid(first)).toBe(true);
  });

  it('should let two instances sharing one store fetch once', async () => {
    sandbox = await startApiSandbox();
    const shared = createMemoryStore().kv;
    const a = provider({ store: shared });
    const b = provider({ store: shared });
    const got = await Promise.all([a.get(), b.get(), a.get(), b.get()]);
    expect(new Set(got).size).toBe(1);
    expect(sandbox.tokenFetches).toBe(1);
    // Later callers of either instance keep using it.
    expect(await b.get()).toBe(got[0]);
    expect(sandbox.tokenFetches).toBe(1);
  });

  it('should wait for the lock holder and take over when it dies', async () => {
    sandbox = await startApiSandbox();
    const shared = createMemoryStore().kv;
    // A crashed process left its lock behind (1 s TTL).
    await shared.setIfAbsent(`${accessTokenKey(sandbox.credentials.appId)}:lock`, 'dead-process', 1);
    const tokens = provider({ store: shared, lockTtlSeconds: 1, pollIntervalMs: 20 });
    const token = await tokens.get();
    expect(sandbox.isTokenValid(token)).toBe(true);
    expect(sandbox.tokenFetches).toBe(1);
  });

  it('should invalidate the stored token only while it is still the one that failed', async () => {
    sandbox = await startApiSandbox();
    const shared = createMemoryStore().kv;
    const a = provider({ store: shared });
    const b = provider({ store: shared });
    const t1 = await a.get();
    await b.invalidate(t1); // b saw t1 fail
    const t2 = await b.get(); // b refreshed
    expect(t2).not.toBe(t1);
    await a.invalidate(t1); // a's report of t1 arrives late: must not drop t2
    expect(await a.get()).toBe(t2);
    expect(sandbox.tokenFetches).toBe(2);
  });

  it('should report status without the token', async () => {
    const clock = fixedClock(T0);
    sandbox = await startApiSandbox({ clock });
    const tokens = provider({ store: createMemoryStore({ clock }).kv, clock });
    expect(await tokens.status()).toEqual({ cached: false });
    const token = await tokens.get();
    const status = await tokens.status();
    expect(status).toEqual({ cached: true, expiresAt: T0 + 7200 * 1000 });
    expect(JSON.stringify(status)).not.toContain(token);
    clock.advance(7000 * 1000); // inside the early-refresh margin
    expect((await tokens.status()).cached).toBe(false);
  });

  it('should fail with WeChatApiError 40125 and a hint when the AppSecret is wrong, without the secret', async () => {
    sandbox = await startApiSandbox();
    const log = captureLog();
    const wrongSecret = 'wrong-secret-value-123456';
    const tokens = provider({ store: createMemoryStore().kv, appSecret: wrongSecret, log: log.logger });
    const err = await caught(() => tokens.get());
    expect(err).toBeInstanceOf(WeChatApiError);
    const e = err as WeChatApiError;
    expect(e.errcode).toBe(40125);
    expect(e.endpoint).toBe('/cgi-bin/token');
    expect(e.hint).toMatch(/AppSecret is wrong/);
    for (const text of [e.message, JSON.stringify(e), String(e.stack), log.text()]) expect(text).not.toContain(wrongSecret);
    expect(log.lines.length).toBeGreaterThan(0);
  });

  it('should fail with 40013 for a wrong AppID and 40164 with the whitelist hint for a foreign IP', async () => {
    sandbox = await startApiSandbox({ ipWhitelist: ['203.0.113.7'] });
    const wrongId = await caught(() => provider({ store: createMemoryStore().kv, appId: 'wx0000000000000bad' }).get());
    expect((wrongId as WeChatApiError).errcode).toBe(40013);
    const ip = (await caught(() => provider({ store: createMemoryStore().kv }).get())) as WeChatApiError;
    expect(ip.errcode).toBe(40164);
    expect(ip.hint).toMatch(/whitelist/);
  });

  it('should use the stable-token endpoint and force a refresh when it hands back the failed token', async () => {
    sandbox = await startApiSandbox();
    const shared = createMemoryStore().kv;
    const tokens = provider({ store: shared, stable: true });
    const t1 = await tokens.get();
    expect(sandbox.calls.filter((c) => c.path === '/cgi-bin/stable_token')).toHaveLength(1);
    expect(sandbox.calls.some((c) => c.path === '/cgi-bin/token')).toBe(false);
    // The stable endpoint returns the same token while it is valid ...
    await shared.delete(accessTokenKey(sandbox.credentials.appId));
    expect(await tokens.get()).toBe(t1);
    // ... so after WeChat rejected it, the provider asks for a forced refresh.
    await tokens.invalidate(t1);
    const t2 = await tokens.get();
    expect(t2).not.toBe(t1);
    expect(sandbox.isTokenValid(t1)).toBe(false);
    expect(sandbox.isTokenValid(t2)).toBe(true);
  });

  it('should write no token and no secret to any log line', async () => {
    sandbox = await startApiSandbox();
    const log = captureLog();
    const tokens = provider({ store: createMemoryStore().kv, log: log.logger });
    const t1 = await tokens.get();
    await tokens.invalidate(t1);
    const t2 = await tokens.get();
    sandbox.faults.failNext('reset', { path: '/cgi-bin/token' });
    await tokens.invalidate(t2);
    await caught(() => tokens.get());
    expect(log.lines.length).toBeGreaterThanOrEqual(3);
    for (const line of log.lines) {
      expect(line).not.toContain(t1);
      expect(line).not.toContain(t2);
      expect(line).not.toContain(sandbox.credentials.appSecret);
    }
  });
});
