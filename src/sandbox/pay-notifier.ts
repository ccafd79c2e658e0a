/**
 * The sandbox plays WeChat Pay's notifier: it builds a payment result notification exactly as WeChat
 * Pay sends it — v2 XML signed with the API key (MD5 or HMAC-SHA256), or v3 JSON with the resource
 * encrypted under the APIv3 key and the request signed with the (sandbox) platform private key — and
 * posts it to a bot, re-sending on WeChat's schedule until the bot answers success.
 *
 * The platform key pair in `certs/wechatpay-platform_{cert,key}.pem` is PUBLIC and sandbox-only (made
 * with `openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 36500 -set_serial 0x5157…`); a bot in
 * sandbox mode trusts that certificate by default, nothing real does.
 *
 * @example
 * const n = buildV3Notification({ appId, mchId, apiV3Key, openId: 'o-1', totalFen: 12000, nowSeconds });
 * const r = await sendPayNotification({ url, protocol: 'v3', build: () => n, schedule: [] });
 * @see https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7&index=8
 * @see https://pay.weixin.qq.com/doc/v3/merchant/4012791861
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { shanghaiCompactTime, shanghaiParts } from '../lib/clock';
import { SANDBOX_PAY_PLATFORM } from '../lib/sandbox-certs';
import { signPayV2, type PaySignType } from '../pay/sign';
import { encryptV3Resource } from '../spend/decrypt-v3-resource';
import { signV3Message } from '../spend/verify-v3-signature';
import { buildXml, parseXml } from '../wechat/xml';

// === Platform key pair (public, sandbox-only)

/** The sandbox's WeChat Pay platform certificate and private key (v3 notification signatures). */
export { SANDBOX_PAY_PLATFORM } from '../lib/sandbox-certs';

/**
 * WeChat Pay's re-send intervals after a notification was not answered with success (15s/15s/30s/3m/
 * 10m/20m/30m/30m/30m/60m/3h/3h/3h/6h/6h — 24h4m in all), in ms.
 *
 * @see https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7&index=8
 */
export const WECHAT_PAY_RESEND_SCHEDULE_MS: readonly number[] = [15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600].map(
  (s) => s * 1000,
);

// === Building notifications

/** What a sandbox payment looks like. */
export interface SandboxPaymentInput {
  appId: string;
  mchId: string;
  openId: string;
  totalFen: number;
  /** Default: a fresh 28-digit WeChat-style number. */
  transactionId?: string;
  outTradeNo?: string;
  attach?: string;
  goodsTag?: string;
  /** Default: a success. */
  failed?: boolean;
  /** Epoch ms of the payment (default now). */
  paidAt?: number;
}

/** A fresh WeChat-style transaction id (28 digits). */
export function sandboxTransactionId(now = Date.now()): string {
  const digits = BigInt(`0x${randomBytes(8).toString('hex')}`)
    .toString()
    .padStart(20, '0')
    .slice(-14);
  return `4200${shanghaiParts(now).ymd}${digits}`.slice(0, 28).padEnd(28, '0');
}

function nonce(n = 32): string {
  return randomBytes(n)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, n)
    .padEnd(n, 'x');
}

/**
 * A v2 notification body (XML), signed with the API v2 key.
 *
 * @example buildV2Notification({ appId, mchId, openId: 'o-1', totalFen: 12000 }, key, 'HMAC-SHA256')
 * @see https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7&index=8
 */
export function buildV2Notification(p: SandboxPaymentInput, key: string, signType: PaySignType = 'MD5'): string {
  const now = p.paidAt ?? Date.now();
  const fields: Record<string, string | number | undefined> = {
    return_code: 'SUCCESS',
    return_msg: 'OK',
    appid: p.appId,
    mch_id: p.mchId,
    nonce_str: nonce(),
    sign_type: signType === 'MD5' ? undefined : signType,
    result_code: p.failed ? 'FAIL' : 'SUCCESS',
    err_code: p.failed ? 'PAYERROR' : undefined,
    err_code_des: p.failed ? '支付失败' : undefined,
    openid: p.openId,
    is_subscribe: 'Y',
    trade_type: 'JSAPI',
    bank_type: 'OTHERS',
    total_fee: p.totalFen,
    fee_type: 'CNY',
    cash_fee: p.totalFen,
    transaction_id: p.transactionId ?? sandboxTransactionId(now),
    out_trade_no: p.outTradeNo ?? `sandbox${now}`,
    attach: p.attach || undefined,
    goods_tag: p.goodsTag || undefined,
    time_end: shanghaiCompactTime(now),
  };
  const signed = { ...fields, sign: signPayV2(fields, key, signType) };
  return buildXml(signed);
}

/** A v3 notification: the JSON body and the signature headers. */
export interface V3NotificationRequest {
  body: string;
  headers: Record<string, string>;
}

/**
 * A v3 notification: the transaction encrypted under the APIv3 key, the request signed with the
 * platform private key (default: the sandbox's).
 *
 * @example buildV3Notification({ appId, mchId, openId: 'o-1', totalFen: 12000 }, { apiV3Key, nowSeconds })
 * @see https://pay.weixin.qq.com/doc/v3/merchant/4012791861
 */
