/**
 * Schema of `config/cards.yaml`: the card coupons the bot makes and maintains, one entry per card
 * name, checked against WeChat's field rules so `cards sync` fails in the config check, not at
 * `card/create`. Field names are WeChat's (`base_info.brand_name`, `sku.quantity` …) so the operator
 * can look each one up; amounts are in yuan (as on the merchant platform) and dates may be written
 * `YYYY-MM-DD` (Beijing time).
 *
 * Rules enforced: `type` one of GROUPON, CASH, DISCOUNT, GIFT, GENERAL_COUPON with that type's own
 * field (deal_detail, reduce_cost [+ least_cost], discount 1–99, gift, default_detail); `code_type`;
 * `color` Color010…Color100; lengths counted in Chinese characters (`cjkLength`): brand_name ≤ 12,
 * title ≤ 9, sub_title ≤ 18, notice ≤ 16, description ≤ 1024; `date_info` a fixed range (end after
 * begin) or a term after receipt; `sku.quantity` 1–100 000 000; `get_limit` ≥ 1.
 *
 * @example
 * const { cards } = cardsFileSchema.parse(YAML.parse(text));
 * toCardCreateBody(cards['coffee-cash'], { merchantId: 100001 }); // → the `card` object of card/create
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Create_a_Coupon_Voucher_or_Card.html
 */
import { z } from 'zod';
import { namedEntriesFile } from '../lib/schema-helpers';
import { cjkText, httpsUrl, timestamp, yuan } from './card-fields';
import { memberCardFields, quickPaySchema, toMemberCardConfig, toMemberCardSpecial, type MemberCardConfig, type MemberCardFields } from './member-card-schema';

// === Field rules

/** The colours WeChat accepts. */
export const CARD_COLORS = ['Color010', 'Color020', 'Color030', 'Color040', 'Color050', 'Color060', 'Color070', 'Color080', 'Color090', 'Color100'] as const;

/** The code types WeChat accepts. */
export const CODE_TYPES = ['CODE_TYPE_TEXT', 'CODE_TYPE_BARCODE', 'CODE_TYPE_QRCODE', 'CODE_TYPE_ONLY_QRCODE', 'CODE_TYPE_ONLY_BARCODE', 'CODE_TYPE_NONE'] as const;

/** Fields `card/update` cannot change: a change needs a new card. */
export const FIXED_BASE_FIELDS = ['brand_name', 'code_type', 'use_custom_code', 'bind_openid', 'sub_merchant_info'] as const;

const dateInfoSchema = z.discriminatedUnion('type', [
  z
    .object({ type: z.literal('DATE_TYPE_FIX_TIME_RANGE'), begin_timestamp: timestamp, end_timestamp: timestamp })
    .strict()
    .refine((d) => d.end_timestamp > d.begin_timestamp, { message: 'end_timestamp must be after begin_timestamp', path: ['end_timestamp'] }),
  z
    .object({
      type: z.literal('DATE_TYPE_FIX_TERM'),
      /** Days the card is valid after it becomes valid (0 = the same day). */
      fixed_term: z.number().int().min(0).max(3650),
      /** Days after receipt until it becomes valid (0 = at once). */
      fixed_begin_term: z.number().int().min(0).max(3650).default(0),
      /** A hard end date, whatever the term. */
      end_timestamp: timestamp.optional(),
    })
    .strict(),
]);

const baseInfoSchema = z
  .object({
    logo_url: httpsUrl,
    brand_name: cjkText(12),
    code_type: z.enum(CODE_TYPES),
    title: cjkText(9),
    sub_title: cjkText(18).optional(),
    color: z.enum(CARD_COLORS),
    notice: cjkText(16),
    description: cjkText(1024),
    date_info: dateInfoSchema,
    sku: z.object({ quantity: z.number().int().min(1).max(100_000_000) }).strict(),
    get_limit: z.number().int().min(1).max(1_000_000).optional(),
    use_limit: z.number().int().min(1).max(1_000_000).optional(),
    use_custom_code: z.boolean().default(false),
    bind_openid: z.boolean().default(false),
    can_share: z.boolean().default(true),
    can_give_friend: z.boolean().default(true),
    service_phone: z
      .string()
      .regex(/^[0-9+\-() ]{3,24}$/, { message: 'must be a phone number (digits, +, -, spaces; at most 24)' })
      .optional(),
    location_id_list: z.array(z.number().int().positive()).max(1000).optional(),
    center_title: cjkText(9).optional(),
    center_sub_title: cjkText(12).optional(),
    center_url: httpsUrl.optional(),
    custom_url_name: cjkText(5).optional(),
    custom_url: httpsUrl.optional(),
    custom_url_sub_title: cjkText(6).optional(),
    promotion_url_name: cjkText(5).optional(),
    promotion_url: httpsUrl.optional(),
    source: cjkText(36).optional(),
  })
  .strict();

