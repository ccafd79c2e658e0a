/**
 * Errors of the official-account API client, named for where the failure happened:
 * - {@link WeChatApiError}: WeChat answered, and said no (`errcode` ≠ 0).
 * - {@link WeChatHttpError}: WeChat was not reached, or did not answer with JSON (timeout, reset, 5xx).
 *
 * Neither ever carries the access token or the AppSecret: `endpoint` is the URL **path** only, and the
 * `cause` of a transport failure is rebuilt from the axios error's code and message with every
 * `access_token=` / `secret=` value scrubbed (axios errors carry the full URL and config).
 *
 * @example
 * try { await api.customMessage.text(openId, 'hi'); }
 * catch (err) { if (err instanceof WeChatApiError && err.errcode === 45015) console.log(err.hint); }
 * @see https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html
 */

// === Hints

/**
 * Remediation hints for the codes an operator can act on. Keyed by `errcode`.
 * @see https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html
 */
export const ERRCODE_HINTS: Readonly<Record<number, string>> = {
  [-1]: 'WeChat is busy; retry in a few seconds',
  40001:
    'the access token is invalid or not the latest: another process fetched a new one without sharing it (use one shared store for every instance), or the AppSecret was reset',
  40002: 'grant_type must be client_credential',
  40003: 'the openid does not belong to this official account (or the user never followed it)',
  40008: 'unknown message type for this API',
  40013: 'the AppID is invalid: check WECHAT_APPID (case-sensitive, no stray characters)',
  40014: 'the access token is malformed: refresh it',
  40016: 'the menu must have 1–3 top-level buttons',
  40017: 'a top-level menu button has an unknown or missing type',
  40018: 'a top-level menu button name is empty or longer than 16 bytes',
  40019: 'a top-level menu button key is missing or longer than 128 bytes',
  40020: 'a top-level menu button url is missing or longer than 1024 bytes',
  40022: 'menus nest only one level deep (sub_button inside sub_button is not allowed)',
  40023: 'a sub-menu must have 1–5 buttons',
  40024: 'a sub-menu button has an unknown or missing type',
  40025: 'a sub-menu button name is empty or longer than 60 bytes',
  40026: 'a sub-menu button key is missing or longer than 128 bytes',
  40027: 'a sub-menu button url is missing or longer than 1024 bytes',
  40033: 'non-ASCII text was sent as \\uXXXX escapes; send raw UTF-8 (JSON.stringify does)',
  40125: 'the AppSecret is wrong: check WECHAT_APPSECRET (reset it in the MP admin if it was lost)',
  40164: "add this server's public IP to the API IP whitelist (MP admin → Settings and Development → Basic Configuration)",
  41001: 'the access_token parameter is missing',
  42001: 'the access token expired: refresh it',
  43004: 'the user does not follow the official account',
  44004: 'the text content is empty',
  45008: 'news messages may carry only one article',
  45009: 'the daily quota of this API is used up: wait for the reset at midnight Beijing time, or clear it with /cgi-bin/clear_quota',
  45011: 'calls are too frequent: slow down and retry in a minute',
  45015: 'the follower has not interacted with the account in the last 48 hours, so customer-service messages cannot reach them',
  45047: 'too many customer-service messages since the follower last interacted',
  46003: 'no menu is set on this account',
  47001: 'the request body is not valid JSON for this API',
  48001: 'this API is not authorised for the account (account type, verification or permission missing)',
  50001: 'the user has not authorised this API',
};

/** The token error codes on which the client invalidates the token and retries once. */
export const TOKEN_ERRCODES: ReadonlySet<number> = new Set([40001, 40014, 42001]);

// === Scrubbing

