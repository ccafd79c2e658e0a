/**
 * Wires the whole bot from settings: store, config holder, renderer, API and Pay clients (or the
 * in-process sandbox when no credentials are set), rewards with their outbox worker, and the Koa app.
 * `app.ts` calls it and listens; end-to-end tests call it with a temp folder and port 0.
 *
 * @example
 * const bot = await createBot({ settings: loadSettings(process.env) });
 * await bot.listen(3000);
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type Koa from 'koa';
import { createApiClient, type ApiClient } from '../api/client';
import { createCardAdminRouter } from '../cards/card-admin-router';
import { cardsConfigOf, createCards, handleCardEvent, type Cards } from '../cards/cards';
import { createTokenProvider } from '../api/access-token';
import { createConfigHolder, type ConfigHolder } from '../config/config-holder';
import type { BotConfig } from '../config/load-config';
import type { Settings } from '../config/settings';
import { REWARD_KINDS } from '../config/reward-kinds';
import { type Clock, systemClock } from '../lib/clock';
import { createLogger, type Logger } from '../lib/logger';
import { createMetrics, type Metrics } from '../lib/metrics';
import { createPayClient, type PayClient } from '../pay/client';
import { loadMerchantCert } from '../pay/load-merchant-cert';
import { createRedpackApi } from '../pay/redpack';
import { watchMerchantCert } from '../pay/watch-merchant-cert';
import type { RedpackApi } from '../pay/types';
import { createReplyRenderer } from '../reply/render-reply';
import type { RewardsConfig } from '../rewards/config-schema';
import type { Ledger } from '../rewards/ledger';
import { createOutboxWorker, type OutboxWorker } from '../rewards/outbox-worker';
import { startReconcileJob } from '../rewards/reconcile';
import { createRewards, type Rewards } from '../rewards/rewards';
import { createMessageHandler } from '../rules/handle-message';
import { startApiSandbox, type ApiSandbox } from '../sandbox/api-server';
import { SANDBOX_PAY_CERTS, startPaySandbox, type PaySandbox } from '../sandbox/pay-server';
import { startSandboxControl, type SandboxControl } from '../sandbox/control-server';
import { removeSandboxInfo, sandboxInfoFile, sandboxStateFile, writeSandboxInfo } from '../sandbox/sandbox-info';
import { createSpendEndpoint } from '../spend/create-spend-endpoint';
import type { OrderStore } from '../spend/order-store';
import { createStore, type CompositeStore } from '../store/create-store';
import { leaseInFlightClaims } from '../store/lease-in-flight-claims';
import { createMemoryOrderStore } from '../store/memory-orders';
import { SqliteOrderStore } from '../store/sqlite-orders';
import { createMemoryLedger } from '../store/memory-ledger';
import { SqliteLedger } from '../store/sqlite-ledger';
import { openSqlite } from '../store/sqlite-migrate';
import { createMessageCrypto } from '../wechat/crypto';
import { isCardEvent, type InboundMessage } from '../wechat/inbound';
import { type AppOptions, createWebhook, type Delivery } from '../wechat/koa/create-webhook';
import type { WebhookState } from '../wechat/koa/state';

/** The webhook's deadline guard when `deadlineMs` is not given (as `createWebhook`'s default). */
const DEFAULT_DEADLINE_MS = 4500;

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
  readonly sandbox?: { api: ApiSandbox; pay: PaySandbox; control: SandboxControl };
  /**
   * Starts the HTTP server on `port`/`host` (default PORT/HOST; port 0 = any free port), the admin
   * server when ADMIN_PORT is set, and the workers; logs the addresses actually bound.
   */
  listen(port?: number, host?: string): Promise<http.Server>;
  close(): Promise<void>;
}

/** The campaigns and limits of a loaded config, as the rewards module reads them. */
export function rewardsConfigOf(config: BotConfig): RewardsConfig {
  const files = config.files as unknown as {
    campaigns?: { campaigns?: RewardsConfig['campaigns'] } | null;
    limits?: RewardsConfig['limits'];
  };
  return {
    campaigns: files.campaigns?.campaigns ?? {},
    limits: files.limits as RewardsConfig['limits'],
  } as RewardsConfig;
}

/**
 * The ledger and the spend-and-get orders go where the store's durable backend is: PostgreSQL (the
 * store's pool), else the SQLite file on ONE connection of their own with `synchronous=FULL` (money: a
 * commit survives power loss), while the store's kv/dedupe connection may trade that for speed.
 */
