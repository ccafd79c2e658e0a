/**
 * Red packet records (`gethbinfo`): the packet of a bill number, with its status (a SENDING packet
 * settles here), send and refund times, and who opened it (`hblist`); NOT_FOUND for an unknown bill,
 * PARAM_ERROR when the appid is not the packet's.
 *
 * @example const { answer, hblist } = processQuery(state, fields);
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_6&index=5
 */
import { shanghaiDateTimeText } from '../lib/clock';
import { buildXml } from '../wechat/xml';
import { payFail, refuse } from './pay-answers';
import { settleSending } from './pay-money';
import type { PayOutcome, PayRouteTable } from './pay-route';
import type { PayState } from './pay-state';
import { validatePayFields } from './pay-validate';

/** The record of one bill. */
export function processQuery(state: PayState, f: Record<string, string>): PayOutcome {
  const invalid = validatePayFields('gethbinfo', f);
  if (invalid) return { answer: refuse(invalid, { mch_billno: f.mch_billno ?? '', mch_id: state.config.mchId }) };
  const p = state.payments.get(f.mch_billno);
  if (!p) return { answer: payFail('NOT_FOUND', '指定单号数据不存在', { mch_billno: f.mch_billno, mch_id: state.config.mchId }) };
  if (f.appid !== p.wxappid) return { answer: payFail('PARAM_ERROR', 'appid does not match the red packet', { mch_billno: f.mch_billno, mch_id: state.config.mchId }) };
  settleSending(state, p);
  const answer: Record<string, string> = {
    return_code: 'SUCCESS',
    return_msg: 'OK',
    result_code: 'SUCCESS',
    err_code: 'SUCCESS',
    err_code_des: 'OK',
    mch_billno: p.billNo,
    mch_id: state.config.mchId,
    detail_id: p.detailId,
    status: p.status,
    send_type: 'API',
    hb_type: p.endpoint === 'sendgroupredpack' ? 'GROUP' : 'NORMAL',
    total_num: String(p.totalNum),
    total_amount: String(p.amountFen),
    send_time: shanghaiDateTimeText(p.sentAt),
    wishing: p.fields.wishing,
    act_name: p.fields.act_name,
    remark: p.fields.remark,
  };
  if (p.failReason !== undefined) answer.reason = p.failReason;
  if (p.refundedAt !== undefined) {
    answer.refund_time = shanghaiDateTimeText(p.refundedAt);
    answer.refund_amount = String(p.amountFen);
  }
  const hblist = p.receivedBy
    ? p.receivedBy.map((r) => buildXml({ openid: r.openId, amount: r.amountFen, rcv_time: shanghaiDateTimeText(r.receivedAt) }, 'hbinfo')).join('')
    : undefined;
  return { answer, hblist };
}

export const queryRoutes: PayRouteTable = [{ path: '/mmpaymkttransfers/gethbinfo', endpoint: 'gethbinfo', kind: 'query', handle: (state, f) => processQuery(state, f) }];
