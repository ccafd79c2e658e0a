/**
 * The red-packet reward kind (`kind: red_packet` in campaigns.yaml): its campaign schema and its plan
 * at record time — the amount (fixed, random in a range, or the request's own), the campaign window,
 * the amount limits, quiet hours (defer or refuse) and the reservations the ledger checks atomically,
 * plus the `RedpackRequest` snapshot the outbox sends with the bill number fixed now.
 *
 * @example const plan = redPacketRewardKind.plan({ campaign, openId, limits, now, mchId, random: Math.random });
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import { billNoPrefix } from './bill-no';
import { redPacketCampaignSchema, type RedPacketCampaign } from './config-schema';
import { planGrant } from './limits';
import type { KindPlan, PlanInput, RewardKind } from './reward-kind';

/** The payload snapshot stored with a red-packet grant: a `RedpackRequest` without its bill number. */
export function redpackPayload(c: RedPacketCampaign, openId: string, amountFen: number): Record<string, unknown> {
  return {
    kind: c.type,
    openId,
    amountFen,
    totalNum: c.totalNum,
    sendName: c.sendName,
    wishing: c.wishing,
    actName: c.actName,
    remark: c.remark,
    sceneId: c.sceneId,
    riskInfo: c.riskInfo,
    subMchId: c.serviceProvider?.subMchId,
    msgAppId: c.serviceProvider?.msgAppId,
    consumeMchId: c.serviceProvider?.consumeMchId,
    wxAppId: c.wxAppId,
  };
}

/** Picks an amount in [minFen, maxFen] (integer fen, uniform). */
export function pickAmount(range: { minFen: number; maxFen: number }, random: () => number): number {
  const span = range.maxFen - range.minFen + 1;
  const r = random();
  const offset = Math.min(span - 1, Math.max(0, Math.floor((Number.isFinite(r) ? r : 0) * span)));
  return range.minFen + offset;
}

/**
 * Plans one red packet: amount, then window, amount limits, quiet hours and reservations (`planGrant`).
 *
 * @example planRedPacketGrant({ campaign, openId: 'o1', limits, now, mchId: '1900000109', random: () => 0.5 })
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function planRedPacketGrant(input: PlanInput<RedPacketCampaign>): KindPlan {
  const { campaign, limits, now, openId } = input;
  const amountFen = input.amountFen ?? (campaign.amount.random ? pickAmount(campaign.amount, input.random) : campaign.amount.minFen);
  const plan = planGrant({ campaign, limits, now, openId, amountFen });
  const base = { billNoPrefix: billNoPrefix(input.mchId, now), amountFen, payload: redpackPayload(campaign, openId, amountFen) };
  if (plan.refusal) return { ...base, dueAt: now, deferred: false, reservations: [], refusal: plan.refusal };
  return { ...base, dueAt: plan.dueAt, deferred: plan.deferred, reservations: plan.reservations, note: plan.note };
}

/** Cash red packets (`sendredpack` / `sendgroupredpack`), sent by the outbox worker's red-packet sender. */
export const redPacketRewardKind: RewardKind<RedPacketCampaign> = {
  kind: 'red_packet',
  campaignSchema: redPacketCampaignSchema as unknown as RewardKind<RedPacketCampaign>['campaignSchema'],
  plan: planRedPacketGrant,
};
