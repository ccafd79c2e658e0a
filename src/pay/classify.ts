/**
 * Red-packet `err_code` → what the sender must do. Three classes (issue 5, protocol §6.4; issue 14:
 * "a final refusal of one grant settles that grant as failed; only merchant-wide errors pause a
 * campaign"):
 *
 * - `uncertain`: the packet may or may not have been paid (SYSTEMERROR, PROCESSING, FREQ_LIMIT,
 *   SECOND_OVER_LIMITED, unknown codes incl. TIME_LIMITED and legacy numeric codes, NOT_FOUND from a
 *   query, no code at all). Query `gethbinfo`, then retry later with the SAME `mch_billno`.
 * - `config`: MERCHANT-WIDE — every grant of the campaign would be refused the same way, and nothing
 *   was paid: the certificate, the signature key, the request body, the account balance, the appid or
 *   service-provider binding, the API switch, the merchant's daily amount or count (CA_ERROR,
 *   SIGN_ERROR, XML_ERROR, NOTENOUGH, ILLEGAL_APPID, MSGAPPID_ERROR, ACCEPTMODE_ERROR,
 *   API_METHOD_CLOSED, SENDAMOUNT_LIMIT, DAY_OVER_LIMITED). Pause the campaign, alert the operator,
 *   keep the grant pending with the same bill number.
 * - `failed`: about THIS grant only — this follower (OPENID_ERROR, NO_AUTH: WeChat's risk control
 *   blocked this follower's account, SENDNUM_LIMIT / RCVDAMOUNT_LIMIT: this follower's daily count or
 *   amount), this amount (MONEY_LIMIT), this request's fields (PARAM_ERROR: the official remedy is
 *   "read err_code_des and change the parameter", i.e. a new grant with a new bill number — a grant's
 *   fields are frozen at record time, so sending it again can only be refused again), or this bill
 *   (SEND_FAILED: "use a new bill number", FATAL_ERROR). Settle as failed with the reason; the
 *   operator may `redpack reissue` it.
 *
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */

/** The three classes of a red-packet error. */
export type RedpackErrorClass = 'uncertain' | 'config' | 'failed';

/** Merchant-wide codes: they stop a whole campaign until an operator acts. */
export const REDPACK_CONFIG_CODES = [
  'CA_ERROR',
  'SIGN_ERROR',
  'XML_ERROR',
  'NOTENOUGH',
  'ILLEGAL_APPID',
  'MSGAPPID_ERROR',
  'ACCEPTMODE_ERROR',
  'API_METHOD_CLOSED',
  'SENDAMOUNT_LIMIT',
  'DAY_OVER_LIMITED',
] as const;

/** Codes about one grant (its follower, amount, fields or bill): they settle that grant as failed. */
export const REDPACK_FINAL_CODES = ['PARAM_ERROR', 'SENDNUM_LIMIT', 'RCVDAMOUNT_LIMIT', 'MONEY_LIMIT', 'OPENID_ERROR', 'NO_AUTH', 'FATAL_ERROR', 'SEND_FAILED'] as const;

/** Known codes whose outcome is unknown or transient (any other code is treated the same way). */
export const REDPACK_UNCERTAIN_CODES = ['SYSTEMERROR', 'PROCESSING', 'FREQ_LIMIT', 'SECOND_OVER_LIMITED', 'TIME_LIMITED', 'NOT_FOUND'] as const;

const CONFIG = new Set<string>(REDPACK_CONFIG_CODES);
const FINAL = new Set<string>(REDPACK_FINAL_CODES);

/**
 * Classifies a red-packet `err_code`. Unknown, missing and unparseable codes are `uncertain`: never
 * switch the bill number of a grant whose outcome is unknown.
 *
 * Blanks inside a code are dropped (the official table spells one `DAY_ OVER_LIMITED`).
 *
 * @example classifyRedpackError('NOTENOUGH') // 'config'
 * @example classifyRedpackError('OPENID_ERROR') // 'failed'
 * @example classifyRedpackError('268458547') // 'uncertain'
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function classifyRedpackError(errCode: string | undefined): RedpackErrorClass {
  const code = (errCode ?? '').replace(/\s+/g, '').toUpperCase();
  if (CONFIG.has(code)) return 'config';
  if (FINAL.has(code)) return 'failed';
  return 'uncertain';
}

/** What an operator should do about a code (for alerts and `redpack status`); undefined when we have no hint. */
export const REDPACK_ERROR_HINTS: Readonly<Record<string, string>> = {
  SYSTEMERROR: 'WeChat Pay did not say whether it paid: query gethbinfo, then retry with the same mch_billno',
  PROCESSING: 'still processing: query gethbinfo later with the same mch_billno',
  FREQ_LIMIT: 'rate limit hit: back off and retry with the same mch_billno',
  SECOND_OVER_LIMITED: "the merchant's per-minute red-packet count was reached: retry later with the same mch_billno",
  CA_ERROR: 'the merchant client certificate is missing or invalid: check WECHAT_PAY_CERT',
  SIGN_ERROR: 'signature rejected: check WECHAT_PAY_KEY (API v2 key in the merchant platform)',
  XML_ERROR: 'WeChat Pay could not read the request body',
  PARAM_ERROR:
    'WeChat Pay refused a field of this grant (see err_code_des: openid, amount, send_name, wishing, act_name, remark, scene_id): fix the cause, then "redpack reissue BILLNO"',
  LOCAL_PARAM_ERROR: 'the grant fails WeChat Pay\'s field rules and was not sent: fix the cause, then "redpack reissue BILLNO"',
  NOTENOUGH: 'the merchant operating account balance is too low: top it up, then resume the campaign',
  ILLEGAL_APPID: 'wxappid is not an Official Account appid bound to this merchant',
  MSGAPPID_ERROR: 'service-provider mode: msgappid is not bound to the merchant in the merchant platform',
  ACCEPTMODE_ERROR: 'service-provider mode: sub_mch_id is not authorised under this service provider',
  API_METHOD_CLOSED:
    'sending red packets by API is disabled for this merchant (group red packets were retired for new merchants): enable it in the merchant platform or change the campaign kind',
  SENDNUM_LIMIT: 'the follower reached the daily red-packet count',
  RCVDAMOUNT_LIMIT: 'the follower reached the daily received amount',
  SENDAMOUNT_LIMIT: 'the merchant reached its daily total amount: resume the campaign tomorrow or after raising the limit in the merchant platform',
  DAY_OVER_LIMITED: 'the merchant reached its daily red-packet count: resume the campaign tomorrow or after raising the limit',
  MONEY_LIMIT: 'amount out of range (1.00–200.00 yuan unless scene_id is set)',
  OPENID_ERROR: 'the openid does not belong to wxappid (msgappid in service-provider mode)',
  NO_AUTH: 'blocked by WeChat risk control for this follower',
  FATAL_ERROR: 'the same mch_billno was used with a different openid or amount (a bug)',
  SEND_FAILED: 'WeChat Pay definitively failed this red packet',
};
