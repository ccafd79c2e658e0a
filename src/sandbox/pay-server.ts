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
 * @example
 * const pay = await startPaySandbox();
 * const client = createPayClient({ ..., baseUrl: pay.url, ca: pay.ca, cert: loadMerchantCert({ certPath: SANDBOX_PAY_CERTS.p12, mchId: pay.mchId }) });
 * pay.faults.set({ systemErrorRate: 0.3, timeoutRate: 0.1 });
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { SANDBOX_CREDENTIALS } from '../config/settings';
import { systemClock, shanghaiParts, type Clock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import { SANDBOX_PAY_CERTS } from '../lib/sandbox-certs';
import { buildXml, parseXml } from '../wechat/xml';
import { signPayV2, verifyPayV2, type PaySignType } from '../pay/sign';
import type { RedpackStatus } from '../pay/types';
import { checkAmount, validatePayFields, type PayRefusal, type PaySandboxEndpoint } from './pay-validate';

export type { PaySandboxEndpoint } from './pay-validate';

// === Certificates

/** Paths of the public sandbox certificates (see `certs/README.md`). */
export { SANDBOX_PAY_CERTS } from '../lib/sandbox-certs';

// === Types

/** Fault injection; rates are probabilities 0–1 drawn from the seeded PRNG, checked in this order. */
export interface PaySandboxFaults {
  /** Added before every answer. */
  latencyMs?: number;
  /** Destroy the connection without an answer. */
  resetRate?: number;
  /** Answer HTTP 503 with an HTML page. */
  http5xxRate?: number;
  /** Never answer (the client's timeout fires); the socket is destroyed only by close(). */
  timeoutRate?: number;
  /** Answer 200 with a body that is not WeChat Pay XML. */
  garbageRate?: number;
  /** Answer `SYSTEMERROR`. */
  systemErrorRate?: number;
  /**
   * For reset / 5xx / timeout / garbage / SYSTEMERROR on a send: the share of them for which the packet
   * WAS paid before the answer went wrong (default 0.5; 1 = always paid, 0 = never).
   */
  paidShare?: number;
  /** Pay, but answer with a corrupted `sign`. */
  badSignatureRate?: number;
  /** Pay with status SENDING and answer `PROCESSING` (settles on the next query or re-send: SENT, or FAILED — see `processingFailShare`). */
  processingRate?: number;
  /**
   * Of the PROCESSING packets, the share that end FAILED instead of SENT (default 0): WeChat's risk
   * control stopped them (gethbinfo `status` FAILED with `reason`), the money goes back and a re-send of
   * the bill answers NO_AUTH.
   */
  processingFailShare?: number;
  /** Answer this err_code to sends (nothing paid), e.g. NOTENOUGH, API_METHOD_CLOSED. Re-entry of a paid bill still wins. */
  errCode?: string;
  /** How many sends get `errCode` (default: every one until cleared). */
  errCodeTimes?: number;
  /** Endpoints the rate faults apply to (default: all three). `errCode` applies to sends only. */
  endpoints?: PaySandboxEndpoint[];
}

/** One red packet the sandbox paid. */
export interface SandboxPayment {
  billNo: string;
  endpoint: 'sendredpack' | 'sendgroupredpack';
  openId: string;
  amountFen: number;
  totalNum: number;
  wxappid: string;
  subMchId?: string;
  /**
   * How often money left for this bill number: incremented by every payout recorded for the bill
   * (so a broken re-entry would show 2), taken back when a SENDING packet ends FAILED (0).
   */
  timesPaid: number;
  /** gethbinfo `reason` of a FAILED packet. */
  failReason?: string;
  /** Decided when the packet was accepted as PROCESSING: it ends FAILED, not SENT. */
  endsFailed?: boolean;
  /** When the unclaimed packet turned RFUND_ING (24 h after it was sent). */
  refundingAt?: number;
  sendListId: string;
  detailId: string;
  status: RedpackStatus;
  sentAt: number;
  receivedAt?: number;
  refundedAt?: number;
  receivedBy?: { openId: string; amountFen: number; receivedAt: number }[];
  /** The request fields of the paying call, without `sign` and `nonce_str`. */
  fields: Record<string, string>;
}

/** One request as received. */
export interface SandboxPayCall {
  endpoint: PaySandboxEndpoint | string;
  /** Raw fields as parsed (including `sign`/`nonce_str`); empty when the body was not XML. */
  fields: Record<string, string>;
  /** CN of the client certificate. */
  certCn: string;
  at: number;
  /** What happened: an err_code, SUCCESS, or the fault (RESET, HTTP_503, TIMEOUT, GARBAGE, BAD_SIGNATURE). */
  outcome: string;
  /** Whether this call paid. */
  paid: boolean;
}

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

// === Server

const PATHS: Record<string, PaySandboxEndpoint> = {
  '/mmpaymkttransfers/sendredpack': 'sendredpack',
  '/mmpaymkttransfers/sendgroupredpack': 'sendgroupredpack',
  '/mmpaymkttransfers/gethbinfo': 'gethbinfo',
};
const MAX_BODY = 64 * 1024;
const OPENID = /^[A-Za-z0-9_-]{6,32}$/;

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
  const perUserDailyCount = options.perUserDailyCount ?? 10;
  const perUserDailyAmountFen = options.perUserDailyAmountFen ?? 100_000;
  const merchantDailyAmountFen = options.merchantDailyAmountFen ?? 100_000_000;
  const refundAfterMs = options.refundAfterMs ?? 24 * 3600 * 1000;
  const refundSettleMs = options.refundSettleMs ?? 3600 * 1000;
  const sendRate = options.sendRate === 'unlimited' ? {} : (options.sendRate ?? { perSecond: 30 });
  const answerSign = options.answerSign ?? 'sends';
  if (!['sends', 'none', 'all'].includes(answerSign)) throw new TypeError(`startPaySandbox: answerSign "${String(answerSign)}" is not sends, none or all`);
  const reentryMismatch = options.reentryMismatch ?? 'first_result';
  if (reentryMismatch !== 'first_result' && reentryMismatch !== 'fatal_error')
    throw new TypeError('startPaySandbox: reentryMismatch must be first_result or fatal_error');
  const log = options.log?.child({ module: 'sandbox-pay' });
  let balanceFen = options.balanceFen ?? 100_000_000;
  const random = mulberry32(options.seed ?? 1);

  const ca = fs.readFileSync(SANDBOX_PAY_CERTS.ca);
  const payments = new Map<string, SandboxPayment>();
  const calls: SandboxPayCall[] = [];
  const stateFile = options.stateFile;
  let faults: PaySandboxFaults = {};
  let errCodeLeft = Infinity;
  let seq = 0;
  const hanging = new Set<Socket>();
  if (stateFile !== undefined) {
    const saved = loadPayState(stateFile, mchId);
    if (saved) {
      for (const p of saved.payments) payments.set(p.billNo, p);
      balanceFen = saved.balanceFen;
      seq = saved.seq;
    }
  }
  /** Writes the state file (when there is one): temp file + rename, so a crash leaves the old or the new state. */
  function persist(): void {
    if (stateFile !== undefined) savePayState(stateFile, { version: 1, mchId, balanceFen, seq, payments: [...payments.values()] });
  }

  // --- Money

  /** Unclaimed packets: SENT → RFUND_ING after refundAfterMs, → REFUND refundSettleMs later (each seen on the next request). */
  function sweep(): void {
    const now = clock.now();
    for (const p of payments.values()) {
      if (p.status === 'SENT' && now - p.sentAt >= refundAfterMs) {
        p.status = 'RFUND_ING';
        p.refundingAt = p.sentAt + refundAfterMs;
      }
      if (p.status === 'RFUND_ING' && now - (p.refundingAt ?? p.sentAt) >= refundSettleMs) refund(p, now);
    }
  }

  /** A SENDING packet settles on the next query or re-send: SENT, or FAILED with the money back. */
  function settleSending(p: SandboxPayment): void {
    if (p.status !== 'SENDING') return;
    if (!p.endsFailed) {
      p.status = 'SENT';
      return;
    }
    p.status = 'FAILED';
    p.failReason = RISK_REFUSAL;
    p.timesPaid -= 1;
    balanceFen += p.amountFen;
  }

  function refund(p: SandboxPayment, now: number): void {
    p.status = 'REFUND';
    p.refundedAt = now;
    balanceFen += p.amountFen;
  }

  function paidToday(filter: (p: SandboxPayment) => boolean): { count: number; amount: number } {
    const today = shanghaiParts(clock.now()).ymd;
    let count = 0;
    let amount = 0;
    for (const p of payments.values()) {
      if (p.status === 'FAILED' || shanghaiParts(p.sentAt).ymd !== today || !filter(p)) continue;
      count += 1;
      amount += p.amountFen;
    }
    return { count, amount };
  }

  /** FREQ_LIMIT when one more send now would exceed the merchant's send rate (options.sendRate). */
  function rateRefusal(): PayRefusal | undefined {
    const now = clock.now();
    const windows: [number | undefined, number, string][] = [
      [sendRate.perSecond, 1000, 'second'],
      [sendRate.perMinute, 60_000, 'minute'],
    ];
    for (const [limit, ms, per] of windows) {
      if (limit === undefined) continue;
      let sent = 0;
      for (const p of payments.values()) if (Math.floor(p.sentAt / ms) === Math.floor(now / ms)) sent += 1;
      if (sent >= limit) return { errCode: 'FREQ_LIMIT', des: `超过频率限制,请稍后再试 (the merchant sends at most ${limit} per ${per})` };
    }
    return undefined;
  }

  function nextIds(): { sendListId: string; detailId: string } {
    seq += 1;
    const ymd = shanghaiParts(clock.now()).ymd;
    return { sendListId: `10000000${ymd}${String(seq).padStart(14, '0')}`, detailId: `10000417${ymd}${String(seq).padStart(15, '0')}` };
  }

  // --- Answers

  function fail(errCode: string, des: string, extra: Record<string, string> = {}): Record<string, string> {
    return { return_code: 'SUCCESS', return_msg: des, result_code: 'FAIL', err_code: errCode, err_code_des: des, ...extra };
  }

  function refuse(r: PayRefusal, extra: Record<string, string> = {}): Record<string, string> {
    return fail(r.errCode, r.des, extra);
  }

  function sentAnswer(p: SandboxPayment): Record<string, string> {
    return {
      return_code: 'SUCCESS',
      return_msg: '发放成功',
      result_code: 'SUCCESS',
      err_code: 'SUCCESS',
      err_code_des: '发放成功',
      mch_billno: p.billNo,
      mch_id: mchId,
      wxappid: p.wxappid,
      re_openid: p.openId,
      total_amount: String(p.amountFen),
      send_listid: p.sendListId,
      send_time: compactTime(p.sentAt),
    };
  }

  /** The business of a send, after TLS, signature and field checks. Pays at most once per bill number. */
  function processSend(endpoint: 'sendredpack' | 'sendgroupredpack', f: Record<string, string>, opts: { processing: boolean }): { answer: Record<string, string>; paid: boolean } {
    const echo = { mch_billno: f.mch_billno, mch_id: mchId, wxappid: f.wxappid, re_openid: f.re_openid, total_amount: f.total_amount };
    const invalid = validatePayFields(endpoint, f);
    if (invalid) return { answer: refuse(invalid, echo), paid: false };
    if (!appIds.has(f.wxappid)) return { answer: fail('ILLEGAL_APPID', `wxappid ${f.wxappid} is not an Official Account bound to this merchant`, echo), paid: false };
    if (f.sub_mch_id !== undefined) {
      if (!subMchIds.has(f.sub_mch_id)) return { answer: fail('ACCEPTMODE_ERROR', `sub_mch_id ${f.sub_mch_id} is not a sub-merchant of ${mchId}`, echo), paid: false };
      if (!appIds.has(f.msgappid)) return { answer: fail('MSGAPPID_ERROR', `msgappid ${f.msgappid} is not bound to the merchant`, echo), paid: false };
      if (f.consume_mch_id !== undefined && f.consume_mch_id !== mchId && !subMchIds.has(f.consume_mch_id))
        return { answer: fail('PARAM_ERROR', `consume_mch_id ${f.consume_mch_id} is neither the merchant nor a sub-merchant`, echo), paid: false };
    }

    // Re-entry: the same bill number never pays twice; the answer is the FIRST packet's.
    const existing = payments.get(f.mch_billno);
    if (existing) {
      const other = existing.openId !== f.re_openid || existing.amountFen !== Number(f.total_amount) || existing.totalNum !== Number(f.total_num);
      if (existing.endpoint !== endpoint || (other && reentryMismatch === 'fatal_error'))
        return { answer: fail('FATAL_ERROR', 'mch_billno was already used with another openid, amount or kind', echo), paid: false };
      settleSending(existing);
      if (existing.status === 'FAILED') return { answer: fail('NO_AUTH', existing.failReason ?? RISK_REFUSAL, echo), paid: false };
      return { answer: sentAnswer(existing), paid: false };
    }

    if (faults.errCode !== undefined && errCodeLeft > 0) {
      errCodeLeft -= 1;
      return { answer: fail(faults.errCode, `forced by the sandbox: ${faults.errCode}`, echo), paid: false };
    }
    const amountProblem = checkAmount(f, amountRules) ?? rateRefusal();
    if (amountProblem) return { answer: refuse(amountProblem, echo), paid: false };
    if (!OPENID.test(f.re_openid)) return { answer: fail('OPENID_ERROR', `openid ${f.re_openid} does not belong to ${f.msgappid ?? f.wxappid}`, echo), paid: false };
    const amount = Number(f.total_amount);
    if (balanceFen < amount) return { answer: fail('NOTENOUGH', '帐号余额不足，请到商户平台充值后再重试', echo), paid: false };
    if (paidToday(() => true).amount + amount > merchantDailyAmountFen)
      return { answer: fail('SENDAMOUNT_LIMIT', 'the merchant reached its daily amount', echo), paid: false };
    const user = paidToday((p) => p.openId === f.re_openid);
    // The answer the real server gives (observed, 2019): SENDNUM_LIMIT with this text; default 10 a day.
    if (user.count >= perUserDailyCount)
      return { answer: fail('SENDNUM_LIMIT', '该用户今日操作次数超过限制,如有需要请登录微信支付商户平台更改API安全配置', echo), paid: false };
    if (user.amount + amount > perUserDailyAmountFen) return { answer: fail('RCVDAMOUNT_LIMIT', '该用户今日领取金额超过限制', echo), paid: false };

    const { sign: _sign, nonce_str: _nonce, ...kept } = f;
    const p = recordPayout({
      billNo: f.mch_billno,
      endpoint,
      openId: f.re_openid,
      amountFen: amount,
      totalNum: Number(f.total_num),
      wxappid: f.wxappid,
      ...(f.sub_mch_id !== undefined ? { subMchId: f.sub_mch_id } : {}),
      ...nextIds(),
      status: opts.processing ? 'SENDING' : 'SENT',
      ...(opts.processing && roll(faults.processingFailShare) ? { endsFailed: true } : {}),
      sentAt: clock.now(),
      fields: kept,
    });
    log?.debug({ billNo: p.billNo, amountFen: amount }, 'sandbox paid a red packet');
    if (opts.processing) return { answer: fail('PROCESSING', '请求已受理，请稍后使用原单号查询发放结果', echo), paid: true };
    return { answer: sentAnswer(p), paid: true };
  }

  /**
   * Money leaves for one bill: debits the balance and counts the payout on the bill's record (created
   * on the first payout). Every payout goes through here, so `timesPaid` counts them all.
   */
  function recordPayout(packet: Omit<SandboxPayment, 'timesPaid'>): SandboxPayment {
    balanceFen -= packet.amountFen;
    const p = payments.get(packet.billNo) ?? { ...packet, timesPaid: 0 };
    p.timesPaid += 1;
    payments.set(p.billNo, p);
    return p;
  }

  function processQuery(f: Record<string, string>): { answer: Record<string, string>; hblist?: string } {
    const invalid = validatePayFields('gethbinfo', f);
    if (invalid) return { answer: refuse(invalid, { mch_billno: f.mch_billno ?? '', mch_id: mchId }) };
    const p = payments.get(f.mch_billno);
    if (!p) return { answer: fail('NOT_FOUND', '指定单号数据不存在', { mch_billno: f.mch_billno, mch_id: mchId }) };
    if (f.appid !== p.wxappid) return { answer: fail('PARAM_ERROR', 'appid does not match the red packet', { mch_billno: f.mch_billno, mch_id: mchId }) };
    settleSending(p);
    const answer: Record<string, string> = {
      return_code: 'SUCCESS',
      return_msg: 'OK',
      result_code: 'SUCCESS',
      err_code: 'SUCCESS',
      err_code_des: 'OK',
      mch_billno: p.billNo,
      mch_id: mchId,
      detail_id: p.detailId,
      status: p.status,
      send_type: 'API',
      hb_type: p.endpoint === 'sendgroupredpack' ? 'GROUP' : 'NORMAL',
      total_num: String(p.totalNum),
      total_amount: String(p.amountFen),
      send_time: dashedTime(p.sentAt),
      wishing: p.fields.wishing,
      act_name: p.fields.act_name,
      remark: p.fields.remark,
    };
    if (p.failReason !== undefined) answer.reason = p.failReason;
    if (p.refundedAt !== undefined) {
      answer.refund_time = dashedTime(p.refundedAt);
      answer.refund_amount = String(p.amountFen);
    }
    const hblist = p.receivedBy
      ? p.receivedBy.map((r) => buildXml({ openid: r.openId, amount: r.amountFen, rcv_time: dashedTime(r.receivedAt) }, 'hbinfo')).join('')
      : undefined;
    return { answer, hblist };
  }

  // --- HTTP

  function applies(endpoint: PaySandboxEndpoint): boolean {
    return faults.endpoints === undefined || faults.endpoints.includes(endpoint);
  }

  function roll(rate: number | undefined): boolean {
    return rate !== undefined && rate > 0 && random() < rate;
  }

  function send(
    res: ServerResponse,
    fields: Record<string, string>,
    signed: boolean,
    opts: { hblist?: string; corrupt?: boolean; signType?: PaySignType } = {},
  ): void {
    persist();
    const out = { ...fields };
    if (signed) {
      out.sign = signPayV2(out, key, opts.signType ?? 'MD5'); // answers are signed like the request
      if (opts.corrupt) out.sign = (out.sign[0] === 'A' ? 'B' : 'A') + out.sign.slice(1);
    }
    let xml = buildXml(out);
    if (opts.hblist !== undefined) xml = xml.replace(/<\/xml>$/, `<hblist>${opts.hblist}</hblist></xml>`);
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(xml);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const socket = req.socket as TLSSocket;
    const certCn = String(socket.getPeerCertificate()?.subject?.CN ?? '');
    const endpoint = PATHS[(req.url ?? '').split('?')[0]];
    if (req.method !== 'POST' || endpoint === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    const text = await readBody(req);
    const call: SandboxPayCall = { endpoint, fields: {}, certCn, at: clock.now(), outcome: '', paid: false };
    calls.push(call);
    if (faults.latencyMs) await delay(faults.latencyMs);
    sweep();

    let parsed: Record<string, unknown> | undefined;
    if (text !== undefined) {
      try {
        parsed = parseXml(text);
      } catch {
        parsed = undefined;
      }
    }
    if (parsed === undefined) {
      call.outcome = 'XML_ERROR';
      send(res, { return_code: 'FAIL', return_msg: '输入数据不是有效的XML', result_code: 'FAIL', err_code: 'XML_ERROR', err_code_des: 'body is not XML' }, false);
      return;
    }
    const f: Record<string, string> = {};
    for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') f[k] = v;
    call.fields = { ...f };

    // Transport-level refusals (unsigned answers, as WeChat Pay gives them).
    if (f.mch_id !== mchId || certCn !== mchId) {
      call.outcome = 'CA_ERROR';
      send(res, { return_code: 'FAIL', return_msg: '证书与商户号不匹配', result_code: 'FAIL', err_code: 'CA_ERROR', err_code_des: `the client certificate (CN ${certCn}) is not the certificate of mch_id ${f.mch_id ?? ''}` }, false);
      return;
    }
    const signType: PaySignType | undefined = f.sign_type === undefined ? 'MD5' : f.sign_type === 'MD5' || f.sign_type === 'HMAC-SHA256' ? f.sign_type : undefined;
    if (signType === undefined || !verifyPayV2(f, key, signType)) {
      call.outcome = 'SIGN_ERROR';
      send(res, { return_code: 'FAIL', return_msg: '签名错误', result_code: 'FAIL', err_code: 'SIGN_ERROR', err_code_des: '签名错误' }, false);
      return;
    }

    // Faults that lose the answer; `paid` models "the money left before the answer was lost".
    const rated = applies(endpoint);
    const lost = rated
      ? roll(faults.resetRate)
        ? 'RESET'
        : roll(faults.http5xxRate)
          ? 'HTTP_503'
          : roll(faults.timeoutRate)
            ? 'TIMEOUT'
            : roll(faults.garbageRate)
              ? 'GARBAGE'
              : roll(faults.systemErrorRate)
                ? 'SYSTEMERROR'
                : undefined
      : undefined;
    if (lost !== undefined) {
      if (endpoint !== 'gethbinfo' && random() < (faults.paidShare ?? 0.5)) {
        call.paid = processSend(endpoint, f, { processing: false }).paid;
      }
      if (lost !== 'SYSTEMERROR') persist(); // send() persists the SYSTEMERROR answer
      call.outcome = lost;
      if (lost === 'RESET') {
        socket.destroy();
      } else if (lost === 'HTTP_503') {
        res.writeHead(503, { 'Content-Type': 'text/html' }).end('<html><body>503 Service Unavailable</body></html>');
      } else if (lost === 'TIMEOUT') {
        hanging.add(socket);
        socket.once('close', () => hanging.delete(socket));
      } else if (lost === 'GARBAGE') {
        res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html><body>系统繁忙</body></html>');
      } else {
        send(res, fail('SYSTEMERROR', '系统繁忙,请稍后再试.', { mch_billno: f.mch_billno, mch_id: mchId }), answerSign !== 'none', { signType });
      }
      return;
    }

    if (endpoint === 'gethbinfo') {
      const { answer, hblist } = processQuery(f);
      const corruptQuery = answerSign === 'all' && rated && roll(faults.badSignatureRate);
      call.outcome = corruptQuery ? 'BAD_SIGNATURE' : answer.err_code;
      send(res, answer, answerSign === 'all', { hblist, corrupt: corruptQuery, signType });
      return;
    }
    const corrupt = rated && roll(faults.badSignatureRate);
    const processing = !corrupt && rated && roll(faults.processingRate);
    const { answer, paid } = processSend(endpoint, f, { processing });
    call.paid = paid;
    call.outcome = corrupt ? 'BAD_SIGNATURE' : answer.err_code;
    send(res, answer, answerSign !== 'none' || corrupt, { corrupt, signType });
  }

  const server = https.createServer(
    {
      key: fs.readFileSync(SANDBOX_PAY_CERTS.serverKey),
      cert: fs.readFileSync(SANDBOX_PAY_CERTS.serverCert),
      ca,
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      handle(req, res).catch((err: unknown) => {
        log?.error({ err }, 'sandbox pay handler failed');
        if (!res.headersSent) res.writeHead(500).end();
      });
    },
  );
  server.on('tlsClientError', (err) => log?.debug({ code: (err as NodeJS.ErrnoException).code }, 'sandbox pay refused a TLS client'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  const sandbox: PaySandbox = {
    url: `https://${host}:${port}`,
    ca,
    mchId,
    key,
    faults: {
      set(next: PaySandboxFaults) {
        faults = { ...next };
        errCodeLeft = next.errCodeTimes ?? Infinity;
      },
      clear() {
        faults = {};
        errCodeLeft = Infinity;
      },
      get: () => faults,
    },
    payments,
    paymentsTo: (openId) => [...payments.values()].filter((p) => p.openId === openId),
    timesPaidTo: (openId) => [...payments.values()].reduce((n, p) => n + (p.openId === openId ? p.timesPaid : 0), 0),
    calls,
    callsTo: (endpoint) => calls.filter((c) => c.endpoint === endpoint),
    get balanceFen() {
      return balanceFen;
    },
    setBalanceFen(fen: number) {
      if (!Number.isSafeInteger(fen) || fen < 0) throw new TypeError('setBalanceFen: a whole, non-negative number of fen');
      balanceFen = fen;
      persist();
    },
    receive(billNo, claims) {
      const p = payments.get(billNo);
      if (!p) throw new Error(`sandbox: no red packet ${billNo}`);
      sweep();
      settleSending(p);
      if (p.status !== 'SENT' && p.status !== 'SENDING') throw new Error(`sandbox: red packet ${billNo} is ${p.status}, not SENT`);
      const now = clock.now();
      p.status = 'RECEIVED';
      p.receivedAt = now;
      p.receivedBy = (claims ?? defaultClaims(p)).map((c) => ({ ...c, receivedAt: now }));
      persist();
    },
    refundUnclaimed(olderThanMs = refundAfterMs) {
      const now = clock.now();
      const refunded: string[] = [];
      for (const p of payments.values()) {
        if ((p.status === 'SENT' || p.status === 'RFUND_ING') && now - p.sentAt >= olderThanMs) {
          refund(p, now);
          refunded.push(p.billNo);
        }
      }
      if (refunded.length > 0) persist();
      return refunded;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of hanging) s.destroy();
        hanging.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return sandbox;
}

// === Helpers

/** gethbinfo `reason` of a packet WeChat's risk control stopped, and the err_code_des of NO_AUTH. */
const RISK_REFUSAL = '发放失败,此请求可能存在风险,已被微信拦截';

/** What the state file holds. */
interface PayState {
  version: 1;
  mchId: string;
  balanceFen: number;
  seq: number;
  payments: SandboxPayment[];
}

/**
 * Reads a state file written by {@link savePayState}; undefined when there is none yet. A file that is
 * not a sandbox state, or another merchant's, throws with the file named and the fix.
 */
function loadPayState(file: string, mchId: string): PayState | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let state: Partial<PayState>;
  try {
    state = JSON.parse(text) as Partial<PayState>;
  } catch {
    throw new Error(`sandbox state ${file} is not JSON: move it away to start with an empty sandbox`);
  }
  if (state.version !== 1 || !Array.isArray(state.payments) || !Number.isSafeInteger(state.balanceFen) || !Number.isSafeInteger(state.seq))
    throw new Error(`sandbox state ${file} is not a Pay sandbox state (version 1): move it away to start with an empty sandbox`);
  if (state.mchId !== mchId)
    throw new Error(`sandbox state ${file} belongs to merchant ${String(state.mchId)}, not ${mchId}: use another data folder or move the file away`);
  return state as PayState;
}

/** Writes the state: a temp file beside it (mode 0600), then rename, so readers see the old or the new file whole. */
function savePayState(file: string, state: PayState): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state), { mode: 0o600 });
  fs.renameSync(tmp, file);
}

function defaultClaims(p: SandboxPayment): { openId: string; amountFen: number }[] {
  if (p.totalNum === 1) return [{ openId: p.openId, amountFen: p.amountFen }];
  const share = Math.floor(p.amountFen / p.totalNum);
  return Array.from({ length: p.totalNum }, (_, i) => ({
    openId: i === 0 ? p.openId : `${p.openId.slice(0, 28)}_${i}`,
    amountFen: i === 0 ? p.amountFen - share * (p.totalNum - 1) : share,
  }));
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) tooBig = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(tooBig ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(undefined));
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** yyyyMMddHHmmss, Beijing time (sendredpack `send_time`). */
function compactTime(ms: number): string {
  const p = shanghaiParts(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${p.ymd}${pad(p.hour)}${pad(p.minute)}${pad(p.second)}`;
}

/** yyyy-MM-dd HH:mm:ss, Beijing time (gethbinfo times). */
function dashedTime(ms: number): string {
  const p = shanghaiParts(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${p.isoDate} ${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}`;
}

/** Small seeded PRNG (mulberry32): same seed, same fault sequence. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
