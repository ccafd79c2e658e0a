/**
 * A WeChat Pay payment result, as the spend module sees it: one shape for the v2 XML notification and
 * the v3 JSON notification (wire names are translated here, once: `total_fee` / `amount.total` →
 * `totalFen`, `openid` / `payer.openid` → `openId`, …), plus the errors of the notification edge.
 *
 * @example const order: PaymentOrder = parseV2Notification(xml, options).order;
 * @see https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7&index=8
 * @see https://pay.weixin.qq.com/doc/v3/merchant/4012791861
 */
import { shanghaiToEpoch } from '../lib/clock';

/** One payment result, protocol-neutral. Amounts in fen (integers). */
export interface PaymentOrder {
  /** WeChat Pay's order number (`transaction_id`): the idempotency key of the order and of its grant. */
  transactionId: string;
  /** The merchant's own order number (`out_trade_no`). */
  outTradeNo: string;
  appId: string;
  mchId: string;
  /** The payer (`openid` / `payer.openid`): receives the red packet. */
  openId: string;
  /** Order amount (`total_fee` / `amount.total`), fen. */
  totalFen: number;
  /** True when the payment succeeded (`result_code` SUCCESS / `trade_state` SUCCESS). */
  paid: boolean;
  /** `SUCCESS`, or the failure: v2 `err_code` (or `FAIL`), v3 `trade_state` (NOTPAY, CLOSED, PAYERROR, …). */
  state: string;
  /** The merchant's `attach` field ('' when absent). */
  attach: string;
  /** Product tags the order carries (`goods_tag`, v3 `promotion_detail[].goods_detail[].goods_id`). */
  productTags: string[];
  /** When the payment completed (`time_end` / `success_time`), epoch ms; undefined when not given. */
  paidAt?: number;
  protocol: 'v2' | 'v3';
  tradeType?: string;
}

/** What a parsed notification is: an order to record, or nothing to do (answered with success). */
export type ParsedNotification = { kind: 'order'; order: PaymentOrder } | { kind: 'ignored'; reason: string };

/** Why a notification was rejected. */
export type PayNotifyErrorCode =
  'malformed' | 'too_large' | 'bad_signature' | 'unknown_serial' | 'stale' | 'bad_decryption' | 'wrong_appid' | 'wrong_mchid' | 'not_configured' | 'unavailable';

const STATUS: Record<PayNotifyErrorCode, 400 | 401 | 413 | 500 | 503> = {
  malformed: 400,
  too_large: 413,
  bad_signature: 401,
  unknown_serial: 401,
  stale: 401,
  bad_decryption: 400,
  wrong_appid: 400,
  wrong_mchid: 400,
  not_configured: 500,
  unavailable: 500,
};

/**
 * A payment notification was refused at the edge (nothing recorded) or could not be recorded (WeChat
 * re-sends). The message is safe to answer and log: never a key, never the body.
 *
 * @example throw new PayNotifyError('bad_signature', 'signature does not verify');
 * @see https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7&index=8
 */
export class PayNotifyError extends Error {
  override readonly name = 'PayNotifyError';
  /** HTTP status of a v3 answer (v2 answers are HTTP 200 with `return_code` FAIL). */
  readonly status: number;
  constructor(
    readonly code: PayNotifyErrorCode,
    message: string,
  ) {
    super(message);
    this.status = STATUS[code];
  }
}

/** `yyyyMMddHHmmss` in Beijing time (v2 `time_end`) → epoch ms; undefined when malformed. */
export function parseTimeEnd(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(text);
  if (!m) return undefined;
  const ms = shanghaiToEpoch(+m[1], +m[2], +m[3], +m[4], +m[5], +m[6]);
  return Number.isFinite(ms) ? ms : undefined;
}
