/**
 * The ledger input of a card grant: the card campaign's limits as reservations the ledger checks and
 * adds in the grant's own transaction (so concurrent grants can't overshoot them), and the payload the
 * outbox sender reads. Same ledger, same `(dedupeKey, ruleId)` idempotency as red packets.
 *
 * - total: `budget:<campaign>` counts cards, at most `max_cards` → `campaign_over`;
 * - per follower: `per-user:<campaign>:<openId>`, at most `per_user` → `already_claimed`.
 *
 * @example const plan = planCardGrant(campaign, openId); // spread into RecordGrantInput
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Distributing_Coupons_Vouchers_and_Cards.html
 */
import type { Reservation } from '../rewards/ledger';
import type { CardCampaign } from './card-campaign-schema';

/** The card-specific part of a `RecordGrantInput`. */
export interface CardGrantPlan {
  amountFen: 0;
  payload: Record<string, unknown>;
  reservations: Reservation[];
  refusal?: { outcome: 'campaign_over'; reason: string };
}

/**
 * Plans one card grant.
 *
 * @example planCardGrant({ kind: 'card', card: 'coffee-cash', maxCards: 100, perUser: 1, … }, 'o_1')
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Distributing_Coupons_Vouchers_and_Cards.html
 */
export function planCardGrant(c: Omit<CardCampaign, 'name'> & { name?: string }, campaignName: string, openId: string): CardGrantPlan {
  const payload = { card: c.card, delivery: c.delivery, qrcodeExpireSeconds: c.qrcodeExpireSeconds, openId };
  if (!c.enabled) return { amountFen: 0, payload, reservations: [], refusal: { outcome: 'campaign_over', reason: 'campaign is switched off (enabled: false)' } };
  return {
    amountFen: 0,
    payload,
    reservations: [
      {
        kind: 'budget',
        key: `budget:${campaignName}`,
        count: 1,
        amountFen: 0,
        maxCount: c.maxCards,
        maxAmountFen: null,
        outcome: 'campaign_over',
        reason: `all ${c.maxCards} cards of ${campaignName} are granted`,
      },
      {
        kind: 'per_user',
        key: `per-user:${campaignName}:${openId}`,
        count: 1,
        amountFen: 0,
        maxCount: c.perUser,
        maxAmountFen: null,
        outcome: 'already_claimed',
        reason: `the follower already has ${c.perUser} card(s) from ${campaignName}`,
      },
    ],
  };
}
