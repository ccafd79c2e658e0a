/**
 * A loopback stand-in for WeChat's official-account API servers (`api.weixin.qq.com`), faithful where
 * the bot depends on it: access tokens (appid/secret checks, expiry, a new `/cgi-bin/token` token ends
 * the previous one after the overlap window, stable tokens), customer-service messages (token checks,
 * 40003 unknown openid, 45015 outside the 48-hour window, 40033 for `\uXXXX` escapes), menus (WeChat's
 * validation codes), QR codes, JS-API tickets and follower info. Errors carry WeChat's errcode and
 * errmsg (with a ` rid: …` suffix, as WeChat adds).
 *
 * Tests drive it through fault injection (`faults`), `expireTokens()`, `touch(openId)` (a follower
 * interaction) and inspect it (`sent`, `tokenFetches`, `menu`, `calls`). Further endpoints (cards) are
 * added with `route()`.
 *
 * @example
 * const sandbox = await startApiSandbox();
 * sandbox.touch('o_follower');
 * const api = createApiClient({ baseUrl: sandbox.url, tokens: createTokenProvider({ ...sandbox.credentials, baseUrl: sandbox.url, store }) });
 * await api.customMessage.text('o_follower', '你好');
 * sandbox.sent.get('o_follower'); // [{ msgtype: 'text', body: {...} }]
 * await sandbox.close();
 * @see https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Clock } from '../lib/clock';
import { systemClock } from '../lib/clock';
import { SANDBOX_CREDENTIALS } from '../config/settings';
import { Faults, type FaultControl } from './api-faults';
import { checkMenu } from './api-menu-rules';
import { installCardSandbox, type CardSandbox, type CardSandboxOptions } from './api-cards';

// === Public types

/** Options of {@link startApiSandbox}. */
export interface ApiSandboxOptions {
  appId?: string;
  appSecret?: string;
  /** Loopback only (default 127.0.0.1). */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  clock?: Clock;
  /** Lifetime of issued tokens (default 7200 s). */
  tokenTtlSeconds?: number;
  /** How long a `/cgi-bin/token` token stays valid after a newer one is issued (default 300 s). */
  overlapSeconds?: number;
  /** When set, `/cgi-bin/token` and `/cgi-bin/stable_token` answer 40164 to other caller IPs. */
  ipWhitelist?: string[];
  /** Customer-service window after the follower's last interaction (default 48 h). */
  interactionWindowSeconds?: number;
  /** The card sandbox: webhook for emitted card events, auto-approval (see `api-cards.ts`). */
  cards?: CardSandboxOptions;
  /**
   * Playground mode (`npm start` without credentials): an openid the sandbox has never seen counts as
   * a follower who just interacted, so late replies reach simulated followers. Tests leave it off and
   * register followers with `touch()` / `follow()`.
   */
  acceptAnyFollower?: boolean;
  /** How many entries `calls` and each `sent` list keep (oldest dropped first; default 10 000). */
  historyLimit?: number;
}

/** One recorded customer-service message. */
export interface SentCustomMessage {
  openId: string;
  msgtype: string;
  /** The parsed JSON body, as sent. */
  body: Record<string, unknown>;
  /** Epoch ms (sandbox clock). */
  at: number;
}

/** One request the sandbox answered (never the token). */
export interface SandboxCall {
  method: string;
  path: string;
  /** 0 on success, WeChat's errcode otherwise; undefined for faults. */
  errcode?: number;
  fault?: string;
}

/** A follower as the sandbox models it (for 40003 / 45015 and `user/info`). */
export interface SandboxFollower {
  openId: string;
  subscribed: boolean;
  /** Epoch ms of the follow. */
  subscribedAt: number;
  /** Epoch ms of the last interaction (message, click, scan …). */
  lastInteractionAt?: number;
}

/** A request as seen by a sandbox route handler. */
export interface SandboxRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  rawBody: string;
  /** The JSON body; throws the 47001/40033/44002 answers WeChat gives to bad bodies. */
  json(): Record<string, unknown>;
  remoteAddress: string;
}

/** Throw from a route handler to answer `{ errcode, errmsg }`. */
export class SandboxApiError extends Error {
  override readonly name = 'SandboxApiError';
  constructor(
    readonly errcode: number,
    readonly errmsg: string,
  ) {
    super(`${errcode} ${errmsg}`);
  }
}

