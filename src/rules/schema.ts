/**
 * The schema of `config/rules.yaml`: an ordered list of rules, each `match` + `actions` (+ `continue`,
 * `window`), plus the top-level `default` (user messages nothing matched) and `welcome` (follows
 * nothing matched). Parsing normalises the operator's shorthands (`reply: "hi"`, `content: "hi"`,
 * one value or a list) into one shape, so the compiler sees only that.
 *
 * @example const r = rulesFileSchema.safeParse(yamlData, { error: configErrorMap });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
 */
import { z } from 'zod';
import type { ShanghaiDateTime } from '../lib/clock';
import { EVENT_NAMES, MSG_TYPES, type EventName, type MsgType } from '../wechat/inbound';
import { MAX_NEWS_ARTICLES, type NewsArticle } from '../reply/reply';
import { forward, keyedUnion, NAME_PATTERN, oneOrMany, regexString, strictObject } from '../lib/schema-helpers';
import { GRANT_REPLY_KEYS, type Action, type GrantReplyKey, type ReplySpec } from './actions';

// === Names

function name(what: string) {
  return z.string().regex(NAME_PATTERN, { error: (iss) => `${JSON.stringify(iss.input)} is not a valid ${what} (letters, digits, "_", "-", "." — up to 64)` });
}

const nonEmpty = z.string().min(1);

// === Reply specs

const article = strictObject({
  title: nonEmpty,
  description: z.string().optional(),
  url: z.string().optional(),
  picUrl: z.string().optional(),
});

const varValue = z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v));

/**
 * A reply as written in YAML: a string (text), or a mapping with one of `text`, `template` (+ `vars`),
 * `random`, `image`, `voice`, `video`, `music`, `news`, `none`.
 *
 * @example replySpecSchema.parse({ template: 'help', vars: { shop: 'Nanjing Road' } })
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
export const replySpecSchema: z.ZodType<ReplySpec> = z.lazy(() =>
  keyedUnion<ReplySpec>(
    'reply',
    {
      text: (v, ctx) =>
        forward(
          strictObject({ text: z.string() }).transform((o): ReplySpec => ({ kind: 'text', text: o.text })),
          v,
          ctx,
        ),
      template: (v, ctx) =>
        forward(
          strictObject({ template: name('template name'), vars: z.record(z.string(), varValue).optional() }).transform((o): ReplySpec => ({
            kind: 'template',
            template: o.template,
            ...(o.vars ? { vars: o.vars } : {}),
          })),
          v,
          ctx,
        ),
      random: (v, ctx) =>
        forward(
          strictObject({ random: z.array(replySpecSchema).min(1) }).transform((o): ReplySpec => ({ kind: 'random', random: o.random })),
          v,
          ctx,
        ),
      image: (v, ctx) =>
        forward(
          strictObject({ image: nonEmpty }).transform((o): ReplySpec => ({ kind: 'image', mediaId: o.image })),
          v,
          ctx,
        ),
      voice: (v, ctx) =>
        forward(
          strictObject({ voice: nonEmpty }).transform((o): ReplySpec => ({ kind: 'voice', mediaId: o.voice })),
          v,
          ctx,
        ),
      video: (v, ctx) =>
        forward(
          strictObject({
            video: strictObject({ mediaId: nonEmpty, title: z.string().optional(), description: z.string().optional() }),
          }).transform((o): ReplySpec => ({ kind: 'video', ...o.video })),
          v,
          ctx,
        ),
      music: (v, ctx) =>
        forward(
          strictObject({
            music: strictObject({
              thumbMediaId: nonEmpty,
              title: z.string().optional(),
              description: z.string().optional(),
              musicUrl: z.string().optional(),
              hqMusicUrl: z.string().optional(),
            }),
          }).transform((o): ReplySpec => ({ kind: 'music', ...o.music })),
          v,
          ctx,
        ),
      news: (v, ctx) =>
        forward(
          strictObject({
            news: oneOrMany(article).superRefine((list, c) => {
              if (list.length > MAX_NEWS_ARTICLES)
                c.addIssue({
                  code: 'custom',
                  message: `has ${list.length} articles; WeChat shows at most ${MAX_NEWS_ARTICLES} in a passive reply`,
                });
            }),
          }).transform((o): ReplySpec => ({ kind: 'news', articles: o.news as NewsArticle[] })),
          v,
          ctx,
        ),
      none: (v, ctx) =>
        forward(
          strictObject({ none: z.literal(true) }).transform((): ReplySpec => ({ kind: 'none' })),
          v,
          ctx,
        ),
    },
    (text) => ({ kind: 'text', text }),
  ),
);

// === Actions

const grantReplies = strictObject(
  Object.fromEntries(GRANT_REPLY_KEYS.map((o) => [o, replySpecSchema.optional()])) as Record<GrantReplyKey, z.ZodOptional<z.ZodType<ReplySpec>>>,
);

/**
 * One action as written in YAML: `{ reply: … }`, `{ grant: CAMPAIGN, replies: { granted: …, … } }`,
 * or `{ transfer_customer_service: true | { kfAccount: "kf2001@gh_…" } }`.
 *
 * @example actionSchema.parse({ grant: 'welcome-packet' })
 * @see https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Forwarding_of_messages_to_service_center.html
 */