async function openDurable(
  store: CompositeStore,
  sqlitePath: string,
  billTag: string | undefined,
): Promise<{ ledger: Ledger; orders: OrderStore; close(): Promise<void> }> {
  if (store.backends.postgres) {
    const pool = store.backends.postgres.pool;
    const { PostgresLedger } = require('../store/postgres-ledger') as typeof import('../store/postgres-ledger');
    const { PostgresOrderStore } = require('../store/postgres-orders') as typeof import('../store/postgres-orders');
    return { ledger: await PostgresLedger.create(pool, { billTag }), orders: await PostgresOrderStore.create(pool), close: async () => undefined };
  }
  if (store.backends.sqlite) {
    const db = openSqlite(sqlitePath, { synchronous: 'FULL' });
    try {
      return {
        ledger: SqliteLedger.create(db, { billTag }),
        orders: SqliteOrderStore.create(db),
        close: async () => {
          if (db.open) db.close();
        },
      };
    } catch (error) {
      db.close();
      throw error;
    }
  }
  return { ledger: createMemoryLedger({ billTag }), orders: createMemoryOrderStore(), close: async () => undefined };
}

export async function createBot(options: BotOptions): Promise<Bot> {
  const { settings } = options;
  const clock = options.clock ?? systemClock;
  const log = options.log ?? createLogger({ level: settings.logLevel, secrets: settings.secrets });
  const metrics = createMetrics();
  const closers: (() => Promise<void> | void)[] = [];
  const closeAll = async () => {
    for (const c of closers.reverse()) await Promise.resolve(c()).catch(() => undefined);
  };

  try {
    // === WeChat's servers: real, or the in-process sandbox
    let apiBase = settings.wechat.apiBase;
    let payBase = settings.pay.apiBase;
    let sandbox: Bot['sandbox'];
    if (settings.sandbox) {
      // Playground: cards pass review at once, so a newcomer sees a card reward arrive.
      const api = await startApiSandbox({ appId: settings.wechat.appId, appSecret: settings.wechat.appSecret, clock, cards: { autoApprove: true } });
      closers.push(() => api.close());
      // With the bot's own store (SQLite under data/), the Pay stand-in keeps its bills beside the ledger,
      // so a restart changes nothing: reconciliation still finds every bill it paid.
      const stateFile = options.store ? undefined : sandboxStateFile(settings.dataDir);
      const pay = await startPaySandbox({ mchId: settings.pay.mchId, key: settings.pay.key, appIds: [settings.wechat.appId], clock, log, stateFile });
      closers.push(() => pay.close());
      const control = await startSandboxControl({ pay });
      closers.push(() => control.close());
      sandbox = { api, pay, control };
      apiBase = api.url;
      payBase = pay.url;
      log.info({ api: api.url, pay: pay.url }, 'sandbox mode: no WeChat credentials set, using the built-in stand-in servers');
    }

    // === Store and ledger
    const store = options.store ?? (await createStore({ ...settings.store, clock }));
    if (!options.store) closers.push(() => store.close());
    const { ledger, orders, close: closeDurable } = await openDurable(store, settings.store.sqlitePath, settings.store.billNoTag);
    closers.push(closeDurable);

    // === Operator config, views, crypto
    const config = createConfigHolder({
      dir: settings.configDir,
      viewsDir: settings.viewsDir,
      log: log,
      watch: options.watchConfig ?? true,
      clock,
    });
    closers.push(() => config.close());
    const renderer = createReplyRenderer({ viewsDir: settings.viewsDir });
    const crypto = settings.wechat.encodingAESKey
      ? createMessageCrypto({
          encodingAESKey: settings.wechat.encodingAESKey,
          previousEncodingAESKey: settings.wechat.previousEncodingAESKey,
          appId: settings.wechat.appId,
        })
      : undefined;

    // === Official-account API
    const tokens = createTokenProvider({
      appId: settings.wechat.appId,
      appSecret: settings.wechat.appSecret,
      baseUrl: apiBase,
      store: store.kv,
      stable: settings.wechat.stableToken,
      clock,
      log: log,
    });
    const api = createApiClient({ baseUrl: apiBase, tokens, store: store.kv, clock, log: log });

    // === WeChat Pay
    let payClient: PayClient | undefined;
    if (settings.pay.mchId && settings.pay.key) {
      // The certificate must be this merchant's and not expired, or the start fails with the fix; the watch
      // warns (log + metric) in its last 30 days, daily. The sandbox's own certificate passes the same check.
      const certPath = sandbox ? SANDBOX_PAY_CERTS.p12 : settings.pay.certPath!;
      const cert = sandbox
        ? loadMerchantCert({ certPath, mchId: settings.pay.mchId, now: () => clock.now() })
        : loadMerchantCert({
            certPath,
            keyPemPath: settings.pay.keyPemPath,
            passphrase: settings.pay.certPassphrase,
            mchId: settings.pay.mchId,
            now: () => clock.now(),
          });
      const certWatch = watchMerchantCert({ cert, file: certPath, mchId: settings.pay.mchId, clock, log, metrics });
      closers.push(() => certWatch.stop());
      payClient = createPayClient({
        mchId: settings.pay.mchId,
        key: settings.pay.key,
        appId: settings.wechat.appId,
        baseUrl: payBase,
        clientIp: settings.pay.clientIp,
        cert,
        ca: sandbox?.pay.ca ?? (settings.pay.caPath ? fs.readFileSync(settings.pay.caPath) : undefined),
        log: log,
      });
      const pc = payClient;
      closers.push(() => pc.close());
    }
    const redpack: RedpackApi = payClient
      ? createRedpackApi(payClient, { log: log })
      : {
          send: async () => ({ status: 'config', code: 'PAY_NOT_CONFIGURED', message: 'WeChat Pay is not configured (set WECHAT_MCH_ID, WECHAT_PAY_KEY, WECHAT_PAY_CERT)' }),
          query: async () => ({ status: 'error', code: 'PAY_NOT_CONFIGURED', message: 'WeChat Pay is not configured' }),
        };

    // === Rewards
    const rewardsConfig = () => rewardsConfigOf(config.current());
    const rewards = createRewards({
      ledger,
      config: rewardsConfig,
      clock,
      mchId: settings.pay.mchId ?? '0000000000',
      log: log,
      kinds: REWARD_KINDS,
    });
    // === Card coupons (make, issue, receive, redeem)
    const cards = createCards({
      api,
      kv: store.kv,
      ledger,
      config: () => cardsConfigOf(config.current().files as unknown as Parameters<typeof cardsConfigOf>[0]),
      clock,
      log: log.child({ module: 'cards' }),
    });

    const notify = async (openId: string, text: string) => {
      await api.customMessage.text(openId, text);
    };
    const worker = createOutboxWorker({
      ledger,
      redpack,
      counters: store.counters,
      clock,
      log: log,
      config: rewardsConfig,
      notify,
      metrics,
      senders: { card: (grant, ctx) => cards.sendGrant(grant, ctx) },
      leaseMs: settings.outboxLeaseMs,
    });

    // === The webhook
    const ruleHandler = createMessageHandler({ config, rewards, clock, log: log });
    const handler = async (message: InboundMessage, delivery: Delivery) => {
      // In sandbox mode the stand-in plays WeChat: it saw this follower interact.
      if (sandbox) sandbox.api.touch(message.FromUserName);
      // Card events first update the card ledger (receipt, gift, deletion, redemption, reviews); the
      // rules may still answer them.
      if (isCardEvent(message)) await handleCardEvent(message, { cards });
      return ruleHandler(message, delivery);
    };
    const payNotify = createSpendEndpoint({ settings, orders, rewards, spend: () => config.current().files.spend, clock, log });
    const appOptions: AppOptions = {
      routers: payNotify ? [payNotify] : [],
      adminToken: settings.adminToken,
      staffRouters: settings.adminToken ? [createCardAdminRouter({ cards })] : [],
      metricsToken: settings.metricsToken,
      accessLog: settings.accessLog,
      auth: settings.adminToken || settings.metricsToken ? { counters: store.counters, kv: store.kv, trustedProxies: settings.trustedProxies } : undefined,
      token: settings.wechat.token,
      crypto,
      renderer,
      handler,
      // An in-flight claim lives no longer than the deadline, so a claim left by an instance that died
      // mid-request stops blocking WeChat's next retry (5 s later) on the surviving instances.
      dedupe: leaseInFlightClaims(store.dedupe, { seconds: (options.deadlineMs ?? DEFAULT_DEADLINE_MS) / 1000 }),
      bindings: store.bindings,
      safeModeOnly: settings.wechat.safeModeOnly,
      log: log.child({ module: 'wechat' }),
      metrics,
      clock,
      timestampWindowSeconds: settings.wechat.timestampWindowSeconds,
      deadlineMs: options.deadlineMs,
      onLateReply: async (message, reply) => {
        await api.customMessage.sendReply(message.FromUserName, reply);
      },
      // Anyone sees `ok` and whether the store answers; config errors (file paths), the store's error
      // text and the driver only go to a caller with the admin token.
      health: async () => {
        let storeOk = true;
        let storeError: string | undefined;
        try {
          await store.ping();
        } catch (err) {
          storeOk = false;
          storeError = err instanceof Error ? err.message : String(err);
        }
        return {
          ok: storeOk,
          summary: { store: storeOk ? 'ok' : /^store busy/.test(storeError ?? '') ? 'busy' : 'down' },
          details: { store: { driver: store.driver, ok: storeOk, error: storeError }, config: config.status(), sandbox: Boolean(sandbox) },
        };
      },
    };
    const split = settings.adminPort !== undefined;
    const app = createWebhook({ ...appOptions, surface: split ? 'public' : 'all' });
    const adminApp = split ? createWebhook({ ...appOptions, surface: 'admin' }) : undefined;

    let server: http.Server | undefined;
    let adminServer: http.Server | undefined;
    let reconcileJob: { stop(): Promise<void> } | undefined;
    const workers = options.workers ?? true;
    const bot: Bot = {
      app,
      adminApp,
      get adminServer() {
        return adminServer;
      },
      settings,
      log,
      config,
      store,
      ledger,
      orders,
      api,
      rewards,
      cards,
      redpack,
      worker,
      metrics,
      sandbox,
      async listen(port = settings.port, host = settings.host) {
        server = await startServer(app, port, host);
        if (adminApp) adminServer = await startServer(adminApp, settings.adminPort ?? 0, settings.adminHost);
        if (workers) {
          worker.start();
          reconcileJob = startReconcileJob({ ledger, redpack, clock, log: log, config: rewardsConfig, metrics });
        }
        const bound = server.address() as AddressInfo;
        if (sandbox) {
          // The stand-in plays WeChat's pushes too (card reviews, sub-merchant results): to this bot.
          sandbox.api.cards.setWebhook({ url: `${reachableUrl(bound)}/wechat`, token: settings.wechat.token, crypto });
          writeBotSandboxInfo(settings, sandbox, `${reachableUrl(bound)}/wechat`);
        }
        logListening(log, { bound, admin: adminServer?.address() as AddressInfo | undefined, store, config, sandbox: Boolean(sandbox) });
        return server;
      },
      async close() {
        await worker.stop().catch(() => undefined);
        await reconcileJob?.stop().catch(() => undefined);
        await Promise.all([server, adminServer].map((s) => (s ? stopServer(s) : undefined)));
        if (sandbox) removeSandboxInfo(sandboxInfoPath(settings));
        await closeAll();
      },
    };
    return bot;
  } catch (err) {
    await closeAll();
    throw err;
  }
}