export function buildV3Notification(
  p: SandboxPaymentInput,
  o: { apiV3Key: string; nowSeconds: number; platformKeyPem?: string; serial?: string },
): V3NotificationRequest {
  const now = p.paidAt ?? o.nowSeconds * 1000;
  const iso = new Date(now + 8 * 3600_000).toISOString().replace(/\.\d{3}Z$/, '+08:00');
  const transaction = {
    mchid: p.mchId,
    appid: p.appId,
    out_trade_no: p.outTradeNo ?? `sandbox${now}`,
    transaction_id: p.transactionId ?? sandboxTransactionId(now),
    trade_type: 'JSAPI',
    trade_state: p.failed ? 'PAYERROR' : 'SUCCESS',
    trade_state_desc: p.failed ? '支付失败' : '支付成功',
    bank_type: 'OTHERS',
    attach: p.attach ?? '',
    success_time: iso,
    payer: { openid: p.openId },
    amount: { total: p.totalFen, payer_total: p.totalFen, currency: 'CNY', payer_currency: 'CNY' },
    ...(p.goodsTag ? { goods_tag: p.goodsTag } : {}),
  };
  const body = JSON.stringify({
    id: `EV-${randomBytes(8).toString('hex')}`,
    create_time: iso,
    resource_type: 'encrypt-resource',
    event_type: p.failed ? 'TRANSACTION.FAIL' : 'TRANSACTION.SUCCESS',
    summary: p.failed ? '支付失败' : '支付成功',
    resource: encryptV3Resource(JSON.stringify(transaction), o.apiV3Key, { nonce: nonce(12), associatedData: 'transaction' }),
  });
  const timestamp = String(o.nowSeconds);
  const n = nonce(32);
  const key = o.platformKeyPem ?? fs.readFileSync(SANDBOX_PAY_PLATFORM.key, 'utf8');
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'wechatpay-timestamp': timestamp,
      'wechatpay-nonce': n,
      'wechatpay-serial': o.serial ?? SANDBOX_PAY_PLATFORM.serial,
      'wechatpay-signature': signV3Message(key, timestamp, n, body),
      'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048',
    },
  };
}

// === Sending, with WeChat's re-send schedule

/** One delivery attempt. */
export interface NotifyAttempt {
  attempt: number;
  /** HTTP status (0 when no answer). */
  status: number;
  /** Whether the bot answered success. */
  ok: boolean;
  /** The bot's FAIL message, or the transport error. */
  message?: string;
}

/** Options of {@link sendPayNotification}. */
export interface SendPayNotificationOptions {
  url: string;
  protocol: 'v2' | 'v3';
  /** Builds the request of one attempt (v3 re-sends carry a fresh timestamp and signature, as WeChat's do). */
  build: (attempt: number) => { body: string; headers?: Record<string, string> };
  /** Waits between attempts (default {@link WECHAT_PAY_RESEND_SCHEDULE_MS}; `[]` = one attempt). */
  schedule?: readonly number[];
  /** Default: a real timer. Tests inject an instant one. */
  sleep?: (ms: number) => Promise<void>;
  /** Per-attempt timeout (default 5 s, as WeChat waits). */
  timeoutMs?: number;
  onAttempt?: (a: NotifyAttempt) => void;
}

/**
 * Posts a notification until the bot answers success or the schedule runs out.
 *
 * @example await sendPayNotification({ url: 'http://127.0.0.1:3000/wechat/pay/notify', protocol: 'v2', build: () => ({ body: xml }) })
 * @see https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7&index=8
 */
export async function sendPayNotification(o: SendPayNotificationOptions): Promise<{ delivered: boolean; attempts: NotifyAttempt[] }> {
  const schedule = o.schedule ?? WECHAT_PAY_RESEND_SCHEDULE_MS;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const attempts: NotifyAttempt[] = [];
  for (let i = 0; i <= schedule.length; i++) {
    if (i > 0) await sleep(schedule[i - 1]);
    const req = o.build(i + 1);
    let a: NotifyAttempt;
    try {
      const res = await fetch(o.url, {
        method: 'POST',
        headers: { 'content-type': o.protocol === 'v3' ? 'application/json' : 'text/xml', ...req.headers },
        body: req.body,
        signal: AbortSignal.timeout(o.timeoutMs ?? 5000),
      });
      const text = await res.text();
      a = { attempt: i + 1, status: res.status, ...judge(o.protocol, res.status, text) };
    } catch (err) {
      a = { attempt: i + 1, status: 0, ok: false, message: err instanceof Error ? err.message : String(err) };
    }
    attempts.push(a);
    o.onAttempt?.(a);
    if (a.ok) return { delivered: true, attempts };
  }
  return { delivered: false, attempts };
}

function judge(protocol: 'v2' | 'v3', status: number, text: string): { ok: boolean; message?: string } {
  if (protocol === 'v3') {
    if (status === 200 || status === 204) return { ok: true };
    try {
      return { ok: false, message: String((JSON.parse(text) as { message?: unknown }).message ?? `HTTP ${status}`) };
    } catch {
      return { ok: false, message: `HTTP ${status}` };
    }
  }
  if (status !== 200) return { ok: false, message: `HTTP ${status}` };
  try {
    const f = parseXml(text);
    return f.return_code === 'SUCCESS' ? { ok: true } : { ok: false, message: String(f.return_msg ?? 'FAIL') };
  } catch {
    return { ok: false, message: 'the answer is not XML' };
  }
}
