/**
 * The access token of an official account, cached in the shared store with its expiry.
 *
 * - Early refresh: a token is treated as expired `earlyRefreshSeconds` (default 300) before WeChat says.
 * - Single flight per process: concurrent `get()` callers share one refresh (`this.refreshing ??= …`).
 * - A short store lock across processes (`kv.setIfAbsent(lockKey)`): only the lock holder fetches; the
 *   others poll the store for its token. So two instances never invalidate each other's token (a new
 *   `/cgi-bin/token` fetch ends the previous token's life after WeChat's overlap window).
 * - `invalidate(failed)` deletes the stored token only if it is still the one that failed
 *   (`kv.deleteIfEquals`): another instance may already have stored a fresh one.
 *
 * @example
 * const tokens = createTokenProvider({ appId, appSecret, baseUrl: settings.wechat.apiBase, store: store.kv });
 * const api = createApiClient({ baseUrl: settings.wechat.apiBase, tokens, store: store.kv });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Get_access_token.html
 * @see https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/getStableAccessToken.html
 */
import axios, { type AxiosInstance } from 'axios';
import { randomBytes } from 'node:crypto';
import type { Clock } from '../lib/clock';
import { systemClock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import { silentLogger } from '../lib/logger';
import type { KeyValueStore } from '../store/ports';
import { WeChatApiError, WeChatHttpError, scrubText, toHttpError } from './errors';

// === The port

/** What {@link TokenProvider.status} reports: never the token itself. */
export interface TokenStatus {
  /** True when a token is cached and not within the early-refresh margin. */
  cached: boolean;
  /** Epoch ms when WeChat will expire the cached token. */
  expiresAt?: number;
}

/**
 * Where the API client gets its access token. An interface, so the same client works with another
 * account's token: for a third-party platform (component) acting for an authorizer, implement it over
 * `api_authorizer_token` (the authorizer access token is used in place of `access_token` on the same
 * endpoints: menu, custom send, card …) and pass it to `createApiClient({ tokens })`.
 *
 * @example
 * const authorizerTokens: TokenProvider = {
 *   appId: authorizerAppId,
 *   get: () => component.authorizerToken(authorizerAppId),
 *   invalidate: (failed) => component.invalidateAuthorizerToken(authorizerAppId, failed),
 *   status: async () => ({ cached: true }),
 * };
 * @see https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/ThirdParty/token/api_authorizer_token.html
 */
export interface TokenProvider {
  /** The AppID whose token this is (namespaces other caches, such as the card ticket). */
  readonly appId: string;
  /** A valid token, from the cache or freshly fetched. */
  get(): Promise<string>;
  /** Forget `failed` (WeChat rejected it with 40001/40014/42001) — only if it is still the cached one. */
  invalidate(failed: string): Promise<void>;
  /** Whether a token is cached and until when. Never returns the token. */
  status(): Promise<TokenStatus>;
}

// === Options

/** Options of {@link createTokenProvider}. */
export interface TokenProviderOptions {
  appId: string;
  appSecret: string;
  /** WECHAT_API_BASE, e.g. https://api.weixin.qq.com or a sandbox URL. */
  baseUrl: string;
  /** Shared by every instance of the bot (SQLite, Redis …), so they share one token. */
  store: KeyValueStore;
  http?: AxiosInstance;
  clock?: Clock;
  /** Use `POST /cgi-bin/stable_token` instead of `GET /cgi-bin/token`. */
  stable?: boolean;
  /** Treat a token as expired this many seconds early (default 300). */
  earlyRefreshSeconds?: number;
  /** How long the cross-process refresh lock lives (default 10 s); losers poll this long at most. */
  lockTtlSeconds?: number;
  /** How often a process that lost the lock polls the store (default 25 ms). */
  pollIntervalMs?: number;
  /** Request timeout of the token fetch (default 10 000 ms). */
  timeoutMs?: number;
  log?: Logger;
}

interface StoredToken {
  token: string;
  /** epoch ms, as WeChat said (without the early margin) */
  expiresAt: number;
}

/** Store key of the token of `appId` (adapters add their own namespace prefix). */
export function accessTokenKey(appId: string): string {
  return `wechat:access_token:${appId}`;
}

// === Factory

/**
 * Builds the store-backed {@link TokenProvider}. Validates options when built.
 *
 * @example const tokens = createTokenProvider({ appId, appSecret, baseUrl, store: store.kv, stable: true });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Get_access_token.html
 */
export function createTokenProvider(options: TokenProviderOptions): TokenProvider {
  if (!options || typeof options !== 'object') throw new TypeError('createTokenProvider: options are required');
  if (typeof options.appId !== 'string' || options.appId.trim() === '') throw new TypeError('createTokenProvider: appId is required');
  if (typeof options.appSecret !== 'string' || options.appSecret === '') throw new TypeError('createTokenProvider: appSecret is required');
  if (typeof options.baseUrl !== 'string' || !/^https?:\/\//.test(options.baseUrl)) throw new TypeError('createTokenProvider: baseUrl must be an http(s) URL');
  if (!options.store || typeof options.store.setIfAbsent !== 'function' || typeof options.store.deleteIfEquals !== 'function')
    throw new TypeError('createTokenProvider: store must be a KeyValueStore');
  const early = options.earlyRefreshSeconds ?? 300;
  if (!Number.isFinite(early) || early < 0) throw new TypeError('createTokenProvider: earlyRefreshSeconds must be ≥ 0');
  const lockTtl = options.lockTtlSeconds ?? 10;
  if (!Number.isFinite(lockTtl) || lockTtl <= 0) throw new TypeError('createTokenProvider: lockTtlSeconds must be > 0');
  return new StoreTokenProvider(options, early, lockTtl);
}

class StoreTokenProvider implements TokenProvider {
  readonly appId: string;
  private readonly appSecret: string;
  private readonly baseUrl: string;
  private readonly kv: KeyValueStore;
  private readonly http: AxiosInstance;
  private readonly clock: Clock;
  private readonly stable: boolean;
  private readonly earlyMs: number;
  private readonly lockTtlSeconds: number;
  private readonly pollIntervalMs: number;
  private readonly timeoutMs: number;
  private readonly log: Logger;
  private readonly key: string;
  private readonly lockKey: string;
  private refreshing: Promise<string> | undefined;
  /** Stable-token mode: the token that last failed, so a fetch returning it again forces a refresh. */
  private lastFailed: string | undefined;

  constructor(o: TokenProviderOptions, earlyRefreshSeconds: number, lockTtlSeconds: number) {
    this.appId = o.appId;
    this.appSecret = o.appSecret;
    this.baseUrl = o.baseUrl.replace(/\/+$/, '');
    this.kv = o.store;
    this.http = o.http ?? axios.create({ proxy: false });
    this.clock = o.clock ?? systemClock;
    this.stable = o.stable ?? false;
    this.earlyMs = earlyRefreshSeconds * 1000;
    this.lockTtlSeconds = lockTtlSeconds;
    this.pollIntervalMs = o.pollIntervalMs ?? 25;
    this.timeoutMs = o.timeoutMs ?? 10_000;
    this.log = (o.log ?? silentLogger()).child({ module: 'api', component: 'access-token' });
    this.key = accessTokenKey(o.appId);
    this.lockKey = `${this.key}:lock`;
  }

  async get(): Promise<string> {
    const cached = await this.readFresh();
    if (cached) return cached.token;
    this.refreshing ??= this.refresh().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  async invalidate(failed: string): Promise<void> {
    if (this.stable) this.lastFailed = failed;
    const raw = await this.kv.get(this.key);
    if (raw === undefined) return;
    const parsed = parseStored(raw);
    if (parsed && parsed.token !== failed) return; // another instance already refreshed it
    const deleted = await this.kv.deleteIfEquals(this.key, raw);
    this.log.info({ appId: this.appId, deleted }, 'access token invalidated');
  }

  async status(): Promise<TokenStatus> {
    const raw = await this.kv.get(this.key);
    const parsed = raw === undefined ? undefined : parseStored(raw);
    if (!parsed) return { cached: false };
    return { cached: parsed.expiresAt - this.earlyMs > this.clock.now(), expiresAt: parsed.expiresAt };
  }

  // === Refresh

  private async readFresh(): Promise<StoredToken | undefined> {
    const raw = await this.kv.get(this.key);
    const parsed = raw === undefined ? undefined : parseStored(raw);
    if (!parsed || parsed.expiresAt - this.earlyMs <= this.clock.now()) return undefined;
    return parsed;
  }

  /** One refresh of this process: take the store lock and fetch, or wait for the holder's token. */
  private async refresh(): Promise<string> {
    const deadline = Date.now() + this.lockTtlSeconds * 1000 * 2;
    for (;;) {
      const fresh = await this.readFresh();
      if (fresh) return fresh.token;
      const lockValue = randomBytes(12).toString('hex');
      if (await this.kv.setIfAbsent(this.lockKey, lockValue, this.lockTtlSeconds)) {
        try {
          // Another process may have stored a token between our read and our lock.
          const again = await this.readFresh();
          if (again) return again.token;
          return await this.fetchAndStore();
        } finally {
          await this.kv.deleteIfEquals(this.lockKey, lockValue).catch(() => false);
        }
      }
      // Another process holds the lock: poll for its token until the lock goes away.
      const token = await this.waitForHolder();
      if (token) return token;
      if (Date.now() > deadline)
        throw new WeChatHttpError(this.tokenEndpoint(), { name: 'TokenLockTimeout', message: 'timed out waiting for another process to refresh the access token' });
    }
  }

  /** Polls the store while the lock is held; returns the token the holder stored, or undefined if the lock vanished. */
  private async waitForHolder(): Promise<string | undefined> {
    const attempts = Math.ceil((this.lockTtlSeconds * 1000) / this.pollIntervalMs) + 1;
    for (let i = 0; i < attempts; i++) {
      await delay(this.pollIntervalMs);
      const fresh = await this.readFresh();
      if (fresh) return fresh.token;
      if ((await this.kv.get(this.lockKey)) === undefined) return undefined;
    }
    return undefined;
  }

  private tokenEndpoint(): string {
    return this.stable ? '/cgi-bin/stable_token' : '/cgi-bin/token';
  }

  private async fetchAndStore(): Promise<string> {
    let got = await this.fetchToken(false);
    if (this.stable && this.lastFailed !== undefined && got.token === this.lastFailed) {
      // The stable endpoint handed back the token WeChat just rejected: force a new one.
      got = await this.fetchToken(true);
    }
    this.lastFailed = undefined;
    const now = this.clock.now();
    const stored: StoredToken = { token: got.token, expiresAt: now + got.expiresIn * 1000 };
    const ttl = Math.max(1, got.expiresIn);
    await this.kv.set(this.key, JSON.stringify(stored), ttl);
    this.log.info({ appId: this.appId, endpoint: this.tokenEndpoint(), expiresIn: got.expiresIn }, 'access token refreshed');
    return got.token;
  }

  private async fetchToken(forceRefresh: boolean): Promise<{ token: string; expiresIn: number }> {
    const endpoint = this.tokenEndpoint();
    const started = Date.now();
    let data: unknown;
    try {
      const res = this.stable
        ? await this.http.request({
            method: 'POST',
            url: `${this.baseUrl}${endpoint}`,
            data: JSON.stringify({ grant_type: 'client_credential', appid: this.appId, secret: this.appSecret, force_refresh: forceRefresh }),
            headers: { 'Content-Type': 'application/json; charset=utf-8' },
            timeout: this.timeoutMs,
            responseType: 'text',
            transformResponse: [(d: unknown) => d],
            validateStatus: () => true,
          })
        : await this.http.request({
            method: 'GET',
            url: `${this.baseUrl}${endpoint}`,
            params: { grant_type: 'client_credential', appid: this.appId, secret: this.appSecret },
            timeout: this.timeoutMs,
            responseType: 'text',
            transformResponse: [(d: unknown) => d],
            validateStatus: () => true,
          });
      if (res.status < 200 || res.status >= 300) throw new WeChatHttpError(endpoint, { name: 'HttpStatusError', message: `HTTP ${res.status}` }, res.status);
      data = parseJson(res.data);
      if (data === undefined) throw new WeChatHttpError(endpoint, { name: 'BadResponse', message: 'the response is not JSON' }, res.status);
    } catch (err) {
      if (err instanceof WeChatHttpError) throw this.logged(err, started);
      throw this.logged(toHttpError(endpoint, scrubError(err, this.appSecret)), started);
    }
    const body = data as { access_token?: unknown; expires_in?: unknown; errcode?: unknown; errmsg?: unknown };
    if (typeof body.errcode === 'number' && body.errcode !== 0) {
      throw this.logged(new WeChatApiError(body.errcode, scrubText(String(body.errmsg ?? ''), [this.appSecret]), endpoint), started);
    }
    if (typeof body.access_token !== 'string' || body.access_token === '' || typeof body.expires_in !== 'number')
      throw this.logged(new WeChatHttpError(endpoint, { name: 'BadResponse', message: 'no access_token/expires_in in the response' }), started);
    return { token: body.access_token, expiresIn: body.expires_in };
  }

  private logged<E extends Error>(err: E, started: number): E {
    this.log.warn({ appId: this.appId, ms: Date.now() - started, err }, 'access token fetch failed');
    return err;
  }
}

// === Helpers

function parseStored(raw: string): StoredToken | undefined {
  try {
    const v = JSON.parse(raw) as Partial<StoredToken>;
    if (typeof v.token === 'string' && typeof v.expiresAt === 'number') return { token: v.token, expiresAt: v.expiresAt };
  } catch {
    /* not ours */
  }
  return undefined;
}

function parseJson(data: unknown): unknown {
  if (typeof data !== 'string') return data;
  try {
    return JSON.parse(data) as unknown;
  } catch {
    return undefined;
  }
}

/** Keeps only name/code/message of an error (scrubbed of the secret), never its config or URL. */
function scrubError(err: unknown, secret: string): { name?: string; code?: string; message: string; response?: { status?: number } } {
  const e = (err ?? {}) as { name?: unknown; code?: unknown; message?: unknown; response?: { status?: unknown } };
  return {
    name: typeof e.name === 'string' ? e.name : 'Error',
    code: typeof e.code === 'string' ? e.code : undefined,
    message: scrubText(typeof e.message === 'string' ? e.message : String(err), [secret]),
    response: typeof e.response?.status === 'number' ? { status: e.response.status } : undefined,
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
