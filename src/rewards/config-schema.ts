/**
 * Schemas of the operator files `config/campaigns.yaml` and `config/limits.yaml`.
 *
 * YAML is written in snake_case with amounts in yuan (at most 2 decimals, as on the merchant platform);
 * the parsed values are camelCase with every amount in fen, so the rest of the code never does money
 * arithmetic on floats. A campaign is a discriminated union on `kind`: red packets here, other kinds
 * registered by their own folders (src/rewards/reward-kind.ts), composed in src/config/reward-kinds.ts. Cross-file checks (a campaign's amount against the configured limits) are in
 * {@link checkCampaignsAgainstLimits} and run by {@link rewardsConfigSchema}.
 *
 * @example
 * const { campaigns } = campaignsFileSchema.parse(YAML.parse(text));
 * campaigns['welcome-packet'].amount.minFen; // → 188
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import { z } from 'zod';
import { fenToYuan, yuanToFen } from '../lib/money';
import { namedEntriesFile, yuanAmount } from '../lib/schema-helpers';

// === Money and time primitives

/** A yuan amount in YAML → fen. */
const yuan = yuanAmount('1.88');

/** `HH:MM` (00:00–24:00) → minutes after midnight. */
const clockTime = z.string().transform((v, ctx) => {
  const m = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(v.trim());
  const minutes = m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
  if (!m || minutes > 24 * 60) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not a time of day HH:MM (Beijing time)` });
    return z.NEVER;
  }
  return minutes;
});

/** `YYYY-MM-DD` (a YAML date or a string) → the same string. */
const isoDate = z.union([z.string(), z.date()]).transform((v, ctx) => {
  const s = v instanceof Date ? v.toISOString().slice(0, 10) : v.trim();
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!d || Number(d[2]) < 1 || Number(d[2]) > 12 || Number(d[3]) < 1 || Number(d[3]) > 31) {
    ctx.addIssue({ code: 'custom', message: `"${String(v)}" is not a date YYYY-MM-DD (Beijing time)` });
    return z.NEVER;
  }
  return s;
});

/** A span of the day in minutes; `from > to` wraps midnight (22:00–06:00). */
export interface DailySpan {
  fromMinute: number;
  toMinute: number;
}

/** `"08:00-22:00"` or `{ from, to }` → {@link DailySpan}. */
const dailySpan = z
  .union([
    z.string().transform((v, ctx) => {
      const parts = v.split(/\s*[-–~]\s*/);
      if (parts.length !== 2) {
        ctx.addIssue({ code: 'custom', message: `"${v}" is not a span of hours like "08:00-22:00"` });
        return z.NEVER;
      }
      return { from: parts[0], to: parts[1] };
    }),
    z.object({ from: z.string(), to: z.string() }).strict(),
  ])
  .pipe(z.object({ from: clockTime, to: clockTime }))
  .transform((s): DailySpan => ({ fromMinute: s.from, toMinute: s.to }));

// === limits.yaml

/**
 * Defaults follow WeChat Pay's published red-packet limits (wechat-protocol.md §6.1): 1–200 yuan per
 * packet by default, with or without `scene_id` — a wider range with `scene_id` exists only once the
 * merchant set or applied for it on the merchant platform, so `amount.*_with_scene` start at 1–200 too.
 */
export const DEFAULT_LIMITS = {
  amount: { min: 1, max: 200, min_with_scene: 1, max_with_scene: 200 },
  quiet_hours: { from: '00:00', to: '08:00', mode: 'defer' },
  send_rate_per_second: 30,
  merchant_daily: { amount: 1_000_000 },
  follower_daily: { count: 10, amount: 1000 },
} as const;

const quietHoursSchema = z
  .object({
    from: clockTime.default(0),
    to: clockTime.default(8 * 60),
    mode: z.enum(['defer', 'refuse']).default('defer'),
  })
  .strict();

/** Without `scene_id` WeChat Pay pays at most 200.00 yuan per packet. */
const NO_SCENE_MAX_FEN = 20_000;
/** The most a merchant can have the per-packet maximum raised to (with `scene_id`): 4999.00 yuan. */
const SCENE_MAX_FEN = 499_900;

/** The whole `limits.yaml`. An empty file means every default. */
export const limitsFileSchema = z.preprocess(
  (v) => (v === null || v === undefined ? {} : v),
  z
    .object({
      amount: z
        .object({
          min: yuan.default(100),
          max: yuan.default(20000),
          min_with_scene: yuan.default(100),
          max_with_scene: yuan.default(20000),
        })
        .strict()
        .default({ min: 100, max: 20000, min_with_scene: 100, max_with_scene: 20000 }),
      quiet_hours: z.preprocess((v) => (v === false || v === 'off' ? null : v), quietHoursSchema.nullable()).default({ from: 0, to: 8 * 60, mode: 'defer' as const }),
      /**
       * Red-packet sends per second, shared by every worker. WeChat Pay's current rule
       * (pay.weixin.qq.com/doc/v2/merchant/4011974053, 发放规则, updated 2025-08-22): "发送频率限制
       * ------默认30/秒"; older documents said 1,800 per minute — the same rate.
       */
      send_rate_per_second: z.number().int().min(1).max(10_000).default(30),
      /** Optional second cap, per wall-clock minute (e.g. 50 for a merchant held to 50 a minute). */
      send_rate_per_minute: z.number().int().min(1).max(600_000).nullable().default(null),
      /**
       * Optional cap on the merchant's red packets SENT per Beijing day, counted in the shared store
       * across every worker; a packet over it waits for the next day (never dropped). WeChat Pay
       * publishes no daily count (its daily caps are 1,000,000 yuan per merchant and 10 packets /
       * 1,000 yuan per user), so it is unset by default; set it to what the merchant platform shows
       * (e.g. 10000). Unlike `merchant_daily.count`, which refuses the grant when it is recorded.
       */
      send_rate_per_day: z.number().int().min(1).max(100_000_000).nullable().default(null),
      merchant_daily: z
        .object({ count: z.number().int().min(1).nullable().default(null), amount: yuan.default(100_000_000) })
        .strict()
        .default({ count: null, amount: 100_000_000 }),
      follower_daily: z
        .object({ count: z.number().int().min(1).default(10), amount: yuan.default(100_000) })
        .strict()
        .default({ count: 10, amount: 100_000 }),
    })
    .strict()
    .superRefine((l, ctx) => {
      if (l.amount.min > l.amount.max) ctx.addIssue({ code: 'custom', path: ['amount', 'min'], message: 'min is above max' });
      if (l.amount.min_with_scene > l.amount.max_with_scene)
        ctx.addIssue({ code: 'custom', path: ['amount', 'min_with_scene'], message: 'min_with_scene is above max_with_scene' });
      if (l.amount.min < 1) ctx.addIssue({ code: 'custom', path: ['amount', 'min'], message: 'must be at least 0.01' });
      if (l.amount.min_with_scene < 1) ctx.addIssue({ code: 'custom', path: ['amount', 'min_with_scene'], message: 'must be at least 0.01' });
      if (l.amount.max > NO_SCENE_MAX_FEN)
        ctx.addIssue({
          code: 'custom',
          path: ['amount', 'max'],
          message: `must be at most ${fenToYuan(NO_SCENE_MAX_FEN)}: WeChat Pay needs scene_id above that (use max_with_scene)`,
        });
      if (l.amount.max_with_scene > SCENE_MAX_FEN)
        ctx.addIssue({
          code: 'custom',
          path: ['amount', 'max_with_scene'],
          message: `must be at most ${fenToYuan(SCENE_MAX_FEN)} (the most WeChat Pay raises a packet to, even with scene_id)`,
        });
    })
    .transform((l) => ({
      amount: {
        minFen: l.amount.min,
        maxFen: l.amount.max,
        minWithSceneFen: l.amount.min_with_scene,
        maxAmountWithSceneFen: l.amount.max_with_scene,
      },
      quietHours: l.quiet_hours === null ? null : { fromMinute: l.quiet_hours.from, toMinute: l.quiet_hours.to, mode: l.quiet_hours.mode },
      sendRatePerSecond: l.send_rate_per_second,
      sendRatePerMinute: l.send_rate_per_minute,
      sendRatePerDay: l.send_rate_per_day,
      merchantDaily: { count: l.merchant_daily.count, amountFen: l.merchant_daily.amount },
      followerDaily: { count: l.follower_daily.count, amountFen: l.follower_daily.amount },
    })),
);

/** Parsed `limits.yaml`: amounts in fen, times in minutes after midnight (Beijing time). */
export type Limits = z.output<typeof limitsFileSchema>;

/** The limits when `limits.yaml` is absent or empty. */
export function defaultLimits(): Limits {
  return limitsFileSchema.parse({});
}

// === campaigns.yaml

const SCENE_IDS = ['PRODUCT_1', 'PRODUCT_2', 'PRODUCT_3', 'PRODUCT_4', 'PRODUCT_5', 'PRODUCT_6', 'PRODUCT_7', 'PRODUCT_8'] as const;

/** The follower-facing reply texts a rule may use per outcome (all optional). */
const repliesSchema = z
  .object({
    granted: z.string().min(1).optional(),
    deferred: z.string().min(1).optional(),
    already_claimed: z.string().min(1).optional(),
    limit_reached: z.string().min(1).optional(),
    outside_hours: z.string().min(1).optional(),
    campaign_over: z.string().min(1).optional(),
    failed: z.string().min(1).optional(),
    /** Sent through the customer-service API when a grant finally fails (notify_on_failure). */
    failure_notice: z.string().min(1).optional(),
  })
  .strict()
  .default({});

/** `risk_info` pairs (posttime, mobile, deviceid, clientversion); the pay client url-encodes them. */
const riskInfoSchema = z
  .record(z.string().regex(/^[a-z_]+$/), z.union([z.string(), z.number()]))
  .transform((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, String(v)])));

const windowSchema = z
  .object({ from: isoDate.optional(), to: isoDate.optional(), hours: dailySpan.optional() })
  .strict()
  .refine((w) => !w.from || !w.to || w.from <= w.to, { message: 'window.from is after window.to' });

/** A fixed amount in yuan, or `{ min, max }` in yuan → `{ min, max }` in fen. */
const amountSchema = z.unknown().transform((v, ctx): { min: number; max: number } => {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const extra = Object.keys(o).filter((k) => k !== 'min' && k !== 'max');
    const min = yuanToFen(o.min);
    const max = yuanToFen(o.max);
    if (extra.length > 0) ctx.addIssue({ code: 'custom', message: `unknown key(s) ${extra.join(', ')} (use { min, max })` });
    if (min === undefined) ctx.addIssue({ code: 'custom', path: ['min'], message: `"${String(o.min)}" is not an amount in yuan with at most 2 decimals` });
    if (max === undefined) ctx.addIssue({ code: 'custom', path: ['max'], message: `"${String(o.max)}" is not an amount in yuan with at most 2 decimals` });
    if (min === undefined || max === undefined || extra.length > 0) return z.NEVER;
    return { min, max };
  }
  const fen = yuanToFen(v);
  if (fen === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${String(v)}" is not an amount in yuan with at most 2 decimals (e.g. 1.88) nor { min, max }` });
    return z.NEVER;
  }
  return { min: fen, max: fen };
});

