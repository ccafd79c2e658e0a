/**
 * What an operator's `redpack cancel` / `redpack reissue` needs from the rewards domain: the checks of
 * the operator's name and reason, and the plan of a reissue (a new grant of the failed one's follower
 * and amount, with the campaign's current texts, checked like any grant of the campaign now). The
 * ledger applies it atomically (`Ledger.cancel` / `Ledger.reissue`).
 *
 * @example
 * const plan = planReissue(failed, { config, mchId, now, by: 'alice', reason: 'openid fixed' });
 * if ('input' in plan) await ledger.reissue(failed.billNo!, { by, reason, now, grant: plan.input });
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import { billNoPrefix } from './bill-no';
import { isRedPacketCampaign, type RewardsConfig } from './config-schema';
import { type Ledger, type LedgerGrant, type OperatorInput, type RecordGrantInput, type ReissueResult, reissueRefusal } from './ledger';
import { planGrant } from './limits';
import { redpackPayload } from './red-packet-kind';

/** Longest operator name and reason kept in the ledger. */
export const OPERATOR_NAME_MAX = 64;
export const OPERATOR_REASON_MAX = 200;

const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * What is wrong with an operator's `--by` / `--reason`, or undefined. Both are stored and shown in
 * `ledger`: required, one line, bounded.
 *
 * @example operatorInputProblem('alice', '') // '--reason is required: say why (it is kept in the ledger)'
 */
export function operatorInputProblem(by: string | undefined, reason: string | undefined): string | undefined {
  const name = by?.trim() ?? '';
  if (name === '') return '--by is empty and no OS user name was found: name the operator with --by NAME';
  if (name.length > OPERATOR_NAME_MAX || CONTROL.test(name)) return `--by must be one line of at most ${OPERATOR_NAME_MAX} characters`;
  const why = reason?.trim() ?? '';
  if (why === '') return '--reason is required: say why (it is kept in the ledger)';
  if (why.length > OPERATOR_REASON_MAX || CONTROL.test(why)) return `--reason must be one line of at most ${OPERATOR_REASON_MAX} characters`;
  return undefined;
}

/** The new grant of a reissue, or why there can be none now. */
export type ReissuePlan = { input: RecordGrantInput } | { refusal: string };

/**
 * Plans the reissue of a failed red packet: the same follower, amount, rule and campaign, a bill
 * number of today (`billNoPrefix(mchId, now)`; the ledger draws the sequence), the campaign's texts
 * as campaigns.yaml has them now (so a fixed text applies), and the campaign's checks now: window,
 * amount range, quiet hours (deferred or refused as for any grant), budget and daily limits (as
 * reservations, checked by the ledger). Keyed `reissue:<old bill>` so it can be recorded only once.
 *
 * @example planReissue(failed, { config, mchId: '1900000109', now: Date.now(), by: 'alice', reason: 'NO_AUTH lifted' })
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function planReissue(original: LedgerGrant, opts: { config: RewardsConfig; mchId: string; now: number; by: string; reason: string }): ReissuePlan {
  const campaign = opts.config.campaigns[original.campaign];
  if (!isRedPacketCampaign(campaign))
    return { refusal: `campaign ${original.campaign} is not a red-packet campaign in campaigns.yaml: a reissue is checked against its limits` };
  const plan = planGrant({ campaign, limits: opts.config.limits, now: opts.now, openId: original.openId, amountFen: original.amountFen });
  if (plan.refusal) return { refusal: `the new grant would be refused (${plan.refusal.outcome}): ${plan.refusal.reason}` };
  const note = `reissue of ${original.billNo} by ${opts.by.trim()}: ${opts.reason.trim()}${plan.note ? `; ${plan.note}` : ''}`;
  return {
    input: {
      dedupeKey: `reissue:${original.billNo}`,
      ruleId: original.ruleId,
      campaign: original.campaign,
      openId: original.openId,
      amountFen: original.amountFen,
      kind: original.kind,
      now: opts.now,
      billNoPrefix: billNoPrefix(opts.mchId, opts.now),
      payload: redpackPayload(campaign, original.openId, original.amountFen),
      dueAt: plan.dueAt,
      deferred: plan.deferred,
      reservations: plan.reservations,
      note,
    },
  };
}

/** A reissue ready to record (`input`), or why there can be none. */
export type PreparedReissue = { ok: true; original: LedgerGrant; input: RecordGrantInput } | { ok: false; message: string };

/**
 * The checks of a reissue before anything is recorded: the bill is a failed red packet not yet
 * reissued (`reissueRefusal`), and its new grant can be planned now (`planReissue`). The CLI's dry run
 * stops here; a real run records `input` with `ledger.reissue` (see {@link reissueGrant}).
 *
 * @example const p = await prepareReissue({ ledger, config, mchId }, bill, { by: 'alice', reason: 'fixed', now });
 */
export async function prepareReissue(
  deps: { ledger: Pick<Ledger, 'findByBillNo'>; config: RewardsConfig; mchId: string },
  billNo: string,
  who: OperatorInput,
): Promise<PreparedReissue> {
  const original = await deps.ledger.findByBillNo(billNo);
  const refused = reissueRefusal(original, billNo);
  if (refused || !original) return { ok: false, message: refused!.message };
  const plan = planReissue(original, { config: deps.config, mchId: deps.mchId, ...who });
  if ('refusal' in plan) return { ok: false, message: plan.refusal };
  return { ok: true, original, input: plan.input };
}

/**
 * Reissues a failed red packet as a new grant — the one operation behind `redpack reissue` and the
 * console: {@link prepareReissue}, then `ledger.reissue` (atomic, exactly once).
 *
 * @example const r = await reissueGrant({ ledger, config, mchId }, bill, { by: 'console:a1b2c3', reason: 'openid fixed', now });
 */
export async function reissueGrant(
  deps: { ledger: Pick<Ledger, 'findByBillNo' | 'reissue'>; config: RewardsConfig; mchId: string },
  billNo: string,
  who: OperatorInput,
): Promise<ReissueResult | { ok: false; message: string }> {
  const prepared = await prepareReissue(deps, billNo, who);
  if (!prepared.ok) return prepared;
  return deps.ledger.reissue(billNo, { ...who, grant: prepared.input });
}