/** A route handler: returns the JSON answer (sent as is; use {@link SANDBOX_OK} for `{errcode:0,errmsg:'ok'}`), or throws SandboxApiError. */
export type SandboxHandler = (req: SandboxRequest, sandbox: ApiSandbox) => Record<string, unknown> | Promise<Record<string, unknown>>;

/**
 * A running API sandbox: its URL, fault controls, follower controls and inspection.
 * @see https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html
 */
export interface ApiSandbox {
  /** Base URL, e.g. http://127.0.0.1:54321 (use as WECHAT_API_BASE). */
  readonly url: string;
  readonly credentials: { appId: string; appSecret: string };
  readonly faults: FaultControl;
  /** Ends the life of every token issued so far (calls with them get 42001). */
  expireTokens(): void;
  /** Records an interaction of `openId` (following them first if needed), at `atMs` or now. */
  touch(openId: string, atMs?: number): void;
  /** Makes `openId` a follower without an interaction. */
  follow(openId: string, atMs?: number): void;
  unfollow(openId: string): void;
  follower(openId: string): SandboxFollower | undefined;
  /** Customer-service messages delivered, by openid. */
  readonly sent: ReadonlyMap<string, SentCustomMessage[]>;
  /** Typing commands received, in order. */
  readonly typing: readonly { openId: string; command: string }[];
  /** Token endpoint calls that returned a token (`/cgi-bin/token` + `/cgi-bin/stable_token`). */
  readonly tokenFetches: number;
  /** JS-API ticket fetches that returned a ticket. */
  readonly ticketFetches: number;
  /** The current menu as `menu/create` received it, or undefined. */
  readonly menu: { button: unknown[] } | undefined;
  /** QR codes created, in order. */
  readonly qrcodes: readonly { ticket: string; actionName: string; scene: string | number; expireSeconds?: number }[];
  /** Every answered request, in order (paths only, never tokens). */
  readonly calls: readonly SandboxCall[];
  /** Whether `token` would be accepted now (for tests). */
  isTokenValid(token: string): boolean;
  /** Checks the `access_token` of a request as WeChat does; throws SandboxApiError (41001/40014/40001/42001). */
  requireToken(req: SandboxRequest): void;
  /** Adds or replaces an endpoint (e.g. the card issue's `/card/...` routes). Authenticated unless `auth: false`. */
  route(method: 'GET' | 'POST', path: string, handler: SandboxHandler, options?: { auth?: boolean }): void;
  /** Current time of the sandbox clock (epoch ms). */
  now(): number;
  /** Card and sub-merchant endpoints, review flows and the follower's side of cards (`api-cards.ts`). */
  readonly cards: CardSandbox;
  close(): Promise<void>;
}

// === Implementation

interface IssuedToken {
  kind: 'token' | 'stable';
  issuedAt: number;
  expiresAt: number;
  /** When a newer token made this one "not latest" (ms); it still works for the overlap window. */
  supersededAt?: number;
  /** Stable force_refresh ends the previous token at once. */
  revoked?: boolean;
}

interface Route {
  handler: SandboxHandler;
  auth: boolean;
}

/** WeChat's plain success answer. */
export const SANDBOX_OK: Readonly<Record<string, unknown>> = Object.freeze({ errcode: 0, errmsg: 'ok' });

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{16,1024}$/;
/** A `\uXXXX` escape of a non-ASCII character: WeChat answers 40033. */
const NON_ASCII_ESCAPE = /\\u(?:00[89a-fA-F][0-9a-fA-F]|0[1-9a-fA-F][0-9a-fA-F]{2}|[1-9a-fA-F][0-9a-fA-F]{3})/;
const MAX_BODY_BYTES = 1024 * 1024;
const CUSTOM_TYPES = new Set(['text', 'image', 'voice', 'video', 'music', 'news', 'mpnews', 'mpnewsarticle', 'msgmenu', 'wxcard', 'miniprogrampage']);

/**
 * Starts the API sandbox on loopback. Resolves once it listens.
 *
 * @example const sandbox = await startApiSandbox({ clock: fixedClock(Date.now()) });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Get_access_token.html
 */
