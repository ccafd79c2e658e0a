/**
 * Member cards (`type: MEMBER_CARD` in `config/cards.yaml`): the fields of WeChat's `member_card`
 * object beside `base_info`, the activation (one-click `wx_activate` with its form, or the merchant's
 * own URL), the initial points and balance given at activation, the points-change message, and the
 * typed view (`MemberCardConfig`) the activation and points code read.
 *
 * Field rules, from WeChat's "Create a membership card" (card/create, member_card), "activateuserform/set"
 * and "paycell/set" pages, cross-checked with the field lists of wechatpy (client/api/card.py),
 * WxJava (WxMpMemberCardCreateMessage / MemberCard / MemberCardActivateUserFormRequest) and Senparc
 * (ActivateUserFormSetData): `supply_bonus`, `supply_balance` booleans (required); `prerogative`
 * ≤ 1024 Chinese characters (string(3072)); `bonus_cleared` / `bonus_rules` / `balance_rules` ≤ 128
 * bytes (we count 128 Chinese-character halves: 64 Chinese characters); `custom_field1..3` with
 * `name_type` one of the FIELD_NAME_TYPE_* values or a `name`, and a `url`; `custom_cell1` with
 * `name` (≤ 15 bytes → 5 Chinese characters), `tips` (≤ 6 Chinese characters) and `url`;
 * `discount` 0–100 percent off (10 = 10 % off); `bonus_rule` amounts in fen and points as integers;
 * the activation form's `common_field_id_list` values are the USER_FORM_INFO_FLAG_* names, custom
 * field names at most 10 per form; `record_bonus` (membercard/updateuser) ≤ 14 Chinese characters
 * (string(42)).
 *
 * @example memberCardSchema.parse({ supply_bonus: true, supply_balance: false, prerogative: '…', activation: { mode: 'url', url: 'https://…' } })
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Membership_Cards/Create_a_membership_card.html
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Membership_Cards/Manage_Member_Card.html
 */
import { z } from 'zod';
import { cjkText, httpsUrl, yuan } from './card-fields';

// === Field rules

/** The activation form's common fields (`common_field_id_list`), WeChat's names. */
export const MEMBER_FORM_COMMON_FIELDS = [
  'USER_FORM_INFO_FLAG_MOBILE',
  'USER_FORM_INFO_FLAG_SEX',
  'USER_FORM_INFO_FLAG_NAME',
  'USER_FORM_INFO_FLAG_BIRTHDAY',
  'USER_FORM_INFO_FLAG_IDCARD',
  'USER_FORM_INFO_FLAG_EMAIL',
  'USER_FORM_INFO_FLAG_LOCATION',
  'USER_FORM_INFO_FLAG_EDUCATION_BACKGRO',
  'USER_FORM_INFO_FLAG_INDUSTRY',
  'USER_FORM_INFO_FLAG_INCOME',
  'USER_FORM_INFO_FLAG_HABIT',
] as const;
export type MemberFormCommonField = (typeof MEMBER_FORM_COMMON_FIELDS)[number];

/** `custom_field1..3.name_type`: the label WeChat shows for a member's figure. */
export const MEMBER_FIELD_NAME_TYPES = [
  'FIELD_NAME_TYPE_LEVEL',
  'FIELD_NAME_TYPE_COUPON',
  'FIELD_NAME_TYPE_STAMP',
  'FIELD_NAME_TYPE_DISCOUNT',
  'FIELD_NAME_TYPE_ACHIEVEMEN',
  'FIELD_NAME_TYPE_MILEAGE',
  'FIELD_NAME_TYPE_SET_POINTS',
  'FIELD_NAME_TYPE_TIMS',
] as const;

/** At most this many custom fields per form (required or optional). */
export const MAX_FORM_CUSTOM_FIELDS = 10;

/** The points-change message when the config gives none (`record_bonus` of membercard/updateuser). */
export const DEFAULT_RECORD_BONUS = '积分变动';

