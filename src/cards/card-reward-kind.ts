/**
 * The card-coupon reward kind (`kind: card` in campaigns.yaml), registered from the cards side: its
 * campaign schema and its plan at record time (`planCardGrant`: total and per-follower reservations,
 * a reference from the card sequence, never a red-packet bill number). The outbox sends it through
 * `Cards.sendGrant`; `Cards.reconcile` reconciles it.
 *
 * @example createRewards({ …, kinds: [redPacketRewardKind, cardRewardKind] })
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Distributing_Coupons_Vouchers_and_Cards.html
 */
import { cardGrantRefPrefix } from '../rewards/bill-no';
import type { RewardKind } from '../rewards/reward-kind';
import { cardCampaignSchema, type CardCampaign } from './card-campaign-schema';
import { planCardGrant } from './plan-card-grant';

/** Card coupons: granted in the same ledger as red packets, delivered by `Cards.sendGrant`. */
export const cardRewardKind: RewardKind<CardCampaign> = {
  kind: 'card',
  campaignSchema: cardCampaignSchema as unknown as RewardKind<CardCampaign>['campaignSchema'],
  plan({ campaign, openId, now }) {
    return { ...planCardGrant(campaign, campaign.name, openId), billNoPrefix: cardGrantRefPrefix(now), dueAt: now, deferred: false };
  },
};
