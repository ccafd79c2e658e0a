/**
 * The member-card points reward kind (`kind: points` in campaigns.yaml), an equal of red packets and
 * coupons in the reward-kind registry: its campaign schema and its plan at record time — the campaign
 * switch, the total (`max_grants`) and per-follower (`per_user`) reservations the ledger checks in the
 * grant's own transaction, and the payload the outbox sender reads (card name, points, the
 * points-change text). `amountFen` is 0: points are not money.
 *
 * @example createRewards({ …, kinds: [redPacketRewardKind, cardRewardKind, pointsRewardKind] })
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Membership_Cards/Manage_Member_Card.html
 */
import { pointsGrantRefPrefix } from '../rewards/bill-no';
import type { Reservation } from '../rewards/ledger';
import type { KindPlan, PlanInput, RewardKind } from '../rewards/reward-kind';
import { pointsCampaignSchema, type PointsCampaign } from './points-campaign-schema';

/**
 * Plans one points grant.
 *
 * @example planPointsGrant({ campaign, openId: 'o1', now, … }).payload // → { card: 'gold', points: 100, openId: 'o1' }
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Membership_Cards/Manage_Member_Card.html
 */
export function planPointsGrant({ campaign: c, openId, now }: PlanInput<PointsCampaign>): KindPlan {
  const payload: Record<string, unknown> = { card: c.card, points: c.points, openId, ...(c.recordBonus ? { recordBonus: c.recordBonus } : {}) };
  const base = { billNoPrefix: pointsGrantRefPrefix(now), amountFen: 0, payload, dueAt: now, deferred: false };
  if (!c.enabled) return { ...base, reservations: [], refusal: { outcome: 'campaign_over', reason: 'campaign is switched off (enabled: false)' } };
  const reservations: Reservation[] = [];
  if (c.maxGrants !== undefined)
    reservations.push({
      kind: 'budget',
      key: `budget:${c.name}`,
      count: 1,
      amountFen: 0,
      maxCount: c.maxGrants,
      maxAmountFen: null,
      outcome: 'campaign_over',
      reason: `all ${c.maxGrants} points grants of ${c.name} are made`,
    });
  reservations.push({
    kind: 'per_user',
    key: `per-user:${c.name}:${openId}`,
    count: 1,
    amountFen: 0,
    maxCount: c.perUser,
    maxAmountFen: null,
    outcome: 'already_claimed',
    reason: `the follower already has ${c.perUser} points grant(s) from ${c.name}`,
  });
  return { ...base, reservations };
}

/** Member-card points: granted in the same ledger, sent by the outbox's points sender (`points-sender.ts`). */
export const pointsRewardKind: RewardKind<PointsCampaign> = {
  kind: 'points',
  campaignSchema: pointsCampaignSchema as unknown as RewardKind<PointsCampaign>['campaignSchema'],
  plan: planPointsGrant,
};