export const actionSchema: z.ZodType<Action> = keyedUnion<Action>('action', {
  reply: (v, ctx) =>
    forward(
      strictObject({ reply: replySpecSchema }).transform((o): Action => ({ type: 'reply', reply: o.reply })),
      v,
      ctx,
    ),
  grant: (v, ctx) =>
    forward(
      strictObject({ grant: name('campaign name'), replies: grantReplies.optional() }).transform((o): Action => ({
        type: 'grant',
        campaign: o.grant,
        replies: Object.fromEntries(Object.entries(o.replies ?? {}).filter(([, r]) => r !== undefined)) as Partial<Record<GrantReplyKey, ReplySpec>>,
      })),
      v,
      ctx,
    ),
  transfer_customer_service: (v, ctx) =>
    forward(
      strictObject({
        transfer_customer_service: z.union([z.literal(true), strictObject({ kfAccount: nonEmpty })], {
          error: (iss) => (iss.code === 'invalid_union' ? 'expected true, or a mapping { kfAccount: "kf2001@gh_…" }' : undefined),
        }),
      }).transform((o): Action =>
        o.transfer_customer_service === true
          ? { type: 'transfer_customer_service' }
          : { type: 'transfer_customer_service', kfAccount: o.transfer_customer_service.kfAccount },
      ),
      v,
      ctx,
    ),
});

// === Match

/** What `content:` compiles from: exactly one matcher plus `ignoreCase`. */
export interface ContentMatch {
  equals?: string[];
  contains?: string[];
  prefix?: string[];
  regex?: string;
  keywords?: string[];
  ignoreCase?: boolean;
}

const CONTENT_MATCHERS = ['equals', 'contains', 'prefix', 'regex', 'keywords'] as const;

const contentObject = strictObject({
  equals: oneOrMany(nonEmpty).optional(),
  contains: oneOrMany(nonEmpty).optional(),
  prefix: oneOrMany(nonEmpty).optional(),
  regex: regexString().optional(),
  keywords: z.array(nonEmpty).min(1).optional(),
  ignoreCase: z.boolean().optional(),
}).superRefine((o, ctx) => {
  const present = CONTENT_MATCHERS.filter((k) => o[k] !== undefined);
  if (present.length !== 1)
    ctx.addIssue({
      code: 'custom',
      message:
        present.length === 0
          ? `needs exactly one of ${CONTENT_MATCHERS.join(', ')}`
          : `has several matchers (${present.join(', ')}); use one per rule, or split the rule`,
    });
});

const contentSchema = z.unknown().transform((v, ctx): ContentMatch => {
  if (typeof v === 'string') {
    if (v.trim() === '') {
      ctx.addIssue({ code: 'custom', message: 'must not be empty' });
      return z.NEVER;
    }
    return { equals: [v] };
  }
  return forward(contentObject, v, ctx) as ContentMatch;
});

const msgTypeNames = Object.keys(MSG_TYPES) as [MsgType, ...MsgType[]];
const eventNames = Object.keys(EVENT_NAMES) as [EventName, ...EventName[]];

/**
 * The `match:` block. Every given condition must hold (AND); list values match any element (OR).
 *
 * @example matchSchema.parse({ event: 'CLICK', eventKey: 'MENU_HELP' })
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
 */
export const matchSchema = strictObject({
  msgType: oneOrMany(z.enum(msgTypeNames)).optional(),
  event: oneOrMany(z.enum(eventNames)).optional(),
  eventKey: oneOrMany(nonEmpty).optional(),
  eventKeyRegex: regexString().optional(),
  content: contentSchema.optional(),
  scene: oneOrMany(z.union([nonEmpty, z.number().transform(String)])).optional(),
  sceneRegex: regexString().optional(),
  hasScene: z.boolean().optional(),
  cardId: oneOrMany(nonEmpty).optional(),
});

export type MatchSpec = z.output<typeof matchSchema>;

// === Window

