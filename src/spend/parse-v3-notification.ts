/**
 * The v3 payment result notification (支付成功回调): a JSON POST signed by WeChat Pay (headers
 * `Wechatpay-*`, verified with the platform key from config), whose `resource` is encrypted with
 * AEAD_AES_256_GCM under the APIv3 key. Verified, decrypted, checked against our appid and mchid, and
 * translated to a {@link PaymentOrder}.
 *
 * @example
 * const parsed = parseV3Notification(v3SignatureHeaders(ctx.headers), body, { apiV3Key, platformKeys, appIds, mchId, nowSeconds });
 * @see https://pay.weixin.qq.com/doc/v3/merchant/4012791861
 */
import { decryptV3Resource, V3DecryptError, type V3Resource } from './decrypt-v3-resource';
import { PayNotifyError, type ParsedNotification } from './payment-order';
import { verifyV3Signature, type PlatformKeys, type V3SignatureHeaders } from './verify-v3-signature';

/** What {@link parseV3Notification} checks against. */
export interface V3NotificationOptions {
  apiV3Key: string;
  platformKeys: PlatformKeys;
  appIds: readonly string[];
  mchId: string;
  nowSeconds: number;
  /** Accepted clock skew of `Wechatpay-Timestamp`, seconds (default 300). */
  windowSeconds?: number;
}

/** The decrypted `transaction` object (the fields we use). */
interface V3Transaction {
  appid?: unknown;
  mchid?: unknown;
  out_trade_no?: unknown;
  transaction_id?: unknown;
  trade_type?: unknown;
  trade_state?: unknown;
  attach?: unknown;
  success_time?: unknown;
  goods_tag?: unknown;
  payer?: { openid?: unknown };
  amount?: { total?: unknown };
  promotion_detail?: { goods_detail?: { goods_id?: unknown }[] }[];
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new PayNotifyError('malformed', `${what} is not JSON`);
  }
}

function productTags(t: V3Transaction): string[] {
  const tags = new Set<string>();
  if (typeof t.goods_tag === 'string' && t.goods_tag) tags.add(t.goods_tag);
  if (Array.isArray(t.promotion_detail))
    for (const p of t.promotion_detail)
      if (p && Array.isArray(p.goods_detail)) for (const g of p.goods_detail) if (g && typeof g.goods_id === 'string') tags.add(g.goods_id);
  return [...tags];
}

/**
 * Verifies, decrypts and parses a v3 notification. Throws {@link PayNotifyError}; an event that is not
 * a transaction (refunds, …) comes back as `ignored`.
 *
 * @example parseV3Notification(headers, body, options).kind // 'order'
 * @see https://pay.weixin.qq.com/doc/v3/merchant/4012791861
 */
export function parseV3Notification(headers: V3SignatureHeaders, body: string, options: V3NotificationOptions): ParsedNotification {
  verifyV3Signature(options.platformKeys, headers, body, { nowSeconds: options.nowSeconds, windowSeconds: options.windowSeconds });
  const envelope = parseJson(body, 'the body') as { event_type?: unknown; resource_type?: unknown; resource?: V3Resource } | null;
  if (!envelope || typeof envelope !== 'object' || !envelope.resource || typeof envelope.resource !== 'object')
    throw new PayNotifyError('malformed', 'the body has no resource');
  let plain: string;
  try {
    plain = decryptV3Resource(envelope.resource, options.apiV3Key);
  } catch (err) {
    throw new PayNotifyError('bad_decryption', err instanceof V3DecryptError ? err.message : 'the resource does not decrypt');
  }
  const eventType = str(envelope.event_type);
  if (envelope.resource.original_type !== undefined && envelope.resource.original_type !== 'transaction')
    return { kind: 'ignored', reason: `event ${eventType || '(none)'} carries a ${str(envelope.resource.original_type)}, not a transaction` };
  const t = parseJson(plain, 'the decrypted resource') as V3Transaction | null;
  if (!t || typeof t !== 'object') throw new PayNotifyError('malformed', 'the decrypted resource is not an object');
  if (!options.appIds.includes(str(t.appid))) throw new PayNotifyError('wrong_appid', "appid is not this account's");
  if (str(t.mchid) !== options.mchId) throw new PayNotifyError('wrong_mchid', "mchid is not this merchant's");
  const state = str(t.trade_state) || 'UNKNOWN';
  const paid = state === 'SUCCESS';
  const transactionId = str(t.transaction_id);
  const outTradeNo = str(t.out_trade_no);
  if (paid && !/^[0-9A-Za-z_-]{1,64}$/.test(transactionId)) throw new PayNotifyError('malformed', 'transaction_id is missing or invalid');
  if (!transactionId && !outTradeNo) throw new PayNotifyError('malformed', 'neither transaction_id nor out_trade_no is given');
  const openId = str(t.payer?.openid);
  if (paid && !openId) throw new PayNotifyError('malformed', 'payer.openid is missing');
  const total = t.amount?.total;
  if (paid && !(Number.isSafeInteger(total) && (total as number) >= 0)) throw new PayNotifyError('malformed', 'amount.total is not a whole number of fen');
  const paidAt = Date.parse(str(t.success_time));
  return {
    kind: 'order',
    order: {
      transactionId: transactionId || `out_trade_no:${outTradeNo}`,
      outTradeNo,
      appId: str(t.appid),
      mchId: str(t.mchid),
      openId,
      totalFen: Number.isSafeInteger(total) ? (total as number) : 0,
      paid,
      state,
      attach: str(t.attach),
      productTags: productTags(t),
      paidAt: Number.isFinite(paidAt) ? paidAt : undefined,
      protocol: 'v3',
      tradeType: str(t.trade_type) || undefined,
    },
  };
}
