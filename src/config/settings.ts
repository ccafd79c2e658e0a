/**
 * Process settings from the environment (12-factor), with `.env` support. Operator rules live in YAML
 * under `config/`; secrets and endpoints live here. Missing or invalid settings fail at start with a
 * message naming the variable and what is wrong.
 *
 * With no WeChat credentials configured the bot runs in sandbox mode: the API and Pay clients talk to
 * the built-in stand-in servers (`src/sandbox`), so a newcomer sees the whole flow offline.
 *
 * @example const settings = loadSettings(process.env);
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { parseTrustedProxies, type TrustedProxies } from '../lib/client-address';

export class SettingsError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'SettingsError';
  }
}

export interface Settings {
  port: number;
  /**
   * HOST: the bind address of PORT. Default: `127.0.0.1` in sandbox mode (a laptop; the sandbox
   * credentials are public), every interface otherwise (undefined: `::`, or `0.0.0.0` without IPv6).
   */
  host?: string;
  /** ADMIN_PORT: serve the staff endpoints, the detailed /healthz and /metrics on this port only. */
  adminPort?: number;
  /** ADMIN_HOST: the bind address of ADMIN_PORT (default: HOST). */
  adminHost?: string;
  /** BOT_METRICS_TOKEN: when set, GET /metrics needs it as a bearer token (≥ 16 characters). */
  metricsToken?: string;
  /** BOT_TRUSTED_PROXIES: proxies whose X-Forwarded-For names the client (default `loopback`). */
  trustedProxies: TrustedProxies;
  /** Folder of the operator YAML (BOT_CONFIG_DIR, default `config/`). */
  configDir: string;
  /** Folder of the SQLite file and other local state (BOT_DATA_DIR, default `data/`). */
  dataDir: string;
  /** Folder of the EJS views (BOT_VIEWS_DIR, default `views/`). */
  viewsDir: string;
  /** True when no WeChat credentials are configured: clients use the built-in sandbox. */
  sandbox: boolean;
  wechat: {
    token: string;
    appId: string;
    appSecret: string;
    /** Safe/compatible mode key (43 chars); undefined = plain mode only. */
    encodingAESKey?: string;
    /** The previous key, still accepted for decryption while rotating (WECHAT_ENCODING_AES_KEY_PREVIOUS). */
    previousEncodingAESKey?: string;
    /** WECHAT_API_BASE, default https://api.weixin.qq.com */
    apiBase: string;
    /** Accepted clock skew of signed requests, seconds (WECHAT_TIMESTAMP_WINDOW, default 300). */
    timestampWindowSeconds: number;
    /** Use /cgi-bin/stable_token instead of /cgi-bin/token (WECHAT_STABLE_TOKEN=1). */
    stableToken: boolean;
    /**
     * WECHAT_SAFE_MODE_ONLY: refuse plain requests, handle encrypted (safe or compatible mode) ones
     * only. On by default whenever an AES key is set (configuring the key means the account chose
     * safe mode; accepting plain too would leave the downgrade open); `0` while switching modes.
     */
    safeModeOnly: boolean;
  };
  pay: {
    mchId?: string;
    key?: string;
    /** Path of apiclient_cert.p12, or of a PEM certificate (then WECHAT_PAY_KEY_PEM names the key). */
    certPath?: string;
    keyPemPath?: string;
    certPassphrase?: string;
    /** WECHAT_PAY_API_BASE, default https://api.mch.weixin.qq.com */
    apiBase: string;
    /**
     * WECHAT_PAY_CA: a PEM file of the certificate authority that signed the Pay server's certificate,
     * trusted INSTEAD of the public roots for Pay calls — for a stand-in such as `wechat-bot sandbox`;
     * never set it for the real server.
     */
    caPath?: string;
    /** WECHAT_PAY_CLIENT_IP: the IPv4 sent as client_ip. */
    clientIp: string;
    /** WECHAT_PAY_APIV3_KEY: decrypts v3 payment notifications (32 characters). */
    apiV3Key?: string;
    /** WECHAT_PAY_PLATFORM_CERT: comma-separated PEM files (platform certificates, or a public key) verifying v3 notifications. */
    platformCertPaths: string[];
    /** WECHAT_PAY_PUBLIC_KEY_ID: the id (PUB_KEY_ID_…) of a platform public key given in WECHAT_PAY_PLATFORM_CERT. */
    publicKeyId?: string;
  };
  /** BOT_PAY_NOTIFY_PATH: where WeChat Pay posts payment notifications (default `/wechat/pay/notify`). */
  payNotifyPath: string;
  store: {
    sqlitePath: string;
    /** REDIS_URL: de-duplication, token cache and counters on Redis. */
    redisUrl?: string;
    /** DATABASE_URL: ledger and outbox on PostgreSQL. */
    databaseUrl?: string;
    /** BOT_REDIS_PREFIX: put before every Redis key (default `wechat-bot:`), so several bots share one Redis. */
    redisPrefix?: string;
    /** BOT_PG_SCHEMA: the PostgreSQL schema of every table (created when missing; default: the search_path). */
    postgresSchema?: string;
    /**
     * BOT_BILLNO_TAG: the ledger's 3-digit tag inside its bill numbers (100–999; default: drawn when the
     * ledger is created). Give staging and production different tags when they share a mch_id.
     */
    billNoTag?: string;
  };
  /**
   * BOT_OUTBOX_LEASE_MS: how long an outbox worker owns the grants it claimed (default 60 000). When an
   * instance dies, its claimed grants go to the other instances' workers after this long. Keep it above
   * the WeChat Pay client's timeout (10 s).
   */
  outboxLeaseMs?: number;
  /** Bearer token for the staff/admin HTTP endpoints (BOT_ADMIN_TOKEN); unset = endpoints disabled. */
  adminToken?: string;
  /**
   * BOT_PUBLIC_URL: the URL people reach the bot at (e.g. `https://bot.example.com`, behind a TLS proxy);
   * when https, the operator console's cookies are Secure.
   */
  publicUrl?: string;
  /** LOG_LEVEL: one of {@link LOG_LEVELS} (default info; the CLI's default is warn). */
  logLevel: (typeof LOG_LEVELS)[number];
  /** BOT_ACCESS_LOG: one access line per request at info (default true; 0 turns it off). */
  accessLog: boolean;
  /** Every secret value, for scrubbing logs. */
  secrets: string[];
}

