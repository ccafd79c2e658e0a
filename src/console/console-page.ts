/**
 * The contract of the operator console (issue 16): what a page module is, what it gets (its deps),
 * and what every request of the console carries in `ctx.state` (the session and the language). A
 * page mounts its routes under `/console/<id>` (HTML) and `/console/api/<id>/…` (JSON) on the
 * console's router, behind the session guard: it never sees a request without a session, and its
 * POSTs have passed the CSRF check.
 *
 * @example
 * export const ledgerPage: ConsolePage = {
 *   id: 'ledger', path: '/console/ledger', title: { en: 'Ledger', 'zh-CN': '账本' },
 *   mount(router, deps) { router.get('/console/ledger', (ctx) => renderPage(ctx, 'ledger', { rows: [] })); },
 * };
 */
import type { RouterContext, Router } from '@koa/router';
import type { Cards } from '../cards/cards';
import type { ConfigHolder } from '../config/config-holder';
import type { Settings } from '../config/settings';
import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import type { Ledger } from '../rewards/ledger';
import type { Rewards } from '../rewards/rewards';
import type { OrderStore } from '../spend/order-store';
import type { CounterStore, KeyValueStore } from '../store/ports';

export type ConsoleLang = 'en' | 'zh-CN';
export type Messages = Record<ConsoleLang, Record<string, string>>;

/** The signed-in operator's session as a page sees it: a non-secret id (for the audit) and the CSRF token. */
export interface ConsoleSessionView {
  /** Non-secret session id: names the operator in the audit log (never the cookie value). */
  id: string;
  /** The session's CSRF token: put it in forms (`_csrf`) or the `x-csrf-token` header. */
  csrf: string;
}

/** What the console's own middleware leaves for `renderPage` (pages need not touch it). */
export interface ConsoleView {
  /** Translates a key of the merged messages (common + every page's) into the request's language. */
  t: (key: string, vars?: Record<string, string | number>) => string;
  nav: ConsoleNavItem[];
}

export interface ConsoleNavItem {
  id: string;
  path: string;
  title: string;
}

export interface ConsoleState {
  session: ConsoleSessionView;
  lang: ConsoleLang;
  /** Set by the console for every page request (additive to the contract). */
  view?: ConsoleView;
}

export type ConsoleContext = RouterContext<ConsoleState>;

/** One entry of the audit log: who (session id), what (action), on what (target), details. */
export interface AuditEntry {
  session: string;
  action: string;
  target?: string;
  detail?: Record<string, unknown>;
}

/** An audit entry as stored, with when and a sequence number. */
export interface AuditRecord extends AuditEntry {
  seq: number;
  at: number;
}

/** The audit log: a structured log line and a record in the shared store per console action. */
export interface ConsoleAudit {
  record(entry: AuditEntry): Promise<void>;
  /** The latest records, newest first. */
  recent(limit?: number): Promise<AuditRecord[]>;
}

/** What pages get. Grows as pages need (additive only). */
export interface ConsoleDeps {
  settings: Settings;
  ledger: Ledger;
  rewards: Rewards;
  config: ConfigHolder;
  cards: Cards;
  orders: OrderStore;
  kv: KeyValueStore;
  counters: CounterStore;
  clock: Clock;
  log: Logger;
  audit: ConsoleAudit;
  /** True in sandbox mode (the sandbox panel is shown only then). */
  sandbox: boolean;
}

export interface ConsolePage {
  /** 'overview' | 'ledger' | 'campaigns' | 'rules' | 'config' | 'orders' | 'cards' | 'sandbox' */
  id: string;
  /** '/console/<id>' (overview: '/console') */
  path: string;
  title: Record<ConsoleLang, string>;
  /** The page's own strings, merged into t(). */
  messages?: Messages;
  sandboxOnly?: boolean;
  /** Routes under /console/<id> and /console/api/<id>/... */
  mount(router: Router<ConsoleState>, deps: ConsoleDeps): void;
}