/**
 * What the follower is told after a one-click activation (a customer-service text), when the config gives
 * nothing. `{membership_number}`, `{bonus}` and `{balance}` (yuan) fill `activated`; `{fields}` (the
 * labels of the missing required fields, joined with 、) fills `missing_fields`.
 */
export const DEFAULT_ACTIVATION_MESSAGES = {
  activated: '会员卡已激活，会员号 {membership_number}，积分 {bonus}，余额 {balance} 元',
  missing_fields: '会员卡未激活：请填写{fields}后重新提交',
  failed: '会员卡暂未激活成功，请稍后重新提交',
} as const;

/** The label a follower sees for a common field of the activation form (a custom field's label is its name). */
export const MEMBER_FORM_FIELD_LABELS: Readonly<Record<MemberFormCommonField, string>> = {
  USER_FORM_INFO_FLAG_MOBILE: '手机号',
  USER_FORM_INFO_FLAG_SEX: '性别',
  USER_FORM_INFO_FLAG_NAME: '姓名',
  USER_FORM_INFO_FLAG_BIRTHDAY: '生日',
  USER_FORM_INFO_FLAG_IDCARD: '身份证',
  USER_FORM_INFO_FLAG_EMAIL: '邮箱',
  USER_FORM_INFO_FLAG_LOCATION: '详细地址',
  USER_FORM_INFO_FLAG_EDUCATION_BACKGRO: '教育背景',
  USER_FORM_INFO_FLAG_INDUSTRY: '行业',
  USER_FORM_INFO_FLAG_INCOME: '收入',
  USER_FORM_INFO_FLAG_HABIT: '兴趣爱好',
};

/** The activation messages (cards.yaml `activation.messages`), each defaulted. */
export interface ActivationMessages {
  activated: string;
  missingFields: string;
  failed: string;
}

/** A customer-service text: WeChat takes up to 2048 bytes; 600 characters stay under it in any script. */
const messageText = z.string().trim().min(1).max(600);
const activationMessagesSchema = z
  .object({
    activated: messageText.default(DEFAULT_ACTIVATION_MESSAGES.activated),
    missing_fields: messageText.default(DEFAULT_ACTIVATION_MESSAGES.missing_fields),
    failed: messageText.default(DEFAULT_ACTIVATION_MESSAGES.failed),
  })
  .strict();

const points = z.number().int().min(0).max(100_000_000);

const customFieldSchema = z
  .object({
    name_type: z.enum(MEMBER_FIELD_NAME_TYPES).optional(),
    name: cjkText(4).optional(),
    url: httpsUrl.optional(),
  })
  .strict()
  .refine((f) => (f.name_type === undefined) !== (f.name === undefined), { message: 'give exactly one of name_type or name' });

const customCellSchema = z.object({ name: cjkText(5), tips: cjkText(6), url: httpsUrl }).strict();

const bonusRuleSchema = z
  .object({
    /** Spend this much (yuan) … */
    cost_money_unit: yuan({ min: 1 }).optional(),
    /** … to earn this many points. */
    increase_bonus: points.optional(),
    /** At most this many points from one purchase. */
    max_increase_bonus: points.optional(),
    /** Points given when the card is activated (shown by WeChat; the bot gives `activation.initial_bonus`). */
    init_increase_bonus: points.optional(),
    /** Use this many points … */
    cost_bonus_unit: points.optional(),
    /** … to take this much (yuan) off. */
    reduce_money: yuan({ min: 1 }).optional(),
    /** Points can be used from this spend (yuan) up. */
    least_money_to_use_bonus: yuan({ min: 0 }).optional(),
    /** At most this many points used on one purchase. */
    max_reduce_bonus: points.optional(),
  })
  .strict()
  .refine((r) => (r.cost_money_unit === undefined) === (r.increase_bonus === undefined), {
    message: 'cost_money_unit and increase_bonus go together (spend cost_money_unit yuan to earn increase_bonus points)',
  })
  .refine((r) => (r.cost_bonus_unit === undefined) === (r.reduce_money === undefined), {
    message: 'cost_bonus_unit and reduce_money go together (use cost_bonus_unit points to take reduce_money yuan off)',
  });

