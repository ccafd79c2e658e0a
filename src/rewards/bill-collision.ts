/**
 * Bill-number collisions: WeChat Pay is re-entrant by `mch_billno`, so a bill number that another
 * ledger on the same mch_id already used (staging and production sharing a tag, a wiped ledger
 * started again the same day) is answered with the FIRST packet's result — SUCCESS, but with that
 * packet's `re_openid` and `total_amount`. Recording SENT then would log a payment nobody made (and
 * reconciliation would follow the other packet). So every answer is checked against the grant, and a
 * grant whose answer is not its own is held:
 *
 * - status HELD, reason `billno_collision: …` (out of the outbox: never re-sent with that bill
 *   number, reservations kept until an operator decides; the `ledger` command lists them under the summary,
 *   `ledger --grants` shows the reason, `reconcile` counts them);
 * - an alert: an `OPERATOR ALERT` error log line (`alert: true`) and
 *   `rewards_operator_alerts_total{kind="billno_collision"}`.
 *
 * What the operator does next: give the environments different `BOT_BILLNO_TAG`s (README, "Bill
 * numbers"), then pay the follower under a new bill number — issue 14's `redpack reissue`; there is
 * no automatic path, by design.
 *
 * @example
 * const problem = queryMismatch(grant, info);
 * if (problem) await holdAsCollision({ ledger, log, alerts, now: clock.now() }, grant, `gethbinfo: ${problem}`);
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_6&index=5
 */
import type { Logger } from '../lib/logger';
import type { Counter } from '../lib/metrics';
import type { RedpackQueryOutcome } from '../pay/types';
import { BILLNO_COLLISION, type LedgerGrant, type LedgerWrites, type PayAnswer } from './ledger';

type QueryInfo = Extract<RedpackQueryOutcome, { status: 'found' }>['info'];

/**
 * What a `gethbinfo` answer says that is not this grant's, or undefined when it matches: the total
 * amount (fission: the whole group), the kind (`hb_type` NORMAL / GROUP), the number of packets, and
 * who received — a normal packet only by the grant's follower; a fission group with the seed user
 * among the receivers. Fields the answer leaves out are not held against it (`hblist` is empty until
 * someone opens the packet).
 *
 * @example queryMismatch(grant, { ...info, totalAmountFen: 500 }) // 'total_amount 500, not 100'
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_6&index=5
 */
export function queryMismatch(grant: Pick<LedgerGrant, 'openId' | 'amountFen' | 'payload'>, info: QueryInfo): string | undefined {
  const fission = grant.payload.kind === 'fission';
  const totalNum = typeof grant.payload.totalNum === 'number' ? grant.payload.totalNum : 1;
  const problems: string[] = [];
  if (info.totalAmountFen !== grant.amountFen) problems.push(`total_amount ${info.totalAmountFen}, not ${grant.amountFen}`);
  const hbType = fission ? 'GROUP' : 'NORMAL';
  if (info.hbType !== undefined && info.hbType !== hbType) problems.push(`hb_type ${info.hbType}, not ${hbType}`);
  if (info.totalNum !== undefined && info.totalNum !== totalNum) problems.push(`total_num ${info.totalNum}, not ${totalNum}`);
  const receivers = (info.receivedBy ?? []).map((r) => r.openId);
  if (receivers.length > 0) {
    const others = receivers.filter((openId) => openId !== grant.openId);
    if (!fission && others.length > 0) problems.push(`received by ${others.join(', ')}, not ${grant.openId}`);
    if (fission && others.length === receivers.length) problems.push(`received by ${receivers.join(', ')}, not seed user ${grant.openId}`);
  }
  return problems.length > 0 ? problems.join(' and ') : undefined;
}

/** What {@link holdAsCollision} needs. */
export interface HoldDeps {
  ledger: Pick<LedgerWrites, 'settle'>;
  log: Logger;
  /** `rewards_operator_alerts_total`, labelled `kind`. */
  alerts: Counter;
  now: number;
}

/**
 * Holds a grant as a bill-number collision (status HELD, reason `billno_collision: <detail>`) and
 * raises the alert. Returns false when the grant could not move (already held or settled further).
 *
 * @example await holdAsCollision(deps, grant, 'sendredpack: the answer for this mch_billno says re_openid oX, not oY')
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export async function holdAsCollision(deps: HoldDeps, grant: LedgerGrant, detail: string, answer?: PayAnswer): Promise<boolean> {
  const changed = await deps.ledger.settle(grant.id, { status: 'HELD', now: deps.now, reason: `${BILLNO_COLLISION}: ${detail}`, ...(answer ? { answer } : {}) });
  if (!changed) return false;
  deps.alerts.inc({ kind: BILLNO_COLLISION });
  deps.log.error(
    { alert: true, kind: BILLNO_COLLISION, billNo: grant.billNo, campaign: grant.campaign, grantId: grant.id },
    `OPERATOR ALERT: bill number ${grant.billNo} already belongs to another red packet (${detail}); ` +
      `grant ${grant.id} is HELD, not sent and never retried with this bill number. Another ledger on this mch_id ` +
      'uses the same bill tag: give each environment its own BOT_BILLNO_TAG, then pay the follower under a new bill number',
  );
  return true;
}