/**
 * People in one fission group, the sharer included: what `sendgroupredpack` accepts (the sandbox Pay
 * server refuses the same with PARAM_ERROR, src/sandbox/pay-validate.ts). The minimum 3 is WeChat's
 * published rule; the maximum 20 is the commonly documented one (wechat-protocol.md §6.3).
 */
export const FISSION_TOTAL_NUM = { min: 3, max: 20 } as const;

const RED_PACKET_HARD_MAX_FEN = 20_000_000; // no WeChat scene goes near 200,000 yuan: catches typos

/** One cash red-packet campaign (`kind: red_packet`). */
export const redPacketCampaignSchema = z
  .object({
    kind: z.literal('red_packet'),
    type: z.enum(['normal', 'fission']).default('normal'),
    /** Fixed yuan, or `{ min, max }` picked at random (in fen) when the grant is recorded. */
    amount: amountSchema,
    total_num: z.number().int().min(1).max(100).optional(),
    send_name: z.string().min(1).max(32),
    wishing: z.string().min(1).max(128),
    act_name: z.string().min(1).max(32),
    remark: z.string().min(1).max(256),
    scene_id: z.enum(SCENE_IDS).optional(),
    risk_info: riskInfoSchema.optional(),
    /** Total budget in yuan. */
    budget: yuan,
    max_packets: z.number().int().min(1),
    /** Packets per follower for the whole campaign (1 = once per follower). */
    per_user: z.number().int().min(1).default(1),
    window: windowSchema.optional(),
    /** What to do with a grant during quiet hours; default: the mode in limits.yaml. */
    quiet_hours: z.enum(['defer', 'refuse']).optional(),
    restore_budget_on_refund: z.boolean().default(false),
    notify_on_failure: z.boolean().default(false),
    /** Service-provider mode: this campaign pays from a sub-merchant. */
    service_provider: z
      .object({
        sub_mch_id: z.string().regex(/^\d{1,32}$/),
        msgappid: z.string().regex(/^wx[0-9a-zA-Z]{14,18}$/),
        consume_mch_id: z
          .string()
          .regex(/^\d{1,32}$/)
          .optional(),
      })
      .strict()
      .optional(),
    /** The official account appid bound to the merchant (default: WECHAT_APPID). */
    wxappid: z
      .string()
      .regex(/^wx[0-9a-zA-Z]{14,18}$/)
      .optional(),
    /** false: the campaign is switched off (grants answer `campaign_over`). */
    enabled: z.boolean().default(true),
    /** true: grant only for messages that arrived encrypted (safe or compatible mode); plain ones are refused. */
    require_safe_mode: z.boolean().default(false),
    replies: repliesSchema,
  })
  .strict()
  .superRefine((c, ctx) => {
    const range = c.amount;
    const fission = c.type === 'fission';
    const totalNum = c.total_num ?? (fission ? 3 : 1);
    if (range.min > range.max) ctx.addIssue({ code: 'custom', path: ['amount', 'min'], message: 'min is above max' });
    if (fission && (totalNum < FISSION_TOTAL_NUM.min || totalNum > FISSION_TOTAL_NUM.max))
      ctx.addIssue({
        code: 'custom',
        path: ['total_num'],
        message: `a fission red packet (sendgroupredpack) takes total_num ${FISSION_TOTAL_NUM.min}–${FISSION_TOTAL_NUM.max} (the sharer included), not ${totalNum}`,
      });
    if (!fission && totalNum !== 1) ctx.addIssue({ code: 'custom', path: ['total_num'], message: 'a normal red packet has total_num 1' });
    // WeChat Pay's service-provider red packets (服务商模式, sub_mch_id) are normal packets only: there is
    // no service-provider sendgroupredpack, so such a campaign would pause at its first send.
    if (fission && c.service_provider)
      ctx.addIssue({
        code: 'custom',
        path: ['service_provider'],
        message: 'service-provider mode (sub_mch_id) sends normal red packets only: use type: normal, or drop service_provider',
      });
    // Per-packet amount (for fission: the group total divided by the people in it).
    const perMin = range.min / totalNum;
    const perMax = range.max / totalNum;
    if (c.scene_id === undefined && (perMin < 100 || perMax > 20000))
      ctx.addIssue({
        code: 'custom',
        path: ['amount'],
        message: `${fission ? 'each packet of the group' : 'the amount'} must be within 1.00–200.00 yuan unless scene_id is set`,
      });
    if (range.min < 1 || range.max > RED_PACKET_HARD_MAX_FEN)
      ctx.addIssue({ code: 'custom', path: ['amount'], message: 'the amount must be within 0.01–200000.00 yuan' });
    if (c.budget < range.max) ctx.addIssue({ code: 'custom', path: ['budget'], message: 'the budget is smaller than one packet' });
  })
  .transform((c) => {
    const range = c.amount;
    const sp = c.service_provider;
    return {
      kind: 'red_packet' as const,
      type: c.type,
      amount: { minFen: range.min, maxFen: range.max, random: range.min !== range.max },
      totalNum: c.total_num ?? (c.type === 'fission' ? 3 : 1),
      sendName: c.send_name,
      wishing: c.wishing,
      actName: c.act_name,
      remark: c.remark,
      sceneId: c.scene_id,
      riskInfo: c.risk_info,
      budgetFen: c.budget,
      maxPackets: c.max_packets,
      perUser: c.per_user,
      window: c.window ? { from: c.window.from, to: c.window.to, hours: c.window.hours } : undefined,
      quietHours: c.quiet_hours,
      restoreBudgetOnRefund: c.restore_budget_on_refund,
      notifyOnFailure: c.notify_on_failure,
      serviceProvider: sp ? { subMchId: sp.sub_mch_id, msgAppId: sp.msgappid, consumeMchId: sp.consume_mch_id } : undefined,
      wxAppId: c.wxappid,
      enabled: c.enabled,
      requireSafeMode: c.require_safe_mode,
      replies: c.replies,
    };
  });

