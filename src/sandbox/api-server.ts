/**
 * A loopback stand-in for WeChat's official-account API servers (`api.weixin.qq.com`), faithful where
 * the bot depends on it: access tokens (appid/secret checks, expiry, a new `/cgi-bin/token` token ends
 * the previous one after the overlap window, stable tokens), customer-service messages (token checks,
 * 40003 unknown openid, 45015 outside the 48-hour window, 40033 for `\uXXXX` escapes), menus (WeChat's
 * validation codes), QR codes, JS-API tickets and follower info. Errors carry WeChat's errcode and
 * errmsg (with a ` rid: …` suffix, as WeChat adds).
 *
 * Tests drive it through fault injection (`faults`), `expireTokens()`, `touch(openId)` (a follower
 * interaction) and inspect it (`sent`, `tokenFetches`, `menu`, `calls`). Further endpoints are added
 * with `route()`.
 *
 * This file only composes: one state object (`api-state.ts`), the route table of each WeChat area
 * (`api-token-routes.ts`, `api-custom-message-routes.ts`, `api-menu-routes.ts`, `api-qrcode-routes.ts`,
 * `api-ticket-routes.ts`, `api-user-routes.ts`, `api-card-routes.ts`, `api-card-code-routes.ts`, `api-member-routes.ts`,
 * `api-submerchant-routes.ts`), the HTTP server (`api-http.ts`) and the card controls (`api-cards.ts`).
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
import type { Clock } from '../lib/clock';
import { systemClock } from '../lib/clock';
import { SANDBOX_CREDENTIALS } from '../config/settings';
import { cardCodeRoutes } from './api-card-code-routes';
import { cardRoutes } from './api-card-routes';
import { createCardControls, type CardSandbox, type CardSandboxOptions } from './api-cards';
import { customMessageRoutes } from './api-custom-message-routes';
import { Faults, type FaultControl } from './api-faults';
import { follow, touch, unfollow } from './api-followers';
import { listenApiSandbox, routeKey, type RouteMap } from './api-http';
import type { SandboxMember } from './api-card-state';
import { memberCardRoutes } from './api-member-card-routes';
import { addSandboxMember, memberRoutes } from './api-member-routes';
import { menuRoutes } from './api-menu-routes';
import { qrcodeRoutes } from './api-qrcode-routes';
import type { ApiRouteTable, SandboxRequest } from './api-route';
import { createApiState, type SandboxCall, type SandboxFollower, type SandboxQrCode, type SentCustomMessage } from './api-state';
import { subMerchantRoutes } from './api-submerchant-routes';
import { ticketRoutes } from './api-ticket-routes';
import { expireTokens, requireToken, tokenRoutes, tokenState } from './api-token-routes';
import { userRoutes } from './api-user-routes';

export { SANDBOX_OK, SandboxApiError, type SandboxRequest } from './api-route';
export type { SandboxCall, SandboxFollower, SentCustomMessage } from './api-state';

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
  readonly qrcodes: readonly SandboxQrCode[];
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
  /** Member cards followers hold (`api-member-routes.ts`): add one, read its points. */
  readonly members: { add(m: Parameters<typeof addSandboxMember>[1]): SandboxMember; get(code: string): SandboxMember | undefined };
  close(): Promise<void>;
}

// === Composition

/** Every WeChat area the sandbox serves, in one table. */
const AREAS: readonly ApiRouteTable[] = [
  tokenRoutes,
  customMessageRoutes,
  menuRoutes,
  qrcodeRoutes,
  ticketRoutes,
  userRoutes,
  cardRoutes,
  memberCardRoutes,
  memberRoutes,
  cardCodeRoutes,
  subMerchantRoutes,
];

/**
 * Starts the API sandbox on loopback. Resolves once it listens.
 *
 * @example const sandbox = await startApiSandbox({ clock: fixedClock(Date.now()) });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Get_access_token.html
 */
export async function startApiSandbox(options: ApiSandboxOptions = {}): Promise<ApiSandbox> {
  const host = options.host ?? '127.0.0.1';
  if (!['127.0.0.1', '::1', 'localhost'].includes(host)) throw new TypeError('startApiSandbox: host must be a loopback address');
  const tokenTtlSeconds = options.tokenTtlSeconds ?? 7200;
  const overlapSeconds = options.overlapSeconds ?? 300;
  if (!(tokenTtlSeconds > 0)) throw new TypeError('startApiSandbox: tokenTtlSeconds must be > 0');
  if (!(overlapSeconds >= 0)) throw new TypeError('startApiSandbox: overlapSeconds must be ≥ 0');
  const state = createApiState({
    appId: options.appId ?? SANDBOX_CREDENTIALS.appId,
    appSecret: options.appSecret ?? SANDBOX_CREDENTIALS.appSecret,
    clock: options.clock ?? systemClock,
    tokenTtlSeconds,
    overlapSeconds,
    ipWhitelist: options.ipWhitelist,
    interactionWindowMs: (options.interactionWindowSeconds ?? 48 * 3600) * 1000,
    acceptAnyFollower: options.acceptAnyFollower === true,
    historyLimit: options.historyLimit ?? 10_000,
    cards: options.cards,
  });
  const faults = new Faults();
  const routes: RouteMap = new Map();
  for (const table of AREAS) for (const r of table) routes.set(routeKey(r.method, r.path), { auth: r.auth ?? true, handle: (req) => r.handle(req, state) });
  const server = await listenApiSandbox({ state, faults, routes, host, port: options.port ?? 0 });
  const cards = createCardControls(state);

  const sandbox: ApiSandbox = {
    cards,
    members: { add: (m) => addSandboxMember(state, m), get: (code) => state.cards.members.get(code) },
    url: server.url,
    credentials: { appId: state.config.appId, appSecret: state.config.appSecret },
    faults,
    expireTokens: () => expireTokens(state),
    touch: (openId, atMs) => touch(state, openId, atMs),
    follow(openId, atMs) {
      follow(state, openId, atMs);
    },
    unfollow: (openId) => unfollow(state, openId),
    follower: (openId) => {
      const f = state.followers.get(openId);
      return f ? { ...f } : undefined;
    },
    sent: state.sent,
    typing: state.typing,
    get tokenFetches() {
      return state.tokenFetches;
    },
    get ticketFetches() {
      return state.ticketFetches;
    },
    get menu() {
      return state.menu ? (structuredClone(state.menu) as { button: unknown[] }) : undefined;
    },
    qrcodes: state.qrcodes,
    calls: state.calls,
    isTokenValid: (token) => tokenState(state, token) === 'ok',
    requireToken: (req: SandboxRequest) => requireToken(state, req),
    route(method, path, handler, o = {}) {
      routes.set(routeKey(method, path), { auth: o.auth ?? true, handle: (req) => handler(req, sandbox) });
    },
    now: () => state.config.clock.now(),
    close: () => server.close(),
  };
  return sandbox;
}