// === Listeners

/** An HTTP server for `app`, listening on `port`/`host` (host undefined: every interface). */
async function startServer(app: Koa<WebhookState>, port: number, host: string | undefined): Promise<http.Server> {
  const server = http.createServer(app.callback());
  // Slow or stalled clients must not hold sockets: WeChat itself gives up after 5 s.
  server.requestTimeout = 15_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

async function stopServer(server: http.Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections?.();
  await closed;
  server.closeAllConnections?.();
}

/** `http://<address>:<port>` as bound (`[::]` / `0.0.0.0` = every interface). */
function boundUrl(a: AddressInfo): string {
  return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
}

/** A URL of the server reachable from this machine: loopback when it listens on every interface. */
function reachableUrl(a: AddressInfo): string {
  return isWildcard(a) ? `http://127.0.0.1:${a.port}` : boundUrl(a);
}

/** True for the any-address binds (every interface). */
function isWildcard(a: AddressInfo): boolean {
  return a.address === '::' || a.address === '0.0.0.0';
}

/** The start line: the addresses really bound, so "listening on 127.0.0.1" is never said of `::`. */
function logListening(
  log: Logger,
  info: { bound: AddressInfo; admin?: AddressInfo; store: CompositeStore; config: ConfigHolder; sandbox: boolean },
): void {
  const { bound, admin, sandbox } = info;
  const where = (a: AddressInfo, path = '') => `${boundUrl(a)}${path}${isWildcard(a) ? ' (every interface)' : ''}`;
  const adminText = admin ? `; staff endpoints, detailed /healthz and /metrics on ${where(admin)}` : '';
  log.info(
    {
      address: bound.address,
      port: bound.port,
      ...(admin ? { adminAddress: admin.address, adminPort: admin.port } : {}),
      sandbox,
      store: info.store.driver,
      config: info.config.status().version,
    },
    `wechat-bot listening on ${where(bound, '/wechat')}${adminText}` +
      (sandbox ? ' (sandbox mode: try `npx wechat-bot simulate "hello"`)' : ''),
  );
}

// === Sandbox discovery for the CLI

/** Where a running bot in sandbox mode writes the URLs of its stand-in servers, for the CLI. */
export function sandboxInfoPath(settings: Pick<Settings, 'dataDir'>): string {
  return sandboxInfoFile(settings.dataDir);
}

function writeBotSandboxInfo(settings: Settings, sandbox: NonNullable<Bot['sandbox']>, webhook: string): void {
  try {
    const { api, pay, control } = sandbox;
    writeSandboxInfo(sandboxInfoPath(settings), { pid: process.pid, api: api.url, pay: pay.url, webhook, control: control.url, token: control.token });
  } catch {
    // Discovery is a convenience; the bot runs without it.
  }
}

