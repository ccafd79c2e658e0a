/**
 * A complete webhook for tests: `createWebhook()` over a memory store, the real EJS renderer from
 * `views/`, a manual clock, a capturing logger and a recording handler (default: echo text, `none` for
 * everything else). Drive it with supertest on `callback` (never a fixed port).
 *
 * @example
 * const t = createTestWebhook();
 * const res = await request(t.callback).post(`/wechat?${t.query()}`).type('text/xml').send(textXml({ content: 'hi' }));
 * expect(t.handlerCalls).toHaveLength(1);
 * @see https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
 */
import { join } from 'node:path';
import type Koa from 'koa';
import { fixedClock, type ManualClock } from '../../src/lib/clock';
import { createLogger, type Logger } from '../../src/lib/logger';
import { createMetrics, type Metrics } from '../../src/lib/metrics';
import type { Reply } from '../../src/reply/reply';
import { createReplyRenderer, type ReplyRenderer } from '../../src/reply/render-reply';
import { createMemoryStore } from '../../src/store/memory';
import type { BindingStore, DedupeStore, Store } from '../../src/store/ports';
import { createMessageCrypto, type MessageCrypto } from '../../src/wechat/crypto';
import type { InboundMessage } from '../../src/wechat/inbound';
import { type AppOptions, createWebhook } from '../../src/wechat/koa/create-webhook';
import type { WebhookState } from '../../src/wechat/koa/state';
import { signedQuery, toQueryString, type SignedQueryOptions } from './signed-query';

// === Constants

/** The webhook token of the test account (3–32 letters or digits, as WeChat's console allows). */
export const TEST_TOKEN = 'EdgeTestToken7q2Zr';
/** Our AppId; the tail of every safe-mode frame must equal it. */
export const TEST_APPID = 'wx5e1f0c2b9d8a7e63';
/** The current EncodingAESKey (43 characters). */
export const TEST_AES_KEY = 'kT9sQ2vX7mB4nR1pL6wZ3yC8dF5gH0jK2aE4uI7oP1s';
/** The key before the last rotation. */
export const TEST_PREVIOUS_AES_KEY = 'Zq8Wn3Lp6Rt1Vx4Ys7Ub0Mc5Nd2Fe9Gh3Jk6Lm1Op4Q';
/** Our account's original id, as `ToUserName` of inbound packets built by `test/helpers/inbound.ts`. */
export const TEST_ACCOUNT = 'gh_testaccount01';

/** The `views/` folder at the repository root. */
export const VIEWS_DIR = join(__dirname, '..', '..', 'views');

// === Types

export interface TestWebhookOverrides extends Partial<Omit<AppOptions, 'crypto' | 'dedupe' | 'bindings' | 'log' | 'clock'>> {
  /** Default: the test token, appid and AES key (safe mode on). `null` = no AES key configured. */
  crypto?: MessageCrypto | null;
  /** Default: a fresh memory store on the test clock. */
  store?: Store;
  /** Replaces `store.dedupe` (a spy, or a store shared with another instance). */
  dedupe?: DedupeStore;
  /** Replaces `store.bindings` (a failing store, or one shared with another instance). */
  bindings?: BindingStore;
  /** Default: `fixedClock(Date.now())`, so signed queries with real time are in the window. */
  clock?: ManualClock;
  /** Default `debug`, so every line the edge can write is captured. */
  logLevel?: string;
  /** Secret values the logger scrubs; default none, so a leak by the edge itself shows. */
  logSecrets?: readonly string[];
}

export interface TestWebhook {
  app: Koa<WebhookState>;
  /** `app.callback()`, for supertest. */
  callback: ReturnType<Koa['callback']>;
  store: Store;
  clock: ManualClock;
  metrics: Metrics;
  renderer: ReplyRenderer;
  /** The safe-mode crypto of the webhook (undefined when built with `crypto: null`). */
  crypto?: MessageCrypto;
  log: Logger;
  /** Every line the logger wrote, raw JSON. */
  logLines: string[];
  /** Every message the handler was called with, in order. */
  handlerCalls: InboundMessage[];
  /** Every error the app emitted (`app.emit('error')`). */
  errors: unknown[];
  /** Resolves with the first log line (already written or still to come) that matches `pattern`. */
  waitForLog(pattern: RegExp | string): Promise<string>;
  /** A signed query string on the webhook's token and clock (`encrypt` adds safe mode). */
  query(options?: SignedQueryOptions): string;
}

