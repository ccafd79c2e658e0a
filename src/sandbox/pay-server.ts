/**
 * A faithful loopback stand-in for WeChat Pay v2 red packets (`sendredpack`, `sendgroupredpack`,
 * `gethbinfo`), for tests and for `npm start` without credentials.
 *
 * Like WeChat Pay it requires a client certificate (mutual TLS, signed by the sandbox CA, CN = mch_id),
 * checks signatures (MD5, or HMAC-SHA256 when `sign_type` says so), refuses undocumented or invalid
 * fields, keeps a merchant balance and per-follower daily limits, and is re-entrant by `mch_billno`: a
 * bill number already paid is answered with the FIRST packet's result and never pays again — with the
 * first packet's `re_openid`, `total_amount` and `send_listid` even when this request names another
 * openid or amount (how a bill-number collision between two ledgers looks from the bot; option
 * `reentryMismatch: 'fatal_error'` answers FATAL_ERROR instead, the other documented answer). A bill
 * of sendredpack re-sent to sendgroupredpack (or back) answers FATAL_ERROR. Faults (SYSTEMERROR, timeouts, resets, 5xx, garbage, bad
 * signatures, PROCESSING, forced err_codes, latency) are drawn from a seeded PRNG and model both
 * "paid, answer lost" and "not paid".
 *
 * Every payout is counted (`timesPaid` per bill, `timesPaidTo(openId)` per follower); with `stateFile`
 * the bills survive a restart. What it models from WeChat's docs, and what it does not: docs/sandbox.md.
 *
 * The certificates in `./certs` are public and sandbox-only (see `certs/README.md`).
 *
 * This file only composes: one state object (`pay-state.ts`, with the state file), the route table of
 * each area (`pay-send-routes.ts`: sendredpack and the group sendgroupredpack; `pay-query-routes.ts`:
 * gethbinfo), the money rules (`pay-money.ts`) and the HTTPS server (`pay-http.ts`).
 *
 * @example
 * const pay = await startPaySandbox();
 * const client = createPayClient({ ..., baseUrl: pay.url, ca: pay.ca, cert: loadMerchantCert({ certPath: SANDBOX_PAY_CERTS.p12, mchId: pay.mchId }) });
 * pay.faults.set({ systemErrorRate: 0.3, timeoutRate: 0.1 });
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import fs from 'node:fs';
import { SANDBOX_CREDENTIALS } from '../config/settings';
import { systemClock, type Clock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import { SANDBOX_PAY_CERTS } from '../lib/sandbox-certs';
import { listenPaySandbox } from './pay-http';
import { receive, refundUnclaimed } from './pay-money';
import { queryRoutes } from './pay-query-routes';
import type { PayRoute, PayRouteTable } from './pay-route';
import { sendRoutes } from './pay-send-routes';
import { createPayState, persist, type PaySandboxFaults, type SandboxPayCall, type SandboxPayment } from './pay-state';
import type { PaySandboxEndpoint } from './pay-validate';

export type { PaySandboxEndpoint } from './pay-validate';
export type { PaySandboxFaults, SandboxPayCall, SandboxPayment } from './pay-state';

/** Paths of the public sandbox certificates (see `certs/README.md`). */
export { SANDBOX_PAY_CERTS } from '../lib/sandbox-certs';

// === Types

