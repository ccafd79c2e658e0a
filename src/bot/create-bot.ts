/**
 * The composition root: wires the whole bot from settings — stores, config holder, renderer, API and
 * Pay clients (or the in-process sandbox when no credentials are set), rewards with their outbox
 * worker, the message router and the Koa app. It decides nothing itself: the message pipeline is
 * `rules/handle-message.ts` (router and rules), the stores `store/open-stores.ts`, Pay `bot/open-redpack.ts`.
 * `app.ts` calls it and listens; end-to-end tests call it with a temp folder and port 0.
 *
 * @example
 * const bot = await createBot({ settings: loadSettings(process.env) });
 * await bot.listen(3000);
 */
import { memberCardBonusApi } from '../api/member-card-bonus';
import { createPointsSender } from '../cards/points-sender';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTokenProvider } from '../api/access-token';
import { createApiClient } from '../api/client';
import { createCardAdminRouter } from './card-admin-router';
import { createMemberActivationPage } from './member-activation-page';
import { createCards } from '../cards/cards';
import { createConsole } from '../console/create-console';
import { createSandboxPanel } from './sandbox-panel';
import { createConfigHolder } from '../config/config-holder';
import { cardsConfigView, spendConfigView } from '../config/config-views';
import { REWARD_KINDS } from '../config/reward-kinds';
import { clip } from '../lib/clip';
import { systemClock } from '../lib/clock';
import { createLogger } from '../lib/logger';
import { createMetrics } from '../lib/metrics';
import { createReplyRenderer } from '../reply/render-reply';
import { createOutboxWorker } from '../rewards/outbox-worker';
import { type ReconcileDeps, type ReconcileReport, type ReconcileTask, runReconcilePass, startReconcileJob } from '../rewards/reconcile';
import { recordReconcileRun } from '../rewards/reconcile-status';
import { createRewards } from '../rewards/rewards';
import { createMessageHandler, createMessageRouter } from '../rules/handle-message';
import { createSpendEndpoint } from '../spend/create-spend-endpoint';
import { leaseInFlightClaims } from '../store/lease-in-flight-claims';
import { openStores, withDurable } from '../store/open-stores';
import { createMessageCrypto } from '../wechat/crypto';
import { type AppOptions, createWebhook } from '../wechat/koa/create-webhook';
import type { Bot, BotOptions } from './bot';
import { botHealth } from './bot-health';
import { logListening, reachableUrl, startServer, stopServer } from './listeners';
import { openRedpack } from './open-redpack';
import { removeBotSandboxInfo, startBotSandbox, writeBotSandboxInfo } from './start-bot-sandbox';

export type { Bot, BotOptions } from './bot';
export { sandboxInfoPath } from './start-bot-sandbox';