const common = {
  base_info: baseInfoSchema,
  /** Name of a sub-merchant in submerchants.yaml: the card is made for it (developer-assisted mode). */
  sub_merchant: z.string().min(1).optional(),
  /** Landing-page banner (delivery `landing_page`); default: the logo. */
  landing_banner: httpsUrl.optional(),
  /**
   * With-official-account mode (third-party platform): the authorizer account the card is made for;
   * its calls use that account's token (`cardApiFor` of `syncCards`/`createCards`).
   */
  authorizer_appid: z
    .string()
    .regex(/^wx[0-9a-zA-Z]{14,18}$/, { message: 'must be an AppID (wx…)' })
    .optional(),
  ...quickPaySchema,
};

/** Member-card fields `card/update` cannot change. */
export const FIXED_MEMBER_FIELDS = ['supply_bonus', 'supply_balance'] as const;

const cardDefSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('GROUPON'), ...common, deal_detail: cjkText(2048) }).strict(),
  z
    .object({ type: z.literal('CASH'), ...common, least_cost: yuan({ min: 0 }).default(0), reduce_cost: yuan({ min: 1 }) })
    .strict()
    .refine((c) => c.least_cost === 0 || c.least_cost > c.reduce_cost, {
      message: 'least_cost (the threshold) must be above reduce_cost, or 0 for no threshold',
      path: ['least_cost'],
    }),
  z
    .object({
      type: z.literal('DISCOUNT'),
      ...common,
      /** Percent off: 30 means the follower pays 70 %. */
      discount: z.number().int().min(1).max(99),
    })
    .strict(),
  z.object({ type: z.literal('GIFT'), ...common, gift: cjkText(3072) }).strict(),
  z.object({ type: z.literal('GENERAL_COUPON'), ...common, default_detail: cjkText(3072) }).strict(),
  z.object({ type: z.literal('MEMBER_CARD'), ...common, ...memberCardFields }).strict(),
]);

/** `subMerchant` is accepted as another spelling of `sub_merchant`. */
const cardEntrySchema = z.preprocess(
  (v) => {
    if (v && typeof v === 'object' && !Array.isArray(v) && 'subMerchant' in v) {
      const { subMerchant, ...rest } = v as Record<string, unknown>;
      return { ...rest, sub_merchant: subMerchant };
    }
    return v;
  },
  z
    .object({ type: z.enum(['GROUPON', 'CASH', 'DISCOUNT', 'GIFT', 'GENERAL_COUPON', 'MEMBER_CARD']) })
    .passthrough()
    .pipe(cardDefSchema)
    .superRefine((c, ctx) => {
      // WeChat sets quick pay and self redemption only on cards with stores (paycell/set, selfconsumecell/set).
      if (c.base_info.location_id_list?.length) return;
      if (c.pay_cell === true) ctx.addIssue({ code: 'custom', path: ['pay_cell'], message: 'quick pay needs the stores it applies in: add base_info.location_id_list' });
      if (c.self_consume_cell === true || (typeof c.self_consume_cell === 'object' && c.self_consume_cell))
        ctx.addIssue({ code: 'custom', path: ['self_consume_cell'], message: 'self redemption needs the stores it applies in: add base_info.location_id_list' });
    }),
);

/** A card of cards.yaml, parsed. `baseInfo` and `special` are WeChat-shaped (ready for card/create). */
export interface CardDefinition {
  name: string;
  type: 'GROUPON' | 'CASH' | 'DISCOUNT' | 'GIFT' | 'GENERAL_COUPON' | 'MEMBER_CARD';
  subMerchant?: string;
  landingBanner?: string;
  /** Third-party platform mode: the authorizer account whose token makes and sends this card. */
  authorizerAppId?: string;
  /** `base_info` without `sku` and `sub_merchant_info`. */
  baseInfo: Record<string, unknown>;
  /** The type's own fields (`reduce_cost` in fen …). */
  special: Record<string, unknown>;
  stock: number;
  getLimit?: number;
  /** Quick pay from the card (`card/paycell/set`); undefined: left as it is on WeChat. */
  payCell?: boolean;
  /** Self redemption (`card/selfconsumecell/set`); undefined: left as it is on WeChat. */
  selfConsumeCell?: { isOpen: boolean; needVerifyCod: boolean; needRemarkAmount: boolean };
  /** MEMBER_CARD only: the member card's typed view (activation, initial points and balance …). */
  member?: MemberCardConfig;
}

/**
 * The whole `cards.yaml` (`cards: { <name>: {...} }`). Empty or absent: no cards.
 *
 * @example cardsFileSchema.parse({ cards: { 'coffee-cash': { type: 'CASH', base_info: {…}, reduce_cost: 2 } } })
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Create_a_Coupon_Voucher_or_Card.html
 */