const customFieldNames = z
  .array(cjkText(10))
  .max(MAX_FORM_CUSTOM_FIELDS)
  .default([])
  .refine((l) => new Set(l).size === l.length, { message: 'names a custom field twice' });

const formPartSchema = z
  .object({
    common_fields: z
      .array(z.enum(MEMBER_FORM_COMMON_FIELDS))
      .default([])
      .refine((l) => new Set(l).size === l.length, { message: 'names a field twice' }),
    custom_fields: customFieldNames,
  })
  .strict();

const activationFormSchema = z
  .object({
    required: formPartSchema.default({ common_fields: [], custom_fields: [] }),
    optional: formPartSchema.default({ common_fields: [], custom_fields: [] }),
    /** May the follower change the pre-filled answers (`can_modify`). */
    can_modify: z.boolean().default(true),
  })
  .strict()
  .superRefine((f, ctx) => {
    const both = [...f.required.common_fields, ...f.required.custom_fields].filter((n) =>
      [...f.optional.common_fields, ...f.optional.custom_fields].includes(n as never),
    );
    for (const n of both) ctx.addIssue({ code: 'custom', path: ['optional'], message: `${n} is both required and optional; keep it in one list` });
    if (f.required.common_fields.length + f.required.custom_fields.length + f.optional.common_fields.length + f.optional.custom_fields.length === 0)
      ctx.addIssue({ code: 'custom', path: ['required'], message: 'the activation form asks nothing; name at least one field (e.g. USER_FORM_INFO_FLAG_MOBILE)' });
  });

const activationModes = z.discriminatedUnion('mode', [
  z
    .object({
      mode: z.literal('wx_activate'),
      form: activationFormSchema,
      /** Points given at activation. */
      initial_bonus: points.default(0),
      /** Balance (yuan) given at activation. */
      initial_balance: yuan({ min: 0 }).default(0),
      /** What the follower is told after the activation (see {@link DEFAULT_ACTIVATION_MESSAGES}). */
      messages: activationMessagesSchema.default({ ...DEFAULT_ACTIVATION_MESSAGES }),
    })
    .strict(),
  z.object({ mode: z.literal('url'), url: httpsUrl, initial_bonus: points.default(0), initial_balance: yuan({ min: 0 }).default(0) }).strict(),
]);

/** The mode is checked first, so a wrong one is named with the allowed values. */
const activationSchema = z
  .object({ mode: z.enum(['wx_activate', 'url']) })
  .passthrough()
  .pipe(activationModes);

/** The quick-pay cells, for member cards and coupons (`card/paycell/set`, `card/selfconsumecell/set`). */
export const quickPaySchema = {
  /** Quick pay (快速买单): paying with WeChat Pay from the card. */
  pay_cell: z.boolean().optional(),
  /** Self redemption (自助核销) from the card. */
  self_consume_cell: z
    .union([
      z.boolean(),
      z
        .object({
          /** The follower enters the verification code shown in store. */
          need_verify_cod: z.boolean().default(false),
          /** The follower enters the amount spent. */
          need_remark_amount: z.boolean().default(false),
        })
        .strict(),
    ])
    .optional(),
};

/**
 * The member card's own fields (what MEMBER_CARD adds to the common card fields).
 *
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Membership_Cards/Create_a_membership_card.html
 */