/** The webhook's deadline guard when `deadlineMs` is not given (as `createWebhook`'s default). */
const DEFAULT_DEADLINE_MS = 4500;

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
    const stand = settings.sandbox ? await startBotSandbox(settings, { clock, log, keepBills: !options.store }) : undefined;
    if (stand) closers.push(() => stand.close());
    const sandbox: Bot['sandbox'] = stand && { api: stand.api, pay: stand.pay, control: stand.control };
    const apiBase = stand?.api.url ?? settings.wechat.apiBase;

    // === Stores: kv, dedupe, counters, bindings, ledger, orders
    const store = options.store
      ? await withDurable(options.store, { sqlitePath: settings.store.sqlitePath, billNoTag: settings.store.billNoTag, ownsStore: false })
      : await openStores({ ...settings.store, clock });
    closers.push(() => store.close());
    const { ledger, orders, members } = store;

    // === Operator config, views, crypto
    const config = createConfigHolder({ dir: settings.configDir, viewsDir: settings.viewsDir, log, watch: options.watchConfig ?? true, clock });
    closers.push(() => config.close());
    const renderer = createReplyRenderer({ viewsDir: settings.viewsDir });
    const { encodingAESKey, previousEncodingAESKey, appId } = settings.wechat;
    const crypto = encodingAESKey ? createMessageCrypto({ encodingAESKey, previousEncodingAESKey, appId }) : undefined;

    // === Official-account API and WeChat Pay
    const tokens = createTokenProvider({
      appId,
      appSecret: settings.wechat.appSecret,
      baseUrl: apiBase,
      store: store.kv,
      stable: settings.wechat.stableToken,
      clock,
      log,
    });
    const api = createApiClient({ baseUrl: apiBase, tokens, store: store.kv, clock, log });
    const pay = openRedpack(settings, { payBase: stand?.pay.url ?? settings.pay.apiBase, sandboxCa: stand?.pay.ca, clock, log, metrics });
    closers.push(() => pay.close());
    const { redpack } = pay;

    // === Rewards, card coupons, the outbox worker
    const { rewardsConfig } = config;
    const rewards = createRewards({ ledger, config: rewardsConfig, clock, mchId: settings.pay.mchId ?? '0000000000', log, kinds: REWARD_KINDS });
    const cardsConfig = cardsConfigView(config);
    const cards = createCards({ api, kv: store.kv, ledger, members, config: cardsConfig, clock, log: log.child({ module: 'cards' }) });
    const worker = createOutboxWorker({
      ledger,
      redpack,
      counters: store.counters,
      clock,
      log,
      config: rewardsConfig,
      notify: api.customMessage.text,
      metrics,
      senders: {
        card: cards.sendGrant,
        points: createPointsSender({
          ledger,
          members: store.members,
          cardIdOf: async (name) => (await cards.registry.getCard(name)).cardId,
          bonusApi: memberCardBonusApi(api.card),
          recordBonusOf: (name) => cardsConfig().cards[name]?.member?.recordBonus,
          locks: store.kv,
          clock,
          log: log.child({ module: 'points' }),
        }),
      },
      leaseMs: settings.outboxLeaseMs,
    });

    // === The reconciliation job's pass (started by listen(); the sandbox panel runs it on demand)
    const onRun = (run: { report: ReconcileReport } | { error: unknown }) =>
      recordReconcileRun(
        store.kv,
        'report' in run
          ? { at: clock.now(), report: run.report }
          : { at: clock.now(), error: clip(run.error instanceof Error ? run.error.message : String(run.error), 300) ?? '' },
      );
    const reconcileDeps: ReconcileDeps = { ledger, redpack, clock, log, config: rewardsConfig, metrics, onRun };
    const reconcileOthers: ReconcileTask[] = [{ name: 'cards', run: () => cards.reconcile() }];

    // === The webhook: the router (card events, then rules) behind the Koa edge
    const handler = createMessageRouter({ followers: sandbox?.api, cards, rules: createMessageHandler({ config, rewards, clock, log }) });
    const payNotify = createSpendEndpoint({ settings, orders, rewards, spend: spendConfigView(config), clock, log });
    // The bot's own webhook origin once it listens: where the console's sandbox panel plays a follower.
    let webhookOrigin: string | undefined;
    const appOptions: AppOptions = {
      routers: [...(payNotify ? [payNotify] : []), createMemberActivationPage({ cards, counters: store.counters, trustedProxies: settings.trustedProxies })],
      adminToken: settings.adminToken,
      staffRouters: settings.adminToken ? [createCardAdminRouter({ cards })] : [],
      console: settings.adminToken
        ? createConsole({
            adminToken: settings.adminToken,
            trustedProxies: settings.trustedProxies,
            settings,
            ledger,
            rewards,
            config,
            cards,
            orders,
            kv: store.kv,
            counters: store.counters,
            clock,
            log,
            sandbox: Boolean(sandbox),
            ...(stand
              ? {
                  sandboxPanel: createSandboxPanel({
                    settings,
                    pay: stand.pay,
                    origin: () => webhookOrigin,
                    clock,
                    sendDue: () => worker.runOnce(),
                    reconcile: () => runReconcilePass(reconcileDeps, reconcileOthers),
                  }),
                }
              : {}),
          })
        : undefined,
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
      health: botHealth({ store, config, sandbox: Boolean(sandbox) }),
    };
    const split = settings.adminPort !== undefined;
    const app = createWebhook({ ...appOptions, surface: split ? 'public' : 'all' });
    const adminApp = split ? createWebhook({ ...appOptions, surface: 'admin' }) : undefined;

    // === Listening and closing
    let server: http.Server | undefined;
    let adminServer: http.Server | undefined;
    let reconcileJob: { stop(): Promise<void> } | undefined;
    const workers = options.workers ?? true;
    return {
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
          reconcileJob = startReconcileJob(reconcileDeps, undefined, reconcileOthers);
        }
        const bound = server.address() as AddressInfo;
        if (sandbox) {
          // The stand-in plays WeChat's pushes too (card reviews, sub-merchant results): to this bot.
          webhookOrigin = reachableUrl(bound);
          sandbox.api.cards.setWebhook({ url: `${reachableUrl(bound)}/wechat`, token: settings.wechat.token, crypto });
          writeBotSandboxInfo(settings, sandbox, `${reachableUrl(bound)}/wechat`);
        }
        logListening(log, { bound, admin: adminServer?.address() as AddressInfo | undefined, store, config, sandbox: Boolean(sandbox) });
        return server;
      },
      async close() {
        await worker.stop().catch(() => undefined);
        await reconcileJob?.stop().catch(() => undefined);
        await Promise.all([server, adminServer].filter((s) => s !== undefined).map(stopServer));
        if (sandbox) removeBotSandboxInfo(settings);
        await closeAll();
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