/** A parsed red-packet campaign (amounts in fen). The `name` is the key in `campaigns:`. */
export type RedPacketCampaign = z.output<typeof redPacketCampaignSchema> & { name: string };

/** What every campaign of `campaigns.yaml` has, whatever its kind (the key in `campaigns:` is `name`). */
export interface KindCampaign {
  kind: string;
  name: string;
  enabled: boolean;
  requireSafeMode: boolean;
  replies: Readonly<Record<string, string | undefined>>;
}

/**
 * A parsed campaign of any kind, with its name. Code that handles one kind narrows with its guard
 * ({@link isRedPacketCampaign}, `isCardCampaign` in src/cards).
 */
export type Campaign = KindCampaign;

/** True for a red-packet campaign. */
export function isRedPacketCampaign(c: Campaign | undefined): c is RedPacketCampaign {
  return c?.kind === 'red_packet';
}

/** The campaign schemas of the registered kinds (each keyed by `kind: z.literal(…)`). */
export type CampaignSchemas = readonly [z.core.$ZodTypeDiscriminable, ...z.core.$ZodTypeDiscriminable[]];

/**
 * The whole `campaigns.yaml` for the given kinds' campaign schemas (a union on `kind`, in that order).
 * An empty file means no campaigns. The app's list is `campaignsFileSchema` in config/reward-kinds.ts.
 *
 * @example campaignsFileSchemaFor([redPacketCampaignSchema, cardCampaignSchema]).parse(YAML.parse(text))
 */
