/**
 * The v2 payment result notification (支付结果通知): an XML POST signed with the merchant's API v2 key,
 * MD5 or HMAC-SHA256 as its `sign_type` says (MD5 when absent). Parsed with the hardened `parseXml`
 * (no DOCTYPE, no entities, depth and element caps), verified in constant time, checked against our
 * appid and mch_id, and translated to a {@link PaymentOrder}.
 *
 * @example
 * const parsed = parseV2Notification(body, { key, appIds: ['wx…'], mchId: '1900000109' });
 * if (parsed.kind === 'order') await handlePayment(parsed.order);
 * @see https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7&index=8
 */
import { buildXml, MalformedXmlError, parseXml } from '../wechat/xml';
import { verifyPayV2, type PaySignType } from '../pay/sign';
import { parseTimeEnd, PayNotifyError, type ParsedNotification } from './payment-order';

/** What {@link parseV2Notification} checks against. */
export interface V2NotificationOptions {
  /** The API v2 key (32 characters). */
  key: string;
  /** Appids this merchant accepts payments for (the official account's, and any other bound one). */
  appIds: readonly string[];
  mchId: string;
}

const INT = /^\d{1,12}$/;

/**
 * Verifies and parses a v2 notification. Throws {@link PayNotifyError} (`malformed`, `bad_signature`,
 * `wrong_appid`, `wrong_mchid`); a notification whose `return_code` is not SUCCESS carries no order
 * and comes back as `ignored`.
 *
 * @example parseV2Notification('<xml>…</xml>', { key, appIds: [appId], mchId })
 * @see https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7&index=8
 */
export function parseV2Notification(xml: string, options: V2NotificationOptions): ParsedNotification {
  let raw: Record<string, unknown>;
  try {
    raw = parseXml(xml);
  } catch (err) {
    throw new PayNotifyError('malformed', err instanceof MalformedXmlError ? err.message : 'the body is not XML');
  }
  const f: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) if (typeof v === 'string') f[k] = v;
  if (f.return_code !== 'SUCCESS') return { kind: 'ignored', reason: `return_code ${f.return_code ?? '(missing)'}` };

  const signType = f.sign_type === undefined || f.sign_type === '' ? 'MD5' : f.sign_type;
  if (signType !== 'MD5' && signType !== 'HMAC-SHA256') throw new PayNotifyError('malformed', `sign_type "${signType.slice(0, 20)}" is not MD5 or HMAC-SHA256`);
  if (!verifyPayV2(raw, options.key, signType as PaySignType)) throw new PayNotifyError('bad_signature', 'the signature does not verify');
  if (!options.appIds.includes(f.appid ?? '')) throw new PayNotifyError('wrong_appid', "appid is not this account's");
  if (f.mch_id !== options.mchId) throw new PayNotifyError('wrong_mchid', "mch_id is not this merchant's");

  const paid = f.result_code === 'SUCCESS';
  const transactionId = f.transaction_id ?? '';
  const outTradeNo = f.out_trade_no ?? '';
  if (paid && !/^[0-9A-Za-z_-]{1,64}$/.test(transactionId)) throw new PayNotifyError('malformed', 'transaction_id is missing or invalid');
  if (!transactionId && !outTradeNo) throw new PayNotifyError('malformed', 'neither transaction_id nor out_trade_no is given');
  if (paid && !f.openid) throw new PayNotifyError('malformed', 'openid is missing');
  const total = f.total_fee ?? '';
  if (paid && !INT.test(total)) throw new PayNotifyError('malformed', 'total_fee is not a whole number of fen');
  return {
    kind: 'order',
    order: {
      transactionId: transactionId || `out_trade_no:${outTradeNo}`,
      outTradeNo,
      appId: f.appid!,
      mchId: f.mch_id!,
      openId: f.openid ?? '',
      totalFen: INT.test(total) ? Number(total) : 0,
      paid,
      state: paid ? 'SUCCESS' : f.err_code || 'FAIL',
      attach: f.attach ?? '',
      productTags: f.goods_tag ? [f.goods_tag] : [],
      paidAt: parseTimeEnd(f.time_end),
      protocol: 'v2',
      tradeType: f.trade_type,
    },
  };
}

/**
 * The answer WeChat Pay expects to a v2 notification: SUCCESS stops the re-sends; FAIL (with a reason)
 * asks for them.
 *
 * @example v2Answer('FAIL', 'signature does not verify') // '<xml><return_code><![CDATA[FAIL]]></return_code>…'
 * @see https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7&index=8
 */
export function v2Answer(code: 'SUCCESS' | 'FAIL', message: string): string {
  return buildXml({ return_code: code, return_msg: message });
}
