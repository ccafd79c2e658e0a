/**
 * The answers of the Pay sandbox, in WeChat Pay's shapes: a business refusal (`result_code` FAIL with
 * its `err_code`) and the success answer of a paid packet.
 *
 * @example return { answer: payFail('NOTENOUGH', '帐号余额不足', echo), paid: false };
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import { shanghaiCompactTime } from '../lib/clock';
import type { PayState, SandboxPayment } from './pay-state';
import type { PayRefusal } from './pay-validate';

/** A business refusal: `return_code` SUCCESS, `result_code` FAIL, the err_code and its text. */
export function payFail(errCode: string, des: string, extra: Record<string, string> = {}): Record<string, string> {
  return { return_code: 'SUCCESS', return_msg: des, result_code: 'FAIL', err_code: errCode, err_code_des: des, ...extra };
}

/** {@link payFail} for a field or amount refusal. */
export function refuse(r: PayRefusal, extra: Record<string, string> = {}): Record<string, string> {
  return payFail(r.errCode, r.des, extra);
}

/** The answer of a paid packet (also what a re-entered bill number gets: the first packet's). */
export function sentAnswer(state: PayState, p: SandboxPayment): Record<string, string> {
  return {
    return_code: 'SUCCESS',
    return_msg: '发放成功',
    result_code: 'SUCCESS',
    err_code: 'SUCCESS',
    err_code_des: '发放成功',
    mch_billno: p.billNo,
    mch_id: state.config.mchId,
    wxappid: p.wxappid,
    re_openid: p.openId,
    total_amount: String(p.amountFen),
    send_listid: p.sendListId,
    send_time: shanghaiCompactTime(p.sentAt),
  };
}