const WEEKDAY_NAMES: Record<string, number> = { mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6, sun: 7 };

const weekday = z.union([z.number(), z.string()]).transform((v, ctx): number => {
  const n = typeof v === 'number' ? v : WEEKDAY_NAMES[v.toLowerCase().slice(0, 3)];
  if (!Number.isInteger(n) || n < 1 || n > 7) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is not a weekday (1 = Monday … 7 = Sunday, or mon, tue, wed, thu, fri, sat, sun)` });
    return z.NEVER;
  }
  return n;
});

const HOURS_RE = /^([01]\d|2[0-3]):([0-5]\d)\s*-\s*([01]\d|2[0-3]|24):([0-5]\d)$/;

/** A time-of-day range in minutes since midnight, `[start, end)`; `end <= start` wraps past midnight. */
export interface HoursRange {
  start: number;
  end: number;
}

const hoursRange = z.string().transform((s, ctx): HoursRange => {
  const m = HOURS_RE.exec(s.trim());
  const end = m ? Number(m[3]) * 60 + Number(m[4]) : NaN;
  if (!m || end > 24 * 60) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(s)} is not a range of hours like "09:00-18:00" (24-hour clock, Beijing time)` });
    return z.NEVER;
  }
  return { start: Number(m[1]) * 60 + Number(m[2]), end };
});

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/;

/** A window bound: wall-clock parts in Asia/Shanghai; `dateOnly` when no time was given. */
export interface DateBound extends ShanghaiDateTime {
  dateOnly: boolean;
}

const dateBound = z.union([z.string(), z.date()]).transform((v, ctx): DateBound => {
  const s = v instanceof Date ? v.toISOString().slice(0, 10) : v.trim();
  const m = DATE_RE.exec(s);
  const parts = m ? { year: +m[1], month: +m[2], day: +m[3], hour: m[4] ? +m[4] : 0, minute: m[5] ? +m[5] : 0, second: m[6] ? +m[6] : 0, dateOnly: !m[4] } : undefined;
  const valid =
    parts &&
    parts.month >= 1 &&
    parts.month <= 12 &&
    parts.day >= 1 &&
    parts.day <= new Date(Date.UTC(parts.year, parts.month, 0)).getUTCDate() &&
    parts.hour <= 23 &&
    parts.minute <= 59 &&
    parts.second <= 59;
  if (!valid) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(s)} is not a date like "2026-02-01" or "2026-02-01 09:30" (Beijing time)` });
    return z.NEVER;
  }
  return parts!;
});

/**
 * When a rule is active, in Asia/Shanghai time. `from` is inclusive; `to` is inclusive of the whole
 * day when it is a date, exclusive when it has a time. `hours` are `[start, end)`.
 *
 * @example windowSchema.parse({ from: '2026-02-01', to: '2026-02-07', weekdays: ['sat', 'sun'], hours: '09:00-18:00' })
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export const windowSchema = strictObject({
  from: dateBound.optional(),
  to: dateBound.optional(),
  weekdays: oneOrMany(weekday).optional(),
  hours: oneOrMany(hoursRange).optional(),
});

export type WindowSpec = z.output<typeof windowSchema>;

// === Rules file

/**
 * One rule: `id`, `match`, `actions`, optional `continue` (keep looking after this one) and `window`.
 *
 * @example ruleSchema.parse({ id: 'hello', match: { content: 'hello' }, actions: [{ reply: 'Hi!' }] })
 * @see https://github.com/Wechat-Group/WxJava/blob/develop/weixin-java-mp/src/main/java/me/chanjar/weixin/mp/api/WxMpMessageRouterRule.java
 */
export const ruleSchema = strictObject({
  id: name('rule id'),
  description: z.string().optional(),
  match: matchSchema.optional(),
  actions: z.array(actionSchema),
  continue: z.boolean().optional(),
  window: windowSchema.optional(),
});

export type RuleSpec = z.output<typeof ruleSchema>;

/**
 * The whole `rules.yaml`. An empty file is an empty rule set.
 *
 * @example rulesFileSchema.parse({ rules: [], default: [{ reply: 'Send "help"' }] })
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export const rulesFileSchema = z.preprocess(
  (v) => (v === null || v === undefined ? {} : v),
  strictObject({
    rules: z.array(ruleSchema).optional(),
    default: z.array(actionSchema).optional(),
    welcome: z.array(actionSchema).optional(),
  }).transform((o) => ({ rules: o.rules ?? [], default: o.default ?? [], welcome: o.welcome ?? [] })),
);

export type RulesFile = z.output<typeof rulesFileSchema>;
