/**
 * The `kind: card` campaign of `campaigns.yaml`: a rule's `grant` hands out a card of `cards.yaml`,
 * with a total and a per-follower limit, recorded in the same ledger as red packets (one grant per
 * (message, rule)), and delivered one of three ways:
 *
 * - `wxcard` (default): a customer-service `wxcard` message through the outbox;
 * - `landing_page`: a link to the card's landing page (`card/landingpage/create`) carrying the
 *   grant's `outer_str`;
 * - `qrcode`: a card QR code (`card/qrcode/create`) made for the grant, with its `outer_str`.
 *
 * Only zod is imported here, so `src/rewards/config-schema.ts` can add this schema to its campaign
 * union without an import cycle.
 *
 * @example
 * campaigns:
 *   welcome-coupon: { kind: card, card: coffee-cash, delivery: wxcard, max_cards: 500, per_user: 1 }
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Distributing_Coupons_Vouchers_and_Cards.html
 */
import { z } from 'zod';

/** How a card grant reaches the follower. */
export const CARD_DELIVERIES = ['wxcard', 'landing_page', 'qrcode'] as const;
export type CardDelivery = (typeof CARD_DELIVERIES)[number];

/**
 * One card campaign (`kind: card`).
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Distributing_Coupons_Vouchers_and_Cards.html
 */
export const cardCampaignSchema = z
  .object({
    kind: z.literal('card'),
    /** Name of the card in cards.yaml. */
    card: z.string().min(1),
    delivery: z.enum(CARD_DELIVERIES).default('wxcard'),
    /** Cards this campaign may grant in total. */
    max_cards: z.number().int().min(1),
    /** Cards per follower for the whole campaign (1 = once per follower). */
    per_user: z.number().int().min(1).default(1),
    /** Lifetime of a `qrcode` delivery's QR code in seconds (60–1800; default 1800). */
    qrcode_expire_seconds: z.number().int().min(60).max(1800).default(1800),
    enabled: z.boolean().default(true),
    /** true: grant only for messages that arrived encrypted (safe or compatible mode); plain ones are refused. */
    require_safe_mode: z.boolean().default(false),
    replies: z.record(z.string(), z.string().min(1)).default({}),
  })
  .strict()
  .transform((c) => ({
    kind: 'card' as const,
    card: c.card,
    delivery: c.delivery,
    maxCards: c.max_cards,
    perUser: c.per_user,
    qrcodeExpireSeconds: c.qrcode_expire_seconds,
    enabled: c.enabled,
    requireSafeMode: c.require_safe_mode,
    replies: c.replies,
  }));

/** A parsed card campaign, with its name. */
export type CardCampaign = z.output<typeof cardCampaignSchema> & { name: string };

/** True for a card campaign (`kind: card`). */
export function isCardCampaign(c: { kind: string } | undefined): c is CardCampaign {
  return c?.kind === 'card';
}
