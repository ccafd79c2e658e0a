/**
 * What {@link createBot} takes and returns: the options (settings, and for tests an injected store,
 * clock, no workers) and the running bot's parts (apps, stores, clients, the worker, the sandbox).
 *
 * @example const bot: Bot = await createBot({ settings } satisfies BotOptions);
 */
import type http from 'node:http';
import type Koa from 'koa';
import type { ApiClient } from '../api/client';
import type { Cards } from '../cards/cards';
import type { ConfigHolder } from '../config/config-holder';
import type { Settings } from '../config/settings';
import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import type { Metrics } from '../lib/metrics';
import type { RedpackApi } from '../pay/types';
import type { Ledger } from '../rewards/ledger';
import type { OutboxWorker } from '../rewards/outbox-worker';
import type { Rewards } from '../rewards/rewards';
import type { OrderStore } from '../spend/order-store';
import type { CompositeStore } from '../store/create-store';
import type { WebhookState } from '../wechat/koa/state';
import type { BotSandbox } from './start-bot-sandbox';

export interface BotOptions {
  settings: Settings;
  log?: Logger;
  clock?: Clock;
  /** Use this store instead of the one the settings name (tests). */
  store?: CompositeStore;
  /** Start the outbox worker and the reconciliation job (default true). */
  workers?: boolean;
  /** Watch the config folder (default true). */
  watchConfig?: boolean;
  /** Deadline guard of the webhook (default 4500 ms). */
  deadlineMs?: number;
}

export interface Bot {
  /** The app on PORT: everything, or (with ADMIN_PORT) the public half. */
  readonly app: Koa<WebhookState>;
  /** With ADMIN_PORT: the app of the admin listener (staff routes, detailed /healthz, /metrics). */
  readonly adminApp?: Koa<WebhookState>;
  /** The admin listener, once `listen()` started it (ADMIN_PORT set). */
  readonly adminServer?: http.Server;
  readonly settings: Settings;
  readonly log: Logger;
  readonly config: ConfigHolder;
  readonly store: CompositeStore;
  readonly ledger: Ledger;
  /** Orders recorded from WeChat Pay payment notifications (spend-and-get). */
  readonly orders: OrderStore;
  readonly api: ApiClient;
  readonly rewards: Rewards;
  readonly cards: Cards;
  readonly redpack: RedpackApi;
  readonly worker: OutboxWorker;
  readonly metrics: Metrics;
  /** Present in sandbox mode: the in-process stand-ins of WeChat's servers. */
  readonly sandbox?: BotSandbox;
  /**
   * Starts the HTTP server on `port`/`host` (default PORT/HOST; port 0 = any free port), the admin
   * server when ADMIN_PORT is set, and the workers; logs the addresses actually bound.
   */
  listen(port?: number, host?: string): Promise<http.Server>;
  close(): Promise<void>;
}