export const cardsFileSchema = namedEntriesFile('cards', cardEntrySchema, 'card', (name, c): CardDefinition => {
  const { type, base_info, sub_merchant, landing_banner, authorizer_appid, pay_cell, self_consume_cell, ...special } = c as Record<string, unknown> & {
    type: CardDefinition['type'];
    base_info: z.output<typeof baseInfoSchema>;
    sub_merchant?: string;
    landing_banner?: string;
    authorizer_appid?: string;
    pay_cell?: boolean;
    self_consume_cell?: boolean | { need_verify_cod: boolean; need_remark_amount: boolean };
  };
  const { sku, ...base } = base_info;
  const member = type === 'MEMBER_CARD' ? (special as unknown as MemberCardFields) : undefined;
  const def: CardDefinition = {
    name,
    type,
    baseInfo: stripUndefined(base),
    special: member ? toMemberCardSpecial(member) : stripUndefined(special),
    stock: sku.quantity,
  };
  if (member) def.member = toMemberCardConfig(name, member);
  if (pay_cell !== undefined) def.payCell = pay_cell;
  if (self_consume_cell !== undefined)
    def.selfConsumeCell =
      typeof self_consume_cell === 'boolean'
        ? { isOpen: self_consume_cell, needVerifyCod: false, needRemarkAmount: false }
        : { isOpen: true, needVerifyCod: self_consume_cell.need_verify_cod, needRemarkAmount: self_consume_cell.need_remark_amount };
  if (sub_merchant) def.subMerchant = sub_merchant;
  if (landing_banner) def.landingBanner = landing_banner;
  if (authorizer_appid) def.authorizerAppId = authorizer_appid;
  if (base_info.get_limit !== undefined) def.getLimit = base_info.get_limit;
  return def;
});

/** Parsed `cards.yaml`. */
export type CardsFile = z.output<typeof cardsFileSchema>;

function stripUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

// === To WeChat

/**
 * The `card` object of `card/create` for a definition; `merchantId` adds `sub_merchant_info`.
 *
 * @example api.card.create(toCardCreateBody(def))
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Create_a_Coupon_Voucher_or_Card.html
 */
export function toCardCreateBody(def: CardDefinition, opts: { merchantId?: number } = {}): Record<string, unknown> {
  const base: Record<string, unknown> = { ...def.baseInfo, sku: { quantity: def.stock } };
  if (opts.merchantId !== undefined) base.sub_merchant_info = { merchant_id: opts.merchantId };
  return { card_type: def.type, [def.type.toLowerCase()]: { base_info: base, ...def.special } };
}

/**
 * What `card/update` must send to bring a card from `before` to `after` (both definitions), or the
 * fields that cannot change without a new card. `sku` is not here: stock changes go through
 * `card/modifystock`.
 *
 * @example cardUpdateOf(synced, current) // → { fields: { base_info: { title: '…' } }, fixed: [] }
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Managing_Coupons_Vouchers_and_Cards.html
 */
export function cardUpdateOf(before: CardDefinition, after: CardDefinition): { fields: Record<string, unknown> | undefined; fixed: string[] } {
  const fixed: string[] = [];
  if (before.type !== after.type) fixed.push('type');
  if ((before.subMerchant ?? '') !== (after.subMerchant ?? '')) fixed.push('sub_merchant');
  const base: Record<string, unknown> = {};
  const keys = new Set([...Object.keys(before.baseInfo), ...Object.keys(after.baseInfo)]);
  for (const k of keys) {
    if (same(before.baseInfo[k], after.baseInfo[k])) continue;
    if ((FIXED_BASE_FIELDS as readonly string[]).includes(k)) fixed.push(`base_info.${k}`);
    else if (after.baseInfo[k] !== undefined) base[k] = after.baseInfo[k];
  }
  const special: Record<string, unknown> = {};
  for (const k of new Set([...Object.keys(before.special), ...Object.keys(after.special)])) {
    if (same(before.special[k], after.special[k])) continue;
    if (after.type === 'MEMBER_CARD' && (FIXED_MEMBER_FIELDS as readonly string[]).includes(k)) fixed.push(k);
    else if (after.special[k] !== undefined) special[k] = after.special[k];
    else if (k === 'wx_activate') special[k] = false; // from one-click activation to the merchant's URL
  }
  const changed = Object.keys(base).length > 0 || Object.keys(special).length > 0;
  return { fields: changed ? { ...(Object.keys(base).length > 0 ? { base_info: base } : {}), ...special } : undefined, fixed };
}

/** Deep equality of two config values (JSON-shaped). */
export function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
