/**
 * Red packets out: `sendredpack` (one follower) and `sendgroupredpack` (a fission packet shared by
 * `total_num` friends), which WeChat Pay handles alike. After the field checks: bound appid,
 * sub-merchant and msgappid, re-entry by `mch_billno` (never pays twice; the answer is the FIRST
 * packet's, or FATAL_ERROR for a bill re-sent to the other endpoint or, with `reentryMismatch:
 * 'fatal_error'`, with other fields), forced err_codes, amounts and the send rate, openid, balance,
 * the merchant's and the follower's daily limits; then it pays.
 *
 * @example const { answer, paid } = processSend(state, 'sendredpack', fields, { processing: false });
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_5&index=4
 */
import { payFail, refuse, sentAnswer } from './pay-answers';
import { nextIds, paidToday, rateRefusal, recordPayout, RISK_REFUSAL, settleSending } from './pay-money';
import type { PayOutcome, PayRouteTable } from './pay-route';
import { roll, type PayState } from './pay-state';
import { checkAmount, validatePayFields } from './pay-validate';

const OPENID = /^[A-Za-z0-9_-]{6,32}$/;

/**
 * The business of a send, after TLS, signature and field checks. Pays at most once per bill number.
 *
 * @example processSend(state, 'sendredpack', fields, { processing: false }).paid
 */
export function processSend(state: PayState, endpoint: 'sendredpack' | 'sendgroupredpack', f: Record<string, string>, opts: { processing: boolean }): PayOutcome {
  const echo = { mch_billno: f.mch_billno, mch_id: state.config.mchId, wxappid: f.wxappid, re_openid: f.re_openid, total_amount: f.total_amount };
  const invalid = validatePayFields(endpoint, f);
  if (invalid) return { answer: refuse(invalid, echo), paid: false };
  if (!state.config.appIds.has(f.wxappid))
    return { answer: payFail('ILLEGAL_APPID', `wxappid ${f.wxappid} is not an Official Account bound to this merchant`, echo), paid: false };
  if (f.sub_mch_id !== undefined) {
    if (!state.config.subMchIds.has(f.sub_mch_id))
      return { answer: payFail('ACCEPTMODE_ERROR', `sub_mch_id ${f.sub_mch_id} is not a sub-merchant of ${state.config.mchId}`, echo), paid: false };
    if (!state.config.appIds.has(f.msgappid)) return { answer: payFail('MSGAPPID_ERROR', `msgappid ${f.msgappid} is not bound to the merchant`, echo), paid: false };
    if (f.consume_mch_id !== undefined && f.consume_mch_id !== state.config.mchId && !state.config.subMchIds.has(f.consume_mch_id))
      return { answer: payFail('PARAM_ERROR', `consume_mch_id ${f.consume_mch_id} is neither the merchant nor a sub-merchant`, echo), paid: false };
  }

  // Re-entry: the same bill number never pays twice; the answer is the FIRST packet's.
  const existing = state.payments.get(f.mch_billno);
  if (existing) {
    const other = existing.openId !== f.re_openid || existing.amountFen !== Number(f.total_amount) || existing.totalNum !== Number(f.total_num);
    if (existing.endpoint !== endpoint || (other && state.config.reentryMismatch === 'fatal_error'))
      return { answer: payFail('FATAL_ERROR', 'mch_billno was already used with another openid, amount or kind', echo), paid: false };
    settleSending(state, existing);
    if (existing.status === 'FAILED') return { answer: payFail('NO_AUTH', existing.failReason ?? RISK_REFUSAL, echo), paid: false };
    return { answer: sentAnswer(state, existing), paid: false };
  }

  if (state.faults.errCode !== undefined && state.errCodeLeft > 0) {
    state.errCodeLeft -= 1;
    return { answer: payFail(state.faults.errCode, `forced by the sandbox: ${state.faults.errCode}`, echo), paid: false };
  }
  const amountProblem = checkAmount(f, state.config.amountRules) ?? rateRefusal(state);
  if (amountProblem) return { answer: refuse(amountProblem, echo), paid: false };
  if (!OPENID.test(f.re_openid)) return { answer: payFail('OPENID_ERROR', `openid ${f.re_openid} does not belong to ${f.msgappid ?? f.wxappid}`, echo), paid: false };
  const amount = Number(f.total_amount);
  if (state.balanceFen < amount) return { answer: payFail('NOTENOUGH', '帐号余额不足，请到商户平台充值后再重试', echo), paid: false };
  if (paidToday(state, () => true).amount + amount > state.config.merchantDailyAmountFen)
    return { answer: payFail('SENDAMOUNT_LIMIT', 'the merchant reached its daily amount', echo), paid: false };
  const user = paidToday(state, (p) => p.openId === f.re_openid);
  // The answer the real server gives (observed, 2019): SENDNUM_LIMIT with this text; default 10 a day.
  if (user.count >= state.config.perUserDailyCount)
    return { answer: payFail('SENDNUM_LIMIT', '该用户今日操作次数超过限制,如有需要请登录微信支付商户平台更改API安全配置', echo), paid: false };
  if (user.amount + amount > state.config.perUserDailyAmountFen) return { answer: payFail('RCVDAMOUNT_LIMIT', '该用户今日领取金额超过限制', echo), paid: false };

  const { sign: _sign, nonce_str: _nonce, ...kept } = f;
  const p = recordPayout(state, {
    billNo: f.mch_billno,
    endpoint,
    openId: f.re_openid,
    amountFen: amount,
    totalNum: Number(f.total_num),
    wxappid: f.wxappid,
    ...(f.sub_mch_id !== undefined ? { subMchId: f.sub_mch_id } : {}),
    ...nextIds(state),
    status: opts.processing ? 'SENDING' : 'SENT',
    ...(opts.processing && roll(state, state.faults.processingFailShare) ? { endsFailed: true } : {}),
    sentAt: state.config.clock.now(),
    fields: kept,
  });
  state.config.log?.debug({ billNo: p.billNo, amountFen: amount }, 'sandbox paid a red packet');
  if (opts.processing) return { answer: payFail('PROCESSING', '请求已受理，请稍后使用原单号查询发放结果', echo), paid: true };
  return { answer: sentAnswer(state, p), paid: true };
}

export const sendRoutes: PayRouteTable = [
  { path: '/mmpaymkttransfers/sendredpack', endpoint: 'sendredpack', kind: 'send', handle: (state, f, opts) => processSend(state, 'sendredpack', f, opts) },
  {
    path: '/mmpaymkttransfers/sendgroupredpack',
    endpoint: 'sendgroupredpack',
    kind: 'send',
    handle: (state, f, opts) => processSend(state, 'sendgroupredpack', f, opts),
  },
];