export async function startApiSandbox(options: ApiSandboxOptions = {}): Promise<ApiSandbox> {
  const appId = options.appId ?? SANDBOX_CREDENTIALS.appId;
  const appSecret = options.appSecret ?? SANDBOX_CREDENTIALS.appSecret;
  const host = options.host ?? '127.0.0.1';
  if (!['127.0.0.1', '::1', 'localhost'].includes(host)) throw new TypeError('startApiSandbox: host must be a loopback address');
  const clock = options.clock ?? systemClock;
  const tokenTtl = options.tokenTtlSeconds ?? 7200;
  const overlap = options.overlapSeconds ?? 300;
  const windowMs = (options.interactionWindowSeconds ?? 48 * 3600) * 1000;
  const historyLimit = options.historyLimit ?? 10_000;
  if (!(tokenTtl > 0)) throw new TypeError('startApiSandbox: tokenTtlSeconds must be > 0');
  if (!(overlap >= 0)) throw new TypeError('startApiSandbox: overlapSeconds must be ≥ 0');

  const faults = new Faults();
  const tokens = new Map<string, IssuedToken>();
  let currentStable: string | undefined;
  let lastForceRefresh = -Infinity;
  const followers = new Map<string, SandboxFollower>();
  const sent = new Map<string, SentCustomMessage[]>();
  const typing: { openId: string; command: string }[] = [];
  const calls: SandboxCall[] = [];
  const qrcodes: { ticket: string; actionName: string; scene: string | number; expireSeconds?: number }[] = [];
  let menu: { button: unknown[] } | undefined;
  let tokenFetches = 0;
  let ticketFetches = 0;
  let ridCounter = 0;
  const routes = new Map<string, Route>();
  const held = new Set<http.ServerResponse>();
  const timers = new Set<NodeJS.Timeout>();

  const rid = () => `${(0x66000000 + ++ridCounter).toString(16)}-${randomBytes(4).toString('hex')}-${randomBytes(4).toString('hex')}`;
  const newToken = () => `SBX_${randomBytes(96).toString('base64url')}`;
  const fail = (errcode: number, errmsg: string): never => {
    throw new SandboxApiError(errcode, errmsg);
  };

  // --- tokens

  function tokenState(token: string): 'ok' | 'expired' | 'not-latest' | 'unknown' {
    const t = tokens.get(token);
    if (!t) return 'unknown';
    const now = clock.now();
    if (t.revoked) return 'not-latest';
    if (now >= t.expiresAt) return 'expired';
    if (t.supersededAt !== undefined && now >= t.supersededAt + overlap * 1000) return 'not-latest';
    return 'ok';
  }

  function requireToken(req: SandboxRequest): void {
    const token = req.query.get('access_token');
    if (token === null || token === '') fail(41001, 'access_token missing');
    if (!TOKEN_SHAPE.test(token as string)) fail(40014, 'invalid access_token');
    const state = tokenState(token as string);
    if (state === 'expired') fail(42001, 'access_token expired');
    if (state !== 'ok') fail(40001, 'invalid credential, access_token is invalid or not latest');
  }

  function checkCredentials(id: string | null | undefined, secret: string | null | undefined, remoteAddress: string): void {
    if (!id) fail(41002, 'appid missing');
    if (!secret) fail(41004, 'appsecret missing');
    if (id !== appId) fail(40013, 'invalid appid');
    if (secret !== appSecret) fail(40125, 'invalid appsecret');
    if (options.ipWhitelist && !options.ipWhitelist.includes(remoteAddress.replace(/^::ffff:/, ''))) {
      const ip = remoteAddress.replace(/^::ffff:/, '');
      fail(40164, `invalid ip ${ip} ipv6 ::ffff:${ip}, not in whitelist`);
    }
  }

  function issueToken(kind: 'token' | 'stable'): string {
    const now = clock.now();
    if (kind === 'token') {
      for (const t of tokens.values()) if (t.kind === 'token' && t.supersededAt === undefined) t.supersededAt = now;
    }
    const token = newToken();
    tokens.set(token, { kind, issuedAt: now, expiresAt: now + tokenTtl * 1000 });
    return token;
  }

  function expiresIn(token: string): number {
    const t = tokens.get(token);
    return t ? Math.max(0, Math.floor((t.expiresAt - clock.now()) / 1000)) : 0;
  }

  // --- followers

  function follow(openId: string, atMs = clock.now()): SandboxFollower {
    const f = followers.get(openId);
    if (f) {
      if (!f.subscribed) {
        f.subscribed = true;
        f.subscribedAt = atMs;
      }
      return f;
    }
    const created: SandboxFollower = { openId, subscribed: true, subscribedAt: atMs };
    followers.set(openId, created);
    return created;
  }

  function known(openId: string): SandboxFollower | undefined {
    const f = followers.get(openId);
    if (f || !options.acceptAnyFollower) return f;
    const created = follow(openId);
    created.lastInteractionAt = clock.now();
    return created;
  }

  function remember<T>(list: T[], item: T): void {
    list.push(item);
    if (list.length > historyLimit) list.splice(0, list.length - historyLimit);
  }

  function requireReachable(openId: unknown): string {
    if (typeof openId !== 'string' || openId === '') return fail(40003, 'invalid openid');
    const f = known(openId);
    if (!f) return fail(40003, 'invalid openid');
    if (!f.subscribed || f.lastInteractionAt === undefined || clock.now() - f.lastInteractionAt > windowMs)
      fail(45015, 'response out of time limit or subscription is canceled');
    return openId;
  }

  // --- routes

  function route(method: 'GET' | 'POST', path: string, handler: SandboxHandler, o: { auth?: boolean } = {}): void {
    routes.set(`${method} ${path}`, { handler, auth: o.auth ?? true });
  }

  route(
    'GET',
    '/cgi-bin/token',
    (req) => {
      const grant = req.query.get('grant_type');
      if (grant !== 'client_credential') fail(40002, 'invalid grant_type');
      checkCredentials(req.query.get('appid'), req.query.get('secret'), req.remoteAddress);
      const token = issueToken('token');
      tokenFetches++;
      return { access_token: token, expires_in: tokenTtl };
    },
    { auth: false },
  );

  route(
    'POST',
    '/cgi-bin/stable_token',
    (req) => {
      const body = req.json();
      if (body.grant_type !== 'client_credential') fail(40002, 'invalid grant_type');
      checkCredentials(body.appid as string, body.secret as string, req.remoteAddress);
      const now = clock.now();
      if (body.force_refresh === true) {
        if (now - lastForceRefresh < 30_000) fail(45011, 'api minute-quota reach limit  mustslower  retry next minute');
        lastForceRefresh = now;
        if (currentStable) {
          const old = tokens.get(currentStable);
          if (old) old.revoked = true;
        }
        currentStable = issueToken('stable');
      } else if (!currentStable || tokenState(currentStable) !== 'ok' || expiresIn(currentStable) < 300) {
        // Normal mode: the same token until 5 minutes before expiry; the old one keeps its own expiry.
        currentStable = issueToken('stable');
      }
      tokenFetches++;
      return { access_token: currentStable, expires_in: expiresIn(currentStable) };
    },
    { auth: false },
  );

  route('POST', '/cgi-bin/message/custom/send', (req) => {
    const body = req.json();
    const openId = requireReachable(body.touser);
    const msgtype = body.msgtype;
    if (typeof msgtype !== 'string' || !CUSTOM_TYPES.has(msgtype)) fail(40008, 'invalid message type');
    const payload = body[msgtype as string] as Record<string, unknown> | undefined;
    if (payload === null || typeof payload !== 'object') fail(47001, 'data format error');
    const p = payload as Record<string, unknown>;
    const need = (field: string, errcode: number, errmsg: string) => {
      if (typeof p[field] !== 'string' || p[field] === '') fail(errcode, errmsg);
    };
    switch (msgtype) {
      case 'text':
        need('content', 44004, 'empty content');
        break;
      case 'image':
      case 'voice':
      case 'video':
      case 'mpnews':
        need('media_id', 40007, 'invalid media_id');
        break;
      case 'music':
        need('thumb_media_id', 40007, 'invalid media_id');
        break;
      case 'news': {
        const articles = p.articles;
        if (!Array.isArray(articles) || articles.length === 0) fail(44003, 'empty news data');
        if ((articles as unknown[]).length > 1) fail(45008, 'article size out of limit');
        break;
      }
      case 'mpnewsarticle':
        need('article_id', 47001, 'data format error');
        break;
      case 'wxcard':
        need('card_id', 40073, 'invalid card id');
        break;
      case 'miniprogrampage':
        need('appid', 47001, 'data format error');
        need('pagepath', 47001, 'data format error');
        break;
      case 'msgmenu':
        if (!Array.isArray(p.list)) fail(47001, 'data format error');
        break;
    }
    const record: SentCustomMessage = { openId, msgtype: msgtype as string, body, at: clock.now() };
    const list = sent.get(openId) ?? [];
    remember(list, record);
    sent.set(openId, list);
    return { ...SANDBOX_OK };
  });

  route('POST', '/cgi-bin/message/custom/typing', (req) => {
    const body = req.json();
    const openId = requireReachable(body.touser);
    if (body.command !== 'Typing' && body.command !== 'CancelTyping') fail(47001, 'data format error');
    remember(typing, { openId, command: body.command as string });
    return { ...SANDBOX_OK };
  });

  route('POST', '/cgi-bin/menu/create', (req) => {
    const body = req.json();
    const v = checkMenu(body);
    if (v) fail(v.errcode, v.errmsg);
    const withSubs = (b: Record<string, unknown>): Record<string, unknown> =>
      Array.isArray(b.sub_button) && b.sub_button.length > 0
        ? { ...b, sub_button: (b.sub_button as Record<string, unknown>[]).map((s) => ({ ...s, sub_button: [] })) }
        : { ...b, sub_button: [] };
    menu = { button: (body.button as Record<string, unknown>[]).map(withSubs) };
    return { ...SANDBOX_OK };
  });

  route('GET', '/cgi-bin/menu/get', () => {
    if (!menu) fail(46003, 'menu no exist');
    return { menu: structuredClone(menu) as Record<string, unknown> };
  });

  route('GET', '/cgi-bin/menu/delete', () => {
    menu = undefined;
    return { ...SANDBOX_OK };
  });

  route('POST', '/cgi-bin/qrcode/create', (req) => {
    const body = req.json();
    const action = body.action_name;
    const scene = ((body.action_info as { scene?: Record<string, unknown> } | undefined)?.scene ?? {}) as Record<string, unknown>;
    let sceneValue: string | number;
    if (action === 'QR_SCENE' || action === 'QR_LIMIT_SCENE') {
      const id = scene.scene_id;
      if (typeof id !== 'number' || !Number.isInteger(id) || id === 0) fail(40053, 'invalid action info');
      if (action === 'QR_LIMIT_SCENE' && ((id as number) < 1 || (id as number) > 100_000)) fail(40053, 'invalid action info');
      sceneValue = id as number;
    } else if (action === 'QR_STR_SCENE' || action === 'QR_LIMIT_STR_SCENE') {
      const s = scene.scene_str;
      if (typeof s !== 'string' || s.length < 1 || s.length > 64) fail(40053, 'invalid action info');
      sceneValue = s as string;
    } else {
      return fail(40052, 'invalid action name');
    }
    const ticket = `gQ${randomBytes(30).toString('base64')}`;
    const url = `http://weixin.qq.com/q/${randomBytes(16).toString('base64url')}`;
    if (action === 'QR_SCENE' || action === 'QR_STR_SCENE') {
      const requested = typeof body.expire_seconds === 'number' ? body.expire_seconds : 60;
      const expire = Math.min(Math.max(1, Math.floor(requested)), 2_592_000);
      qrcodes.push({ ticket, actionName: action, scene: sceneValue, expireSeconds: expire });
      return { ticket, expire_seconds: expire, url };
    }
    qrcodes.push({ ticket, actionName: action as string, scene: sceneValue });
    return { ticket, url };
  });

  route('GET', '/cgi-bin/ticket/getticket', (req) => {
    const type = req.query.get('type');
    if (type !== 'wx_card' && type !== 'jsapi') fail(40097, 'invalid args');
    ticketFetches++;
    return { errcode: 0, errmsg: 'ok', ticket: `${type === 'wx_card' ? 'card' : 'js'}_${randomBytes(32).toString('base64url')}`, expires_in: 7200 };
  });

  route('GET', '/cgi-bin/user/info', (req) => {
    const openId = req.query.get('openid');
    if (!openId) fail(41009, 'missing openid');
    const f = known(openId as string);
    if (!f) fail(40003, 'invalid openid');
    const fl = f as SandboxFollower;
    if (!fl.subscribed) return { subscribe: 0, openid: fl.openId, tagid_list: [] };
    return {
      subscribe: 1,
      openid: fl.openId,
      language: req.query.get('lang') ?? 'zh_CN',
      subscribe_time: Math.floor(fl.subscribedAt / 1000),
      remark: '',
      groupid: 0,
      tagid_list: [],
      subscribe_scene: 'ADD_SCENE_OTHERS',
      qr_scene: 0,
      qr_scene_str: '',
    };
  });

  // --- HTTP

  function answer(res: http.ServerResponse, status: number, body: Record<string, unknown> | string): void {
    if (res.writableEnded || res.destroyed) return;
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; encoding=utf-8',
      'Content-Length': Buffer.byteLength(text),
    });
    res.end(text);
  }

  function later(ms: number, fn: () => void): void {
    if (ms <= 0) return fn();
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, rawBody: string): Promise<void> {
    const parsed = new URL(req.url ?? '/', 'http://sandbox');
    const path = parsed.pathname;
    const method = (req.method ?? 'GET').toUpperCase();
    const fault = faults.pick(path);
    const delayMs = faults.latency(path);
    if (fault === 'reset') {
      remember(calls, { method, path, fault });
      later(delayMs, () => req.socket.destroy());
      return;
    }
    if (fault === 'timeout') {
      remember(calls, { method, path, fault });
      held.add(res);
      res.on('close', () => held.delete(res));
      return;
    }
    if (fault === 'http5xx') {
      remember(calls, { method, path, fault });
      const status = faults.applied.http5xx % 2 === 0 ? 502 : 503;
      later(delayMs, () => answer(res, status, status === 502 ? 'Bad Gateway' : 'Service Unavailable'));
      return;
    }
    if (fault === 'error') {
      remember(calls, { method, path, fault, errcode: -1 });
      later(delayMs, () => answer(res, 200, { errcode: -1, errmsg: `system error rid: ${rid()}` }));
      return;
    }

    let body: Record<string, unknown>;
    let errcode = 0;
    const r = routes.get(`${method} ${path}`);
    const other = routes.get(`${method === 'GET' ? 'POST' : 'GET'} ${path}`);
    try {
      if (!r) {
        if (other) fail(method === 'GET' ? 43002 : 43001, method === 'GET' ? 'require POST method' : 'require GET method');
        remember(calls, { method, path, errcode: 404 });
        later(delayMs, () => answer(res, 404, 'Not Found'));
        return;
      }
      const sreq: SandboxRequest = {
        method,
        path,
        query: parsed.searchParams,
        rawBody,
        remoteAddress: req.socket.remoteAddress ?? '127.0.0.1',
        json() {
          if (rawBody.trim() === '') fail(44002, 'empty post data');
          if (NON_ASCII_ESCAPE.test(rawBody)) fail(40033, 'invalid charset. please check your request, if include \\uxxxx will create fail!');
          let v: unknown;
          try {
            v = JSON.parse(rawBody);
          } catch {
            fail(47001, 'data format error');
          }
          if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(47001, 'data format error');
          return v as Record<string, unknown>;
        },
      };
      if (r.auth) requireToken(sreq);
      const out = await r.handler(sreq, sandbox);
      body = out;
      if (typeof out.errcode === 'number') errcode = out.errcode;
    } catch (err) {
      if (!(err instanceof SandboxApiError)) {
        remember(calls, { method, path, fault: 'handler-crash' });
        later(delayMs, () => answer(res, 500, 'Internal Server Error'));
        return;
      }
      errcode = err.errcode;
      body = { errcode: err.errcode, errmsg: `${err.errmsg} rid: ${rid()}` };
    }
    remember(calls, { method, path, errcode });
    later(delayMs, () => answer(res, 200, body));
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        answer(res, 413, 'Payload Too Large');
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) return;
      handle(req, res, Buffer.concat(chunks).toString('utf8')).catch(() => answer(res, 500, 'Internal Server Error'));
    });
  });
  server.keepAliveTimeout = 1000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;

  const sandbox: ApiSandbox = {
    get cards(): CardSandbox {
      return cardSandbox;
    },
    url,
    credentials: { appId, appSecret },
    faults,
    expireTokens() {
      const now = clock.now();
      for (const t of tokens.values()) t.expiresAt = Math.min(t.expiresAt, now);
      currentStable = undefined;
    },
    touch(openId, atMs = clock.now()) {
      const f = follow(openId, atMs);
      f.lastInteractionAt = atMs;
    },
    follow(openId, atMs) {
      follow(openId, atMs);
    },
    unfollow(openId) {
      const f = followers.get(openId);
      if (f) f.subscribed = false;
    },
    follower: (openId) => {
      const f = followers.get(openId);
      return f ? { ...f } : undefined;
    },
    sent,
    typing,
    get tokenFetches() {
      return tokenFetches;
    },
    get ticketFetches() {
      return ticketFetches;
    },
    get menu() {
      return menu ? (structuredClone(menu) as { button: unknown[] }) : undefined;
    },
    qrcodes,
    calls,
    isTokenValid: (token) => tokenState(token) === 'ok',
    requireToken,
    route,
    now: () => clock.now(),
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const res of held) res.destroy();
      held.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  const cardSandbox = installCardSandbox(sandbox, options.cards);
  return sandbox;
}