export interface PaySandboxOptions {
  mchId?: string;
  key?: string;
  /** Official Account appids bound to the merchant (wxappid, msgappid). Default: the sandbox appid. */
  appIds?: string[];
  /** Sub-merchants of this service provider (sub_mch_id, consume_mch_id). Default ['1900000110']. */
  subMchIds?: string[];
  host?: '127.0.0.1';
  port?: number;
  clock?: Clock;
  /** Operating-account balance (default 100 000 000 fen = 1 000 000 yuan). */
  balanceFen?: number;
  /** PRNG seed for faults (default 1). */
  seed?: number;
  /** Per-packet range without scene_id (default [100, 20000]) and with it (default [1, 499999]). */
  amountRangeFen?: readonly [number, number];
  sceneAmountRangeFen?: readonly [number, number];
  /**
   * The merchant's send rate, as WeChat Pay enforces it: sends paid in the current wall-clock second /
   * minute; one more answers FREQ_LIMIT (retry with the same bill number, after back-off). Default
   * `{ perSecond: 30 }`: "发送频率限制------默认30/秒" in the current sendredpack doc
   * (https://pay.weixin.qq.com/doc/v2/merchant/4011974053, updated 2025-08-22; older pages said
   * 1800/min). `'unlimited'` lifts it, for tests that send in bulk at one frozen instant.
   */
  sendRate?: { perSecond?: number; perMinute?: number } | 'unlimited';
  /**
   * Per follower per (Beijing) day: count (default 10, then SENDNUM_LIMIT) and amount (default 100 000
   * fen, then RCVDAMOUNT_LIMIT) — "单用户单日可领取红包个数上限--10个", "单用户单日收款金额上限--1000元" on
   * the same sendredpack page.
   */
  perUserDailyCount?: number;
  perUserDailyAmountFen?: number;
  /** Merchant per day (default 100 000 000 fen, then SENDAMOUNT_LIMIT): "商户单日出资金额上限--100万元". */
  merchantDailyAmountFen?: number;
  /** Unclaimed SENT packets turn RFUND_ING after this long, seen on the next request (default 24 h, WeChat's window). */
  refundAfterMs?: number;
  /**
   * RFUND_ING turns REFUND (money back, `refund_time`) this long later (default 1 h; WeChat documents
   * the state but not how long it lasts).
   */
  refundSettleMs?: number;
  /**
   * A file under the data folder holding the sandbox's bills and balance (JSON, mode 0600, written
   * with temp file + rename after every change), so a restart on the same file keeps them: a bill paid
   * before the restart is found by gethbinfo and re-entered, never paid again. Default: memory only.
   */
  stateFile?: string;
  /**
   * Which answers carry `sign` (transport refusals never do). `sends` (default): send answers (and
   * SYSTEMERROR) signed, gethbinfo not; `none`: no answer signed — what api.mch.weixin.qq.com does for
   * red packets, although the doc's field table lists `sign` (see `src/pay/client.ts`); `all`: gethbinfo
   * signed too. `badSignatureRate` answers sends with a wrong `sign` in every shape, gethbinfo only with `all`.
   */
  answerSign?: 'sends' | 'none' | 'all';
  /**
   * A paid bill number sent again with another openid, amount or total_num: answer with the first
   * packet's result (`first_result`, default — its re_openid and total_amount, never this request's)
   * or with FATAL_ERROR (`fatal_error`). Either way nothing is paid again.
   */
  reentryMismatch?: 'first_result' | 'fatal_error';
  log?: Logger;
}

/** A running sandbox with its inspection API. */
export interface PaySandbox {
  /** `https://127.0.0.1:PORT` — use as WECHAT_PAY_API_BASE. */
  readonly url: string;
  /** The sandbox CA (PEM) — pass as the client's `ca` so TLS stays verified. */
  readonly ca: Buffer;
  readonly mchId: string;
  readonly key: string;
  readonly faults: { set(faults: PaySandboxFaults): void; clear(): void; get(): Readonly<PaySandboxFaults> };
  /** Paid packets by bill number. */
  readonly payments: ReadonlyMap<string, SandboxPayment>;
  paymentsTo(openId: string): SandboxPayment[];
  /** How many times money left for this follower: the sum of `timesPaid` of the packets to them. */
  timesPaidTo(openId: string): number;
  /** Every request received, in order. */
  readonly calls: readonly SandboxPayCall[];
  callsTo(endpoint: PaySandboxEndpoint): SandboxPayCall[];
  /** Current operating-account balance. */
  readonly balanceFen: number;
  setBalanceFen(fen: number): void;
  /** The follower opens the packet: SENT → RECEIVED. Throws when the bill is unknown or not SENT. */
  receive(billNo: string, claims?: { openId: string; amountFen: number }[]): void;
  /** Refunds SENT packets older than `olderThanMs` (default refundAfterMs) at once: SENT → REFUND; returns their bill numbers. */
  refundUnclaimed(olderThanMs?: number): string[];
  close(): Promise<void>;
}

// === Composition

/** Every area the sandbox serves, in one table. */
const AREAS: readonly PayRouteTable[] = [sendRoutes, queryRoutes];

