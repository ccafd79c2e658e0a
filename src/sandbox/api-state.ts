/**
 * The one state object of the API sandbox: its settings, the tokens it issued, the followers it
 * knows, what was sent to them, the menu, QR codes, counters, the request log and the card state.
 * Every area module (`api-*-routes.ts`) reads and changes it; nothing else holds sandbox state.
 *
 * @example const state = createApiState({ appId, appSecret, clock, tokenTtlSeconds: 7200, ... });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html
 */
import type { Clock } from '../lib/clock';
import { createCardState, type CardSandboxOptions, type CardState } from './api-card-state';

// === Public types

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

/** A QR code made by `qrcode/create`. */
export interface SandboxQrCode {
  ticket: string;
  actionName: string;
  scene: string | number;
  expireSeconds?: number;
}

// === State

/** One access token the sandbox issued. */
export interface IssuedToken {
  kind: 'token' | 'stable';
  issuedAt: number;
  expiresAt: number;
  /** When a newer token made this one "not latest" (ms); it still works for the overlap window. */
  supersededAt?: number;
  /** Stable force_refresh ends the previous token at once. */
  revoked?: boolean;
}

/** The settings of a sandbox, checked and defaulted by `startApiSandbox`. */
export interface ApiStateConfig {
  appId: string;
  appSecret: string;
  clock: Clock;
  tokenTtlSeconds: number;
  overlapSeconds: number;
  /** When set, the token endpoints answer 40164 to other caller IPs. */
  ipWhitelist?: string[];
  /** Customer-service window after the follower's last interaction, ms. */
  interactionWindowMs: number;
  /** Unknown openids count as followers who just interacted (playground mode). */
  acceptAnyFollower: boolean;
  /** How many entries `calls` and each `sent` list keep. */
  historyLimit: number;
  cards?: CardSandboxOptions;
}

/** Everything the sandbox knows. */
export interface ApiState {
  readonly config: Readonly<ApiStateConfig>;
  readonly tokens: Map<string, IssuedToken>;
  /** The stable token `stable_token` hands out until it is near expiry. */
  currentStable?: string;
  lastForceRefresh: number;
  /** Token endpoint calls that returned a token. */
  tokenFetches: number;
  ticketFetches: number;
  readonly followers: Map<string, SandboxFollower>;
  readonly sent: Map<string, SentCustomMessage[]>;
  readonly typing: { openId: string; command: string }[];
  readonly qrcodes: SandboxQrCode[];
  menu?: { button: unknown[] };
  readonly calls: SandboxCall[];
  readonly cards: CardState;
}

/**
 * A fresh state: no tokens, followers, menu or cards.
 *
 * @example const state = createApiState(config); state.config.clock.now();
 */
export function createApiState(config: ApiStateConfig): ApiState {
  return {
    config,
    tokens: new Map(),
    lastForceRefresh: -Infinity,
    tokenFetches: 0,
    ticketFetches: 0,
    followers: new Map(),
    sent: new Map(),
    typing: [],
    qrcodes: [],
    calls: [],
    cards: createCardState(config.cards),
  };
}

/**
 * Appends to a history list, dropping the oldest entries past `historyLimit`.
 *
 * @example remember(state, state.calls, { method, path, errcode: 0 });
 */
export function remember<T>(state: ApiState, list: T[], item: T): void {
  list.push(item);
  if (list.length > state.config.historyLimit) list.splice(0, list.length - state.config.historyLimit);
}
