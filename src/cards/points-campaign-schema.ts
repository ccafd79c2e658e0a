/**
 * The `kind: points` campaign of `campaigns.yaml`: a rule's `grant` (follow, keyword, menu click,
 * scan) or a spend-and-get tier adds N points to the follower's member card of `cards.yaml`, recorded
 * in the same ledger as red packets and coupons and sent by the outbox (`cards/points-sender.ts`).
 * Points are counted in the grant's payload, never in its `amountFen`: they are not money and no money
 * total sums them.
 *
 * Only zod is imported here, so the rewards config can list this schema without an import cycle.
 *
 * @example
 * campaigns:
 *   follow-points: { kind: points, card: gold-member, points: 100, per_user: 1, max_grants: 10000, record_bonus: 关注有礼 }
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Membership_Cards/Manage_Member_Card.html
 */
import { z } from 'zod';

/** Highest point total WeChat's `bonus` accepts (a signed 32-bit int). */
export const MAX_BONUS = 2_147_483_647;

/**
 * One points campaign (`kind: points`).
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Membership_Cards/Manage_Member_Card.html
 */
export const pointsCampaignSchema = z
  .object({
    kind: z.literal('points'),
    /** Name of the member card in cards.yaml. */
    card: z.string().min(1),
    /** Points one grant adds. */
    points: z.number().int().min(1).max(1_000_000),
    /** Grants per follower for the whole campaign (1 = once per follower). */
    per_user: z.number().int().min(1).default(1),
    /** Grants this campaign may make in total (no cap when absent). */
    max_grants: z.number().int().min(1).optional(),
    /** The points-change text WeChat shows in the member's history (`record_bonus`); the card's message from cards.yaml when absent. */
    record_bonus: z.string().min(1).max(42).optional(),
    enabled: z.boolean().default(true),
    /** true: grant only for messages that arrived encrypted (safe or compatible mode); plain ones are refused. */
    require_safe_mode: z.boolean().default(false),
    replies: z.record(z.string(), z.string().min(1)).default({}),
  })
  .strict()
  .transform((c) => ({
    kind: 'points' as const,
    card: c.card,
    points: c.points,
    perUser: c.per_user,
    maxGrants: c.max_grants,
    recordBonus: c.record_bonus,
    enabled: c.enabled,
    requireSafeMode: c.require_safe_mode,
    replies: c.replies,
  }));

/** A parsed points campaign, with its name. */
export type PointsCampaign = z.output<typeof pointsCampaignSchema> & { name: string };

/** True for a points campaign (`kind: points`). */
export function isPointsCampaign(c: { kind: string } | undefined): c is PointsCampaign {
  return c?.kind === 'points';
}