/**
 * Starts the sandbox on loopback (port 0 = any free port).
 *
 * @example const pay = await startPaySandbox({ balanceFen: 10_000, seed: 7 }); … await pay.close();
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export async function startPaySandbox(options: PaySandboxOptions = {}): Promise<PaySandbox> {
  const mchId = options.mchId ?? SANDBOX_CREDENTIALS.mchId;
  const key = options.key ?? SANDBOX_CREDENTIALS.payKey;
  if (!/^\d{6,32}$/.test(mchId)) throw new TypeError('startPaySandbox: mchId must be digits');
  if (key.length === 0) throw new TypeError('startPaySandbox: key is required');
  const appIds = new Set(options.appIds ?? [SANDBOX_CREDENTIALS.appId]);
  const subMchIds = new Set(options.subMchIds ?? ['1900000110']);
  const host = options.host ?? '127.0.0.1';
  if (host !== '127.0.0.1') throw new TypeError('startPaySandbox: the sandbox listens on 127.0.0.1 only');
  const clock = options.clock ?? systemClock;
  const amountRules = {
    defaultRangeFen: options.amountRangeFen ?? ([100, 20000] as const),
    sceneRangeFen: options.sceneAmountRangeFen ?? ([1, 499_999] as const),
  };
  const refundAfterMs = options.refundAfterMs ?? 24 * 3600 * 1000;
  const answerSign = options.answerSign ?? 'sends';
  if (!['sends', 'none', 'all'].includes(answerSign)) throw new TypeError(`startPaySandbox: answerSign "${String(answerSign)}" is not sends, none or all`);
  const reentryMismatch = options.reentryMismatch ?? 'first_result';
  if (reentryMismatch !== 'first_result' && reentryMismatch !== 'fatal_error')
    throw new TypeError('startPaySandbox: reentryMismatch must be first_result or fatal_error');
  const state = createPayState(
    {
      mchId,
      key,
      appIds,
      subMchIds,
      clock,
      amountRules,
      perUserDailyCount: options.perUserDailyCount ?? 10,
      perUserDailyAmountFen: options.perUserDailyAmountFen ?? 100_000,
      merchantDailyAmountFen: options.merchantDailyAmountFen ?? 100_000_000,
      refundAfterMs,
      refundSettleMs: options.refundSettleMs ?? 3600 * 1000,
      sendRate: options.sendRate === 'unlimited' ? {} : (options.sendRate ?? { perSecond: 30 }),
      answerSign,
      reentryMismatch,
      stateFile: options.stateFile,
      log: options.log?.child({ module: 'sandbox-pay' }),
    },
    { balanceFen: options.balanceFen ?? 100_000_000, seed: options.seed ?? 1 },
  );
  const ca = fs.readFileSync(SANDBOX_PAY_CERTS.ca);
  const routes = new Map<string, PayRoute>();
  for (const table of AREAS) for (const r of table) routes.set(r.path, r);
  const server = await listenPaySandbox({ state, routes, host, port: options.port ?? 0, ca });
  const { payments, calls } = state;

  const sandbox: PaySandbox = {
    url: `https://${host}:${server.port}`,
    ca,
    mchId,
    key,
    faults: {
      set(next: PaySandboxFaults) {
        state.faults = { ...next };
        state.errCodeLeft = next.errCodeTimes ?? Infinity;
      },
      clear() {
        state.faults = {};
        state.errCodeLeft = Infinity;
      },
      get: () => state.faults,
    },
    payments,
    paymentsTo: (openId) => [...payments.values()].filter((p) => p.openId === openId),
    timesPaidTo: (openId) => [...payments.values()].reduce((n, p) => n + (p.openId === openId ? p.timesPaid : 0), 0),
    calls,
    callsTo: (endpoint) => calls.filter((c) => c.endpoint === endpoint),
    get balanceFen() {
      return state.balanceFen;
    },
    setBalanceFen(fen: number) {
      if (!Number.isSafeInteger(fen) || fen < 0) throw new TypeError('setBalanceFen: a whole, non-negative number of fen');
      state.balanceFen = fen;
      persist(state);
    },
    receive(billNo, claims) {
      receive(state, billNo, claims);
      persist(state);
    },
    refundUnclaimed(olderThanMs = refundAfterMs) {
      const refunded = refundUnclaimed(state, olderThanMs);
      if (refunded.length > 0) persist(state);
      return refunded;
    },
    close: () => server.close(),
  };
  return sandbox;
}