const SECRET_PARAM = /\b(access_token|component_access_token|authorizer_access_token|secret|appsecret|component_appsecret)=[^&\s"'#]*/gi;
const SECRET_JSON = /("(?:access_token|secret|appsecret|component_appsecret)"\s*:\s*")[^"]*"/gi;

/**
 * Removes `access_token=…`, `secret=…` (query strings) and `"secret":"…"` (JSON) values from a text,
 * and every literal in `extra`. Used on anything that might have come from a URL or a request body.
 */
export function scrubText(text: string, extra: readonly string[] = []): string {
  let out = text.replace(SECRET_PARAM, '$1=[redacted]').replace(SECRET_JSON, '$1[redacted]"');
  for (const s of extra) if (s && s.length >= 6 && out.includes(s)) out = out.split(s).join('[redacted]');
  return out;
}

/** Path of a URL or endpoint, without query string or host. */
export function endpointPath(urlOrPath: string): string {
  const noQuery = urlOrPath.split(/[?#]/, 1)[0] ?? '';
  const m = /^[a-z]+:\/\/[^/]+(\/.*)?$/i.exec(noQuery);
  return m ? m[1] || '/' : noQuery;
}

// === Errors

/**
 * WeChat answered with `errcode` ≠ 0. `endpoint` is the path only (e.g. `/cgi-bin/message/custom/send`).
 *
 * @example if (err instanceof WeChatApiError && err.errcode === 40164) log.error(err.hint);
 * @see https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html
 */
export class WeChatApiError extends Error {
  override readonly name = 'WeChatApiError';
  readonly errcode: number;
  readonly errmsg: string;
  readonly endpoint: string;
  /** What an operator can do about it, for known codes. */
  readonly hint?: string;

  constructor(errcode: number, errmsg: string, endpoint: string, hint: string | undefined = ERRCODE_HINTS[errcode]) {
    const path = endpointPath(endpoint);
    const msg = scrubText(String(errmsg ?? ''));
    super(`WeChat API ${path} failed: ${errcode} ${msg}${hint ? ` (hint: ${hint})` : ''}`);
    this.errcode = errcode;
    this.errmsg = msg;
    this.endpoint = path;
    if (hint !== undefined) this.hint = hint;
  }

  /** True for 40001/40014/42001: the token is stale and a refresh may help. */
  get isTokenError(): boolean {
    return TOKEN_ERRCODES.has(this.errcode);
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, message: this.message, errcode: this.errcode, errmsg: this.errmsg, endpoint: this.endpoint, hint: this.hint };
  }
}

/** The sanitized cause of a {@link WeChatHttpError}: never the original axios error (it carries the URL). */
export interface HttpFailureCause {
  name: string;
  /** e.g. ECONNRESET, ECONNABORTED, ETIMEDOUT, ERR_BAD_RESPONSE */
  code?: string;
  message: string;
}

/**
 * WeChat was not reached or did not answer usably: connection refused or reset, timeout, an HTTP
 * status other than 2xx, or a body that is not JSON. The request may or may not have been processed.
 *
 * @example if (err instanceof WeChatHttpError) outbox.retryLater();
 * @see https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html
 */
export class WeChatHttpError extends Error {
  override readonly name = 'WeChatHttpError';
  readonly endpoint: string;
  override readonly cause: HttpFailureCause;
  /** The HTTP status, when WeChat answered with one. */
  readonly status?: number;

  constructor(endpoint: string, cause: HttpFailureCause, status?: number) {
    const path = endpointPath(endpoint);
    const safe: HttpFailureCause = { name: cause.name, message: scrubText(cause.message) };
    if (cause.code !== undefined) safe.code = cause.code;
    super(`WeChat API ${path} not reached: ${status !== undefined ? `HTTP ${status}` : (safe.code ?? safe.name)}: ${safe.message}`);
    this.endpoint = path;
    this.cause = safe;
    if (status !== undefined) this.status = status;
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, message: this.message, endpoint: this.endpoint, status: this.status, cause: this.cause };
  }
}

/**
 * Builds a {@link WeChatHttpError} from whatever axios (or node) threw, keeping only its name, code,
 * message and HTTP status — never its config, request or URL.
 */
export function toHttpError(endpoint: string, err: unknown): WeChatHttpError {
  const e = (err ?? {}) as { name?: unknown; code?: unknown; message?: unknown; response?: { status?: unknown } };
  const cause: HttpFailureCause = {
    name: typeof e.name === 'string' ? e.name : 'Error',
    message: typeof e.message === 'string' ? e.message : String(err),
  };
  if (typeof e.code === 'string') cause.code = e.code;
  const status = typeof e.response?.status === 'number' ? e.response.status : undefined;
  return new WeChatHttpError(endpoint, cause, status);
}