export function campaignsFileSchemaFor(schemas: CampaignSchemas) {
  return namedEntriesFile('campaigns', z.discriminatedUnion('kind', schemas), 'campaign', (name, c) => ({ ...(c as object), name }) as Campaign);
}

/** `campaigns.yaml` with red-packet campaigns only (the rewards module alone; the app adds its kinds). */
export const campaignsFileSchema = campaignsFileSchemaFor([redPacketCampaignSchema]);

/** Parsed `campaigns.yaml`. */
export type CampaignsFile = z.output<typeof campaignsFileSchema>;

// === Cross-file checks

/** One problem found by a cross-file check, with a path like the schema's. */
export interface RewardsConfigIssue {
  path: (string | number)[];
  message: string;
}

/**
 * Checks every red-packet campaign's amount against the configured limits: within `amount.min–max`,
 * or, when the campaign has a `scene_id`, within `amount.min_with_scene–max_with_scene`.
 *
 * @example checkCampaignsAgainstLimits(campaigns, limits) // → [] when all fit
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function checkCampaignsAgainstLimits(campaigns: Record<string, Campaign>, limits: Limits): RewardsConfigIssue[] {
  const issues: RewardsConfigIssue[] = [];
  for (const [name, c] of Object.entries(campaigns)) {
    if (!isRedPacketCampaign(c)) continue;
    const { min, max } = amountRangeFor(c, limits);
    const perMin = Math.ceil(c.amount.minFen / c.totalNum);
    const perMax = Math.floor(c.amount.maxFen / c.totalNum);
    if (perMin < min || perMax > max)
      issues.push({
        path: ['campaigns', name, 'amount'],
        message: `must be within ${fenToYuan(min)}–${fenToYuan(max)} yuan per packet${c.sceneId ? ` (scene_id ${c.sceneId}, limits.amount.*_with_scene)` : ' (limits.amount; set scene_id for more)'}`,
      });
  }
  return issues;
}

/** The allowed per-packet amount range (fen) for a campaign under the limits. */
export function amountRangeFor(c: { sceneId?: string }, limits: Limits): { min: number; max: number } {
  return c.sceneId ? { min: limits.amount.minWithSceneFen, max: limits.amount.maxAmountWithSceneFen } : { min: limits.amount.minFen, max: limits.amount.maxFen };
}

/**
 * Both files together, cross-checked, for the given kinds' campaign schemas: what the rewards module runs on.
 *
 * @example rewardsConfigSchemaFor([redPacketCampaignSchema]).parse({ campaigns, limits })
 */
export function rewardsConfigSchemaFor(schemas: CampaignSchemas) {
  return z.object({ campaigns: campaignsFileSchemaFor(schemas), limits: limitsFileSchema }).transform((c, ctx) => {
    for (const issue of checkCampaignsAgainstLimits(c.campaigns.campaigns, c.limits))
      ctx.addIssue({ code: 'custom', path: ['campaigns', ...issue.path], message: issue.message });
    return { campaigns: c.campaigns.campaigns, limits: c.limits };
  });
}

/** Both files, red-packet campaigns only (see {@link rewardsConfigSchemaFor}). */
export const rewardsConfigSchema = rewardsConfigSchemaFor([redPacketCampaignSchema]);

/** What `createRewards` reads on every grant: the current campaigns and limits. */
export type RewardsConfig = z.output<typeof rewardsConfigSchema>;