// === Factory

/** The default handler: echoes a text message, no reply to anything else. */
export function echoHandler(message: InboundMessage): Reply {
  if (message.MsgType === 'text') return { type: 'text', content: message.Content };
  return { type: 'none' };
}

/**
 * Builds a webhook app for tests. Everything is overridable; the defaults are a memory store, the real
 * views, safe mode configured with `TEST_AES_KEY`, a debug logger whose lines land in `logLines`.
 */
export function createTestWebhook(overrides: TestWebhookOverrides = {}): TestWebhook {
  const { crypto: cryptoOverride, store: storeOverride, dedupe, bindings, clock: clockOverride, logLevel, logSecrets, handler, ...rest } = overrides;
  const clock = clockOverride ?? fixedClock(Date.now());
  const store = storeOverride ?? createMemoryStore({ clock });
  const logLines: string[] = [];
  const logWaiters: { test: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  const log = createLogger({
    level: logLevel ?? 'debug',
    secrets: logSecrets,
    destination: {
      write(line: string) {
        logLines.push(line);
        for (const w of [...logWaiters]) {
          if (w.test(line)) {
            logWaiters.splice(logWaiters.indexOf(w), 1);
            w.resolve(line);
          }
        }
      },
    },
  });
  const crypto = cryptoOverride === null ? undefined : (cryptoOverride ?? createMessageCrypto({ encodingAESKey: TEST_AES_KEY, appId: TEST_APPID }));
  const renderer = rest.renderer ?? createReplyRenderer({ viewsDir: VIEWS_DIR });
  const metrics = rest.metrics ?? createMetrics();
  const handlerCalls: InboundMessage[] = [];
  const inner = handler ?? echoHandler;
  const app = createWebhook({
    token: TEST_TOKEN,
    // The bearer guards count failures in the test's store unless a test brings its own.
    auth: { counters: store.counters, kv: store.kv },
    ...rest,
    renderer,
    metrics,
    crypto,
    dedupe: dedupe ?? store.dedupe,
    bindings: bindings ?? store.bindings,
    log,
    clock,
    handler: function recordingHandler(message, delivery) {
      handlerCalls.push(message);
      return inner(message, delivery);
    },
  });
  const errors: unknown[] = [];
  app.on('error', (err: unknown) => errors.push(err));
  const token = rest.token ?? TEST_TOKEN;
  return {
    app,
    callback: app.callback(),
    store,
    clock,
    metrics,
    renderer,
    crypto,
    log,
    logLines,
    handlerCalls,
    errors,
    waitForLog(pattern: RegExp | string) {
      const test = (line: string) => (typeof pattern === 'string' ? line.includes(pattern) : pattern.test(line));
      const seen = logLines.find(test);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<string>((resolve) => logWaiters.push({ test, resolve }));
    },
    query(options: SignedQueryOptions = {}) {
      return toQueryString(signedQuery(token, { timestamp: Math.floor(clock.now() / 1000), ...options }));
    },
  };
}

/**
 * A safe-mode body around `xml`: `<xml><ToUserName/><Encrypt/></xml>`, and the `Encrypt` text to sign.
 * With `compatible`, the plain fields of `xml` stay beside `Encrypt` (compatible mode).
 */
export function encryptedBody(
  crypto: MessageCrypto,
  xml: string,
  options: { toUserName?: string; compatible?: boolean; keyIndex?: 0 | 1 } = {},
): { body: string; encrypt: string } {
  const encrypt = crypto.encrypt(xml, { keyIndex: options.keyIndex });
  if (options.compatible) {
    const body = xml.replace(/<\/xml>\s*$/, `<Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`);
    return { body, encrypt };
  }
  const to = options.toUserName ?? TEST_ACCOUNT;
  return { body: `<xml><ToUserName><![CDATA[${to}]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`, encrypt };
}

/** A promise with its resolve function outside, to hold a handler until the test lets it go. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (err: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