type Env = Record<string, string | undefined>;

/** Sandbox credentials: public by design, accepted only by the built-in sandbox servers. */
export const SANDBOX_CREDENTIALS = {
  token: 'sandboxtoken',
  appId: 'wx0000sandbox0000',
  appSecret: 'sandbox-app-secret-0000000000000',
  mchId: '1900000109',
  payKey: 'sandboxpaykey0000000000000000000',
  /** The APIv3 key of the sandbox pay notifier (`npx wechat-bot sandbox pay --v3`). */
  apiV3Key: 'sandboxapiv3key00000000000000000',
} as const;

function str(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function int(env: Env, name: string, dflt: number, min: number, max: number): number {
  const raw = str(env, name);
  if (raw === undefined) return dflt;
  if (!/^\d+$/.test(raw)) throw new SettingsError(name, `"${raw}" is not a whole number (expected ${min}–${max})`);
  const n = Number(raw);
  if (n < min || n > max) throw new SettingsError(name, `${n} is out of range (expected ${min}–${max})`);
  return n;
}

function bool(env: Env, name: string, dflt = false): boolean {
  const raw = str(env, name);
  if (raw === undefined) return dflt;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new SettingsError(name, `"${raw}" is not a boolean (use 1/0, true/false)`);
}

/** A file path setting resolved against `cwd`; it must name a readable file when set. */
function optionalPath(env: Env, name: string, cwd: string): string | undefined {
  const raw = str(env, name);
  if (raw === undefined) return undefined;
  const file = path.resolve(cwd, raw);
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch {
    throw new SettingsError(name, `cannot read the file ${file}`);
  }
  return file;
}

/** The levels LOG_LEVEL accepts (pino's). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], dflt: T): T {
  const raw = str(env, name);
  if (raw === undefined) return dflt;
  const value = raw.toLowerCase();
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new SettingsError(name, `"${raw}" is not one of ${allowed.join(', ')}`);
}

function bindHost(env: Env, name: string): string | undefined {
  const raw = str(env, name);
  if (raw === undefined) return undefined;
  const host = raw.startsWith('[') && raw.endsWith(']') ? raw.slice(1, -1) : raw;
  if (host !== 'localhost' && net.isIP(host) === 0) throw new SettingsError(name, `"${raw}" is not an IP address to bind to (e.g. 127.0.0.1, 0.0.0.0, ::)`);
  return host;
}

function url(env: Env, name: string, dflt: string): string {
  const raw = str(env, name) ?? dflt;
  try {
    const u = new URL(raw);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('protocol');
  } catch {
    throw new SettingsError(name, `"${raw}" is not an http(s) URL`);
  }
  return raw.replace(/\/+$/, '');
}

/**
 * Reads and validates settings. Pass `process.env` (after `dotenv`), or an object in tests.
 * `cwd` anchors the default folders.
 */
export function loadSettings(env: Env = process.env, cwd: string = process.cwd()): Settings {
  const appSecret = str(env, 'WECHAT_APPSECRET');
  const appIdRaw = str(env, 'WECHAT_APPID');
  const sandbox = appSecret === undefined && appIdRaw === undefined;
  if (!sandbox) {
    if (appIdRaw === undefined) throw new SettingsError('WECHAT_APPID', 'is required when WECHAT_APPSECRET is set');
    if (appSecret === undefined) throw new SettingsError('WECHAT_APPSECRET', 'is required when WECHAT_APPID is set');
    if (!/^wx[0-9a-zA-Z]{14,18}$/.test(appIdRaw)) throw new SettingsError('WECHAT_APPID', `"${appIdRaw}" does not look like an AppID (wx followed by 16 letters/digits)`);
  }
  const token = str(env, 'WECHAT_TOKEN') ?? (sandbox ? SANDBOX_CREDENTIALS.token : undefined);
  if (token === undefined) throw new SettingsError('WECHAT_TOKEN', 'is required (the Token set in the WeChat admin console, 3–32 letters or digits)');
  if (!/^[A-Za-z0-9]{3,32}$/.test(token)) throw new SettingsError('WECHAT_TOKEN', 'must be 3–32 ASCII letters or digits, as the WeChat admin console requires');
  const checkAesKey = (name: string) => {
    const k = str(env, name);
    if (k !== undefined && !/^[A-Za-z0-9]{43}$/.test(k)) throw new SettingsError(name, `must be exactly 43 letters or digits (got ${k.length} characters)`);
    return k;
  };
  const encodingAESKey = checkAesKey('WECHAT_ENCODING_AES_KEY');
  const previousEncodingAESKey = checkAesKey('WECHAT_ENCODING_AES_KEY_PREVIOUS');

  const mchId = str(env, 'WECHAT_MCH_ID');
  const payKey = str(env, 'WECHAT_PAY_KEY');
  const certPath = str(env, 'WECHAT_PAY_CERT');
  if (mchId !== undefined && !/^\d{6,32}$/.test(mchId)) throw new SettingsError('WECHAT_MCH_ID', `"${mchId}" is not a merchant id (digits)`);
  if (mchId !== undefined && payKey === undefined) throw new SettingsError('WECHAT_PAY_KEY', 'is required when WECHAT_MCH_ID is set (the 32-character API v2 key)');
  if (payKey !== undefined && payKey.length !== 32) throw new SettingsError('WECHAT_PAY_KEY', `must be 32 characters (got ${payKey.length})`);
  if (mchId !== undefined && certPath === undefined)
    throw new SettingsError('WECHAT_PAY_CERT', 'is required when WECHAT_MCH_ID is set (path of apiclient_cert.p12 or apiclient_cert.pem)');
  const apiV3Key = str(env, 'WECHAT_PAY_APIV3_KEY');
  if (apiV3Key !== undefined && Buffer.byteLength(apiV3Key) !== 32) throw new SettingsError('WECHAT_PAY_APIV3_KEY', `must be 32 characters (got ${apiV3Key.length})`);
  const payNotifyPath = str(env, 'BOT_PAY_NOTIFY_PATH') ?? '/wechat/pay/notify';
  if (!/^\/[A-Za-z0-9/_.-]*$/.test(payNotifyPath)) throw new SettingsError('BOT_PAY_NOTIFY_PATH', `"${payNotifyPath}" is not a URL path like /wechat/pay/notify`);
  const clientIp = str(env, 'WECHAT_PAY_CLIENT_IP') ?? '127.0.0.1';
  if (!/^(\d{1,3})(\.\d{1,3}){3}$/.test(clientIp)) throw new SettingsError('WECHAT_PAY_CLIENT_IP', `"${clientIp}" is not an IPv4 address`);

  const dataDir = path.resolve(cwd, str(env, 'BOT_DATA_DIR') ?? 'data');
  const port = int(env, 'PORT', 3000, 0, 65535);
  const host = bindHost(env, 'HOST') ?? (sandbox ? '127.0.0.1' : undefined);
  const adminPort = str(env, 'ADMIN_PORT') === undefined ? undefined : int(env, 'ADMIN_PORT', 0, 0, 65535);
  if (adminPort !== undefined && adminPort !== 0 && adminPort === port) throw new SettingsError('ADMIN_PORT', `must differ from PORT (both are ${port})`);
  let trustedProxies: TrustedProxies;
  try {
    trustedProxies = parseTrustedProxies(str(env, 'BOT_TRUSTED_PROXIES') ?? 'loopback');
  } catch (err) {
    throw new SettingsError('BOT_TRUSTED_PROXIES', (err as Error).message);
  }
  const settings: Settings = {
    port,
    host,
    adminPort,
    adminHost: bindHost(env, 'ADMIN_HOST') ?? host,
    metricsToken: str(env, 'BOT_METRICS_TOKEN'),
    trustedProxies,
    configDir: path.resolve(cwd, str(env, 'BOT_CONFIG_DIR') ?? 'config'),
    dataDir,
    viewsDir: path.resolve(cwd, str(env, 'BOT_VIEWS_DIR') ?? 'views'),
    sandbox,
    wechat: {
      token,
      appId: appIdRaw ?? SANDBOX_CREDENTIALS.appId,
      appSecret: appSecret ?? SANDBOX_CREDENTIALS.appSecret,
      encodingAESKey,
      previousEncodingAESKey,
      apiBase: url(env, 'WECHAT_API_BASE', 'https://api.weixin.qq.com'),
      timestampWindowSeconds: int(env, 'WECHAT_TIMESTAMP_WINDOW', 300, 1, 86400),
      stableToken: bool(env, 'WECHAT_STABLE_TOKEN'),
      safeModeOnly: bool(env, 'WECHAT_SAFE_MODE_ONLY', encodingAESKey !== undefined),
    },
    pay: {
      mchId: mchId ?? (sandbox ? SANDBOX_CREDENTIALS.mchId : undefined),
      key: payKey ?? (sandbox ? SANDBOX_CREDENTIALS.payKey : undefined),
      certPath,
      keyPemPath: str(env, 'WECHAT_PAY_KEY_PEM'),
      certPassphrase: str(env, 'WECHAT_PAY_CERT_PASSPHRASE'),
      apiBase: url(env, 'WECHAT_PAY_API_BASE', 'https://api.mch.weixin.qq.com'),
      caPath: optionalPath(env, 'WECHAT_PAY_CA', cwd),
      clientIp,
      apiV3Key: apiV3Key ?? (sandbox ? SANDBOX_CREDENTIALS.apiV3Key : undefined),
      platformCertPaths: (str(env, 'WECHAT_PAY_PLATFORM_CERT') ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .map((f) => path.resolve(cwd, f)),
      publicKeyId: str(env, 'WECHAT_PAY_PUBLIC_KEY_ID'),
    },
    payNotifyPath,
    store: {
      sqlitePath: path.resolve(dataDir, str(env, 'BOT_SQLITE_FILE') ?? 'wechat-bot.sqlite'),
      redisUrl: str(env, 'REDIS_URL'),
      databaseUrl: str(env, 'DATABASE_URL'),
      redisPrefix: str(env, 'BOT_REDIS_PREFIX'),
      postgresSchema: str(env, 'BOT_PG_SCHEMA'),
      billNoTag: str(env, 'BOT_BILLNO_TAG'),
    },
    outboxLeaseMs: int(env, 'BOT_OUTBOX_LEASE_MS', 60_000, 1000, 3_600_000),
    adminToken: str(env, 'BOT_ADMIN_TOKEN'),
    publicUrl: str(env, 'BOT_PUBLIC_URL') === undefined ? undefined : url(env, 'BOT_PUBLIC_URL', ''),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    accessLog: bool(env, 'BOT_ACCESS_LOG', true),
    secrets: [],
  };
  if (settings.wechat.safeModeOnly && encodingAESKey === undefined)
    throw new SettingsError('WECHAT_SAFE_MODE_ONLY', 'needs WECHAT_ENCODING_AES_KEY (safe mode cannot be required without the key)');
  if (settings.store.redisPrefix !== undefined && !/^[A-Za-z0-9:_.-]{1,64}$/.test(settings.store.redisPrefix))
    throw new SettingsError('BOT_REDIS_PREFIX', 'must be 1–64 letters, digits or : _ . - (e.g. "mybot:")');
  if (settings.store.postgresSchema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(settings.store.postgresSchema))
    throw new SettingsError('BOT_PG_SCHEMA', 'must be a plain lower-case identifier (letters, digits, _; not starting with a digit)');
  // No leading zero: a tagged bill number must never equal one an untagged (older) ledger gave.
  if (settings.store.billNoTag !== undefined && !/^[1-9]\d{2}$/.test(settings.store.billNoTag))
    throw new SettingsError(
      'BOT_BILLNO_TAG',
      'must be three digits, 100–999 (no leading zero), different for every environment sharing a mch_id, e.g. 101 for staging and 901 for production',
    );
  if (settings.adminToken !== undefined && settings.adminToken.length < 16) throw new SettingsError('BOT_ADMIN_TOKEN', 'must be at least 16 characters');
  if (settings.metricsToken !== undefined && settings.metricsToken.length < 16) throw new SettingsError('BOT_METRICS_TOKEN', 'must be at least 16 characters');
  settings.secrets = [
    settings.wechat.token,
    settings.wechat.appSecret,
    encodingAESKey,
    previousEncodingAESKey,
    settings.pay.key,
    settings.pay.certPassphrase,
    settings.pay.apiV3Key,
    settings.adminToken,
    settings.metricsToken,
  ].filter((s): s is string => typeof s === 'string' && !sandbox);
  return settings;
}