export const memberCardFields = {
  background_pic_url: httpsUrl.optional(),
  supply_bonus: z.boolean(),
  supply_balance: z.boolean(),
  prerogative: cjkText(1024),
  bonus_url: httpsUrl.optional(),
  balance_url: httpsUrl.optional(),
  bonus_cleared: cjkText(64).optional(),
  bonus_rules: cjkText(64).optional(),
  balance_rules: cjkText(64).optional(),
  bonus_rule: bonusRuleSchema.optional(),
  /** Percent off for members: 10 means the member pays 90 %. */
  discount: z.number().int().min(0).max(100).optional(),
  custom_field1: customFieldSchema.optional(),
  custom_field2: customFieldSchema.optional(),
  custom_field3: customFieldSchema.optional(),
  custom_cell1: customCellSchema.optional(),
  activation: activationSchema,
  /** The points-change message (`record_bonus` of membercard/updateuser). */
  record_bonus: cjkText(14).default(DEFAULT_RECORD_BONUS),
};

/** The parsed member-card fields (`z.output` of {@link memberCardFields}). */
export type MemberCardFields = z.output<z.ZodObject<typeof memberCardFields>>;

// === The typed view others read

/** One part (required or optional) of the activation form. */
export interface MemberFormPart {
  commonFields: MemberFormCommonField[];
  customFields: string[];
}

/** How a follower activates the card. */
export type MemberActivation =
  { mode: 'wx_activate'; form: { required: MemberFormPart; optional: MemberFormPart; canModify: boolean }; messages: ActivationMessages } | { mode: 'url'; url: string };

/**
 * A member card of cards.yaml as the activation and points code sees it. `name` is the cards.yaml
 * name (the card_id comes from the card registry after `cards sync`).
 */
export interface MemberCardConfig {
  name: string;
  supplyBonus: boolean;
  supplyBalance: boolean;
  activation: MemberActivation;
  /** Points given at activation. */
  initialBonus: number;
  /** Balance in fen given at activation. */
  initialBalance: number;
  /** The points-change message text (`record_bonus`). */
  recordBonus: string;
  /** Percent off for members, when set. */
  discount?: number;
}

/** The typed view of a parsed member card's fields. */
export function toMemberCardConfig(name: string, f: MemberCardFields): MemberCardConfig {
  const a = f.activation;
  const part = (p: { common_fields: MemberFormCommonField[]; custom_fields: string[] }): MemberFormPart => ({
    commonFields: p.common_fields,
    customFields: p.custom_fields,
  });
  const activation: MemberActivation =
    a.mode === 'url'
      ? { mode: 'url', url: a.url }
      : {
          mode: 'wx_activate',
          form: { required: part(a.form.required), optional: part(a.form.optional), canModify: a.form.can_modify },
          messages: { activated: a.messages.activated, missingFields: a.messages.missing_fields, failed: a.messages.failed },
        };
  const cfg: MemberCardConfig = {
    name,
    supplyBonus: f.supply_bonus,
    supplyBalance: f.supply_balance,
    activation,
    initialBonus: a.initial_bonus,
    initialBalance: a.initial_balance,
    recordBonus: f.record_bonus,
  };
  if (f.discount !== undefined) cfg.discount = f.discount;
  return cfg;
}

// === To WeChat

/**
 * The `member_card` object's own fields for card/create (without base_info): activation becomes
 * `wx_activate: true` or `activate_url`.
 */
export function toMemberCardSpecial(f: MemberCardFields): Record<string, unknown> {
  const { activation, ...rest } = f;
  delete (rest as Partial<MemberCardFields>).record_bonus;
  const out: Record<string, unknown> = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
  if (activation.mode === 'wx_activate') out.wx_activate = true;
  else out.activate_url = activation.url;
  return out;
}

/**
 * The body of `card/membercard/activateuserform/set` for a wx_activate card, else undefined.
 *
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Membership_Cards/Manage_Member_Card.html
 */
export function toActivateUserFormBody(cardId: string, cfg: MemberCardConfig): (Record<string, unknown> & { card_id: string }) | undefined {
  if (cfg.activation.mode !== 'wx_activate') return undefined;
  const { required, optional, canModify } = cfg.activation.form;
  const part = (p: MemberFormPart) => ({ can_modify: canModify, common_field_id_list: p.commonFields, custom_field_list: p.customFields });
  return { card_id: cardId, required_form: part(required), optional_form: part(optional) };
}
