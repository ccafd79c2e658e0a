/**
 * The WeChat official-account API client: one request function over an injected axios instance and base
 * URL, grouped by WeChat area (`api.customMessage`, `api.menu`, `api.qrcode`, `api.ticket`, `api.user`,
 * `api.card`).
 *
 * The request function injects `access_token`, sends JSON bodies as raw UTF-8 (`JSON.stringify`, never
 * `\uXXXX` escapes, which WeChat rejects with 40033), decodes `errcode`, and:
 * - on 40001/40014/42001 invalidates the token that failed (only if it is still the cached one) and
 *   retries once with a fresh token;
 * - on −1 (system busy) retries once after a short delay.
 * Failures are {@link WeChatApiError} (WeChat said no) or {@link WeChatHttpError} (not reached); neither
 * carries the token. Logs name the endpoint path only.
 *
 * @example
 * const api = createApiClient({ baseUrl: settings.wechat.apiBase, tokens, log });
 * await api.customMessage.text('OPENID', '你好');
 * @see https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Overview.html
 */
import axios, { type AxiosInstance } from 'axios';
import type { Clock } from '../lib/clock';
import { systemClock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import { silentLogger } from '../lib/logger';
import { createMemoryStore } from '../store/memory';
import type { KeyValueStore } from '../store/ports';
import type { TokenProvider } from './access-token';
import { type CardApi, createCardApi } from './card';
import { type CustomMessageApi, createCustomMessageApi } from './custom-message';
import { TOKEN_ERRCODES, WeChatApiError, WeChatHttpError, toHttpError } from './errors';
import { type MenuApi, createMenuApi } from './menu';
import { type QrCodeApi, createQrCodeApi } from './qrcode';
import { type TicketApi, createTicketApi } from './ticket';
import { type UserApi, createUserApi } from './user';

// === Types

/** The methods WeChat's official-account API uses. */
export type HttpMethod = 'GET' | 'POST';

/** Query and JSON body of one request. */
export interface RequestOptions {
  /** Query parameters (besides `access_token`, which is added). Undefined values are dropped. */
  query?: Record<string, string | number | boolean | undefined>;
  /** JSON body, serialized with `JSON.stringify` (raw UTF-8). */
  body?: unknown;
}

/** A decoded successful answer: WeChat's JSON, `errcode` 0 or absent. */
export type ApiResult = Record<string, unknown>;

/**
 * The one request function every area goes through.
 * `endpoint` is a path such as `/cgi-bin/menu/create` (with or without the leading slash).
 */
export type ApiRequest = <T = ApiResult>(method: HttpMethod, endpoint: string, options?: RequestOptions) => Promise<T>;

/** The client: the request function and the areas built on it. */
export interface ApiClient {
  request: ApiRequest;
  /** The AppID whose token the client uses. */
  readonly appId: string;
  customMessage: CustomMessageApi;
  menu: MenuApi;
  qrcode: QrCodeApi;
  ticket: TicketApi;
  user: UserApi;
  card: CardApi;
}

/** Options of {@link createApiClient}. */
export interface ApiClientOptions {
  /** WECHAT_API_BASE: https://api.weixin.qq.com or a sandbox URL. */
  baseUrl: string;
  tokens: TokenProvider;
  /** Injected axios instance (default: a new one with proxies disabled). */
  http?: AxiosInstance;
  /** Per-request timeout (default 10 000 ms). */
  timeoutMs?: number;
  log?: Logger;
  /** Where tickets (JS-API card ticket) are cached; default an in-process store. Pass the shared store.kv. */
  store?: KeyValueStore;
  clock?: Clock;
  /** Delay before the one retry on −1 "system busy" (default 300 ms). */
  busyRetryDelayMs?: number;
}

// === Factory

/**
 * Builds the API client. Validates options when built.
 *
 * @example
 * const api = createApiClient({ baseUrl: 'https://api.weixin.qq.com', tokens, store: store.kv });
 * const { showUrl } = await api.qrcode.create({ scene: 'spring-campaign', expireSeconds: 86400 });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html
 */
export function createApiClient(options: ApiClientOptions): ApiClient {
  if (!options || typeof options !== 'object') throw new TypeError('createApiClient: options are required');
  if (typeof options.baseUrl !== 'string' || !/^https?:\/\//.test(options.baseUrl))
    throw new TypeError('createApiClient: baseUrl must be an http(s) URL');
  const tokens = options.tokens;
  if (!tokens || typeof tokens.get !== 'function' || typeof tokens.invalidate !== 'function')
    throw new TypeError('createApiClient: tokens must be a TokenProvider');
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new TypeError('createApiClient: timeoutMs must be > 0');
  const busyRetryDelayMs = options.busyRetryDelayMs ?? 300;
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const http = options.http ?? axios.create({ proxy: false });
  const log = (options.log ?? silentLogger()).child({ module: 'api' });
  const clock = options.clock ?? systemClock;
  const store = options.store ?? createMemoryStore({ clock }).kv;

  /** One HTTP exchange with a given token; returns the decoded JSON or throws a typed error. */
  async function once(method: HttpMethod, endpoint: string, token: string, opts: RequestOptions): Promise<ApiResult> {
    const params: Record<string, string | number | boolean> = { access_token: token };
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) params[k] = v;
    let res;
    try {
      res = await http.request({
        method,
        url: `${baseUrl}${endpoint}`,
        params,
        data: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        headers: opts.body === undefined ? undefined : { 'Content-Type': 'application/json; charset=utf-8' },
        timeout: timeoutMs,
        responseType: 'text',
        transformResponse: [(d: unknown) => d],
        validateStatus: () => true,
      });
    } catch (err) {
      throw toHttpError(endpoint, err);
    }
    if (res.status < 200 || res.status >= 300)
      throw new WeChatHttpError(endpoint, { name: 'HttpStatusError', message: `HTTP ${res.status}` }, res.status);
    let data: unknown;
    try {
      data = typeof res.data === 'string' ? JSON.parse(res.data) : res.data;
    } catch {
      throw new WeChatHttpError(endpoint, { name: 'BadResponse', message: 'the response is not JSON' }, res.status);
    }
    if (data === null || typeof data !== 'object' || Array.isArray(data))
      throw new WeChatHttpError(endpoint, { name: 'BadResponse', message: 'the response is not a JSON object' }, res.status);
    const body = data as ApiResult;
    const errcode = body.errcode;
    if (typeof errcode === 'number' && errcode !== 0) throw new WeChatApiError(errcode, String(body.errmsg ?? ''), endpoint);
    return body;
  }

  const request: ApiRequest = async function request<T = ApiResult>(
    method: HttpMethod,
    endpointIn: string,
    opts: RequestOptions = {},
  ): Promise<T> {
    const endpoint = endpointIn.startsWith('/') ? endpointIn : `/${endpointIn}`;
    if (endpoint.includes('?')) throw new TypeError(`request: pass query parameters in options.query, not in the endpoint (${endpoint.split('?')[0]})`);
    let tokenRetried = false;
    let busyRetried = false;
    for (;;) {
      const token = await tokens.get();
      const started = Date.now();
      try {
        const result = await once(method, endpoint, token, opts);
        log.debug({ endpoint, method, ms: Date.now() - started }, 'wechat api ok');
        return result as T;
      } catch (err) {
        const ms = Date.now() - started;
        if (err instanceof WeChatApiError) {
          if (TOKEN_ERRCODES.has(err.errcode) && !tokenRetried) {
            tokenRetried = true;
            log.warn({ endpoint, errcode: err.errcode, ms }, 'access token rejected; refreshing and retrying once');
            await tokens.invalidate(token);
            continue;
          }
          if (err.errcode === -1 && !busyRetried) {
            busyRetried = true;
            log.warn({ endpoint, errcode: -1, ms }, 'wechat busy; retrying once');
            await delay(busyRetryDelayMs);
            continue;
          }
          // Thrown to the caller, who decides whether it matters (menu.get expects 46003): debug only.
          log.debug({ endpoint, errcode: err.errcode, errmsg: err.errmsg, ms }, 'wechat api error');
        } else if (err instanceof WeChatHttpError) {
          log.debug({ endpoint, status: err.status, cause: err.cause, ms }, 'wechat api not reached');
        }
        throw err;
      }
    }
  };

  return {
    request,
    appId: tokens.appId,
    customMessage: createCustomMessageApi(request),
    menu: createMenuApi(request),
    qrcode: createQrCodeApi(request),
    ticket: createTicketApi({ request, store, appId: tokens.appId, clock }),
    user: createUserApi(request),
    card: createCardApi(request),
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
