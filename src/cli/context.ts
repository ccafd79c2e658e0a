/**
 * What an operator command needs, built from the environment: settings, the store, the token provider
 * and the API client. In sandbox mode (no WeChat credentials) without `WECHAT_API_BASE`, the API
 * sandbox is started in-process and the client points at it, so every command works offline.
 *
 * Logs go to stderr (stdout is the command's output), at `LOG_LEVEL` or `warn`, with every configured
 * secret scrubbed.
 *
 * @example
 * const ctx = await createCliContext();
 * try { console.log(await ctx.tokens.status()); } finally { await ctx.close(); }
 * @see https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Get_access_token.html
 */
import pino from 'pino';
import { createApiClient, type ApiClient } from '../api/client';
import { createTokenProvider, type TokenProvider } from '../api/access-token';
import { loadSettings, type Settings } from '../config/settings';
import { createLogger, type Logger } from '../lib/logger';
import { startApiSandbox, type ApiSandbox } from '../sandbox/api-server';
import { readSandboxInfo, sandboxInfoFile, type SandboxInfo } from '../sandbox/sandbox-info';
import { createMemoryStore } from '../store/memory';
import { createStore, type CompositeStore } from '../store/create-store';
import type { Store } from '../store/ports';
import { durableHomeOf, openDurable, type DurableStores } from '../store/open-stores';
import { urlHost } from '../store/redact-url';

/** What {@link createCliContext} builds. */
export interface CliContext {
  settings: Settings;
  store: Store & Partial<Pick<CompositeStore, 'backends'>>;
  tokens: TokenProvider;
  api: ApiClient;
  log: Logger;
  /** The in-process API sandbox, when sandbox mode started one. */
  sandbox?: ApiSandbox;
  /**
   * The ledger and the orders beside `store` (where the bot keeps them: the store's PostgreSQL pool,
   * else the SQLite file), opened on the first call and closed with the context.
   */
  durable(): Promise<DurableStores>;
  /** Closes the sandbox, the money stores and the store. */
  close(): Promise<void>;
}

/** Options of {@link createCliContext}. */
export interface CliContextOptions {
  /** Anchors the default folders (default `process.cwd()`). */
  cwd?: string;
  /** Use this store instead of opening the configured one (tests). The context does not close it. */
  store?: Store & Partial<Pick<CompositeStore, 'backends'>>;
  log?: Logger;
  /** Where the account/store line goes (default stderr, so stdout stays the command's output). */
  note?: (line: string) => void;
}

/** Writes one line to stderr. */
export function noteToStderr(line: string): void {
  process.stderr.write(`wechat-bot: ${line}\n`);
}

type Env = Record<string, string | undefined>;

/** The stand-in servers of a running sandbox (written by `createBot` or `sandbox serve` to `data/sandbox.json`). */
export type RunningSandbox = SandboxInfo;

/**
 * The account and the store a command works on, as one line for stderr, so an operator sees before
 * anything changes which AppID (and merchant) and which database a command uses. No secret, no
 * password: URLs are shown as host:port/path.
 *
 * @example targetLine(settings) // 'account wx0000sandbox0000 (sandbox), merchant 1900000109; store SQLite /srv/bot/data/wechat-bot.sqlite'
 */
export function targetLine(settings: Pick<Settings, 'sandbox' | 'wechat' | 'pay' | 'store'>): string {
  const { store } = settings;
  const pg = store.databaseUrl ? `PostgreSQL ${urlHost(store.databaseUrl, 5432)}${store.postgresSchema ? ` schema ${store.postgresSchema}` : ''}` : undefined;
  const redis = store.redisUrl ? `Redis ${urlHost(store.redisUrl, 6379)}${store.redisPrefix ? ` prefix ${store.redisPrefix}` : ''}` : undefined;
  const ledger = pg ?? `SQLite ${store.sqlitePath}`;
  const merchant = settings.pay.mchId ? `, merchant ${settings.pay.mchId}` : '';
  return `account ${settings.wechat.appId}${settings.sandbox ? ' (sandbox)' : ''}${merchant}; store ${redis ? `${redis} + ${ledger}` : ledger}`;
}

/** Reads `data/sandbox.json` when the process that wrote it is still alive. */
export function runningSandbox(settings: Pick<Settings, 'dataDir'>): RunningSandbox | undefined {
  return readSandboxInfo(sandboxInfoFile(settings.dataDir));
}

/**
 * Builds the command context from `env` (default `process.env`).
 *
 * @example const { api, close } = await createCliContext(process.env);
 * @see https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Overview.html
 */
export async function createCliContext(env: Env = process.env, options: CliContextOptions = {}): Promise<CliContext> {
  const settings = loadSettings(env, options.cwd);
  const log =
    options.log ??
    createLogger({
      level: env.LOG_LEVEL === undefined ? 'warn' : settings.logLevel,
      secrets: settings.secrets,
      destination: pino.destination({ dest: 2, sync: true }),
    });
  // SQLite under data/ by default; Redis / PostgreSQL when REDIS_URL / DATABASE_URL are set.
  if (options.store === undefined) (options.note ?? noteToStderr)(targetLine(settings));
  const store = options.store ?? (await createStore(settings.store));
  const ownsStore = options.store === undefined;

  let sandbox: ApiSandbox | undefined;
  let baseUrl = settings.wechat.apiBase;
  // Tokens and tickets of a sandbox that lives only for this command must not be cached in the shared store.
  let cacheStore = store.kv;
  try {
    const running = settings.sandbox ? runningSandbox(settings) : undefined;
    if (running && (env.WECHAT_API_BASE === undefined || env.WECHAT_API_BASE.trim() === '')) {
      // `npm start` in sandbox mode is running: talk to ITS stand-in servers, so what a command does
      // (push a menu, make a QR code) is what the running bot sees.
      baseUrl = running.api;
      log.info({ url: running.api }, "sandbox mode: using the running bot's sandbox");
    } else if (settings.sandbox && (env.WECHAT_API_BASE === undefined || env.WECHAT_API_BASE.trim() === '')) {
      sandbox = await startApiSandbox({ appId: settings.wechat.appId, appSecret: settings.wechat.appSecret });
      baseUrl = sandbox.url;
      cacheStore = createMemoryStore().kv;
      log.info({ url: sandbox.url }, 'sandbox mode: API calls go to the in-process sandbox');
    }
  } catch (err) {
    if (ownsStore) await store.close();
    throw err;
  }
  const tokens = createTokenProvider({
    appId: settings.wechat.appId,
    appSecret: settings.wechat.appSecret,
    baseUrl,
    store: cacheStore,
    stable: settings.wechat.stableToken,
    log,
  });
  const api = createApiClient({ baseUrl, tokens, log, store: cacheStore });
  let closed = false;
  let durable: Promise<DurableStores> | undefined;
  return {
    settings,
    store,
    tokens,
    api,
    log,
    sandbox,
    durable() {
      durable ??= openDurable(durableHomeOf(store, settings.store.sqlitePath), { billNoTag: settings.store.billNoTag });
      return durable;
    },
    async close() {
      if (closed) return;
      closed = true;
      await sandbox?.close();
      if (durable) await (await durable.catch(() => undefined))?.close();
      if (ownsStore) await store.close();
    },
  };
}
