/**
 * The one request function every area of the official-account API goes through (`api.menu`,
 * `api.customMessage`, … are built on it in `client.ts`): it injects `access_token`, sends JSON bodies
 * as raw UTF-8 (`JSON.stringify`, never `\uXXXX` escapes, which WeChat rejects with 40033), decodes
 * `errcode`, and:
 * - on 40001/40014/42001 invalidates the token that failed (only if it is still the cached one) and
 *   retries once with a fresh token;
 * - on −1 (system busy) retries once after a short delay.
 * Failures are {@link WeChatApiError} (WeChat said no) or {@link WeChatHttpError} (not reached); neither
 * carries the token. Logs name the endpoint path only.
 *
 * Area files depend on this module's types only; `client.ts` composes them.
 *
 * @example
 * const request = createApiRequest({ baseUrl, tokens, http: axios.create({ proxy: false }), timeoutMs: 10_000, busyRetryDelayMs: 300, log });
 * await request('POST', '/cgi-bin/menu/create', { body: menu });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html
 */
import type { AxiosInstance } from 'axios';
import type { Logger } from '../lib/logger';
import type { TokenProvider } from './access-token';
import { TOKEN_ERRCODES, WeChatApiError, WeChatHttpError, toHttpError } from './errors';

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

/** What {@link createApiRequest} needs (validated by `createApiClient`). */
export interface ApiRequestOptions {
  /** Base URL without a trailing slash. */
  baseUrl: string;
  tokens: TokenProvider;
  http: AxiosInstance;
  timeoutMs: number;
  busyRetryDelayMs: number;
  /** The `api` child logger. */
  log: Logger;
}

// === Request function

/**
 * Builds the request function over one axios instance and token provider.
 *
 * @example const request = createApiRequest(options); const menu = await request('GET', '/cgi-bin/menu/get');
 * @see https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Get_access_token.html
 */
export function createApiRequest(options: ApiRequestOptions): ApiRequest {
  const { baseUrl, tokens, http, timeoutMs, busyRetryDelayMs, log } = options;

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
    if (res.status < 200 || res.status >= 300) throw new WeChatHttpError(endpoint, { name: 'HttpStatusError', message: `HTTP ${res.status}` }, res.status);
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

  const request: ApiRequest = async function request<T = ApiResult>(method: HttpMethod, endpointIn: string, opts: RequestOptions = {}): Promise<T> {
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

  return request;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
