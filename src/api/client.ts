/**
 * The WeChat official-account API client: one request function over an injected axios instance and base
 * URL, grouped by WeChat area (`api.customMessage`, `api.menu`, `api.qrcode`, `api.ticket`, `api.user`,
 * `api.card`).
 *
 * The request function (`request.ts`: token injection, errcode decoding, one retry on token errors
 * and on −1) is built here from the options; each area file depends only on its types.
 *
 * The ticket cache (`store`) is the caller's: the bot and the CLI pass the shared `store.kv`. The
 * package entry (`src/index.ts`) exports a `createApiClient` whose `store` defaults to an in-process
 * store, for library users who have none; this module picks no store adapter (the API sits below them).
 *
 * @example
 * const api = createApiClient({ baseUrl: settings.wechat.apiBase, tokens, store: store.kv, log });
 * await api.customMessage.text('OPENID', '你好');
 * @see https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Overview.html
 */
import axios, { type AxiosInstance } from 'axios';
import type { Clock } from '../lib/clock';
import { systemClock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import { silentLogger } from '../lib/logger';
import type { KeyValueStore } from '../store/ports';
import type { TokenProvider } from './access-token';
import { type CardApi, createCardApi } from './card';
import { type CustomMessageApi, createCustomMessageApi } from './custom-message';
import { type MenuApi, createMenuApi } from './menu';
import { type QrCodeApi, createQrCodeApi } from './qrcode';
import { type ApiRequest, createApiRequest } from './request';
import { type TicketApi, createTicketApi } from './ticket';
import { type UserApi, createUserApi } from './user';

// === Types

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
  /** Where tickets (JS-API card ticket) are cached: the shared `store.kv` (the package entry defaults it to an in-process store). */
  store: KeyValueStore;
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
  if (typeof options.baseUrl !== 'string' || !/^https?:\/\//.test(options.baseUrl)) throw new TypeError('createApiClient: baseUrl must be an http(s) URL');
  const tokens = options.tokens;
  if (!tokens || typeof tokens.get !== 'function' || typeof tokens.invalidate !== 'function') throw new TypeError('createApiClient: tokens must be a TokenProvider');
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new TypeError('createApiClient: timeoutMs must be > 0');
  const busyRetryDelayMs = options.busyRetryDelayMs ?? 300;
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const http = options.http ?? axios.create({ proxy: false });
  const log = (options.log ?? silentLogger()).child({ module: 'api' });
  const clock = options.clock ?? systemClock;
  const store = options.store;
  if (!store || typeof store.get !== 'function' || typeof store.set !== 'function')
    throw new TypeError('createApiClient: store must be a KeyValueStore (the shared store.kv)');

  const request = createApiRequest({ baseUrl, tokens, http, timeoutMs, busyRetryDelayMs, log });

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
