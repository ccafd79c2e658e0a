/**
 * Schema of `config/spend.yaml`: spend-and-get (满额送) rules that map paid orders to red-packet
 * campaigns. YAML in snake_case with amounts in yuan; the parsed value is camelCase with fen.
 *
 * ```yaml
 * rules:
 *   - id: spend-100                   # becomes the grant's rule id "spend:spend-100"
 *     campaign: spend-packet          # a red_packet campaign in campaigns.yaml (budget, per_user, texts)
 *     tiers:                          # the highest tier the order reaches applies
 *       - { min: 100.00, amount: 10.00 }
 *       - { min: 300.00, amount: 30.00 }
 *     window: { from: 2026-01-01, to: 2026-12-31 }   # Beijing dates of the payment, inclusive
 *     attach: { prefix: "promo:" }    # optional: equals | prefix | regex on the order's attach
 *     product_tags: [ "drinks" ]      # optional: the order must carry one of them
 * ```
 *
 * Cross-checks against campaigns and limits are in {@link checkSpendRules} (run by `loadConfig`).
 *
 * @example const { rules } = spendFileSchema.parse(YAML.parse(text));
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import { z } from 'zod';
import { linearRegexProblem } from '../lib/linear-regex';
import { fenToYuan } from '../lib/money';
import { NAME_PATTERN, yuanAmount } from '../lib/schema-helpers';
import { amountRangeFor, isRedPacketCampaign, type Campaign, type Limits } from '../rewards/config-schema';

const yuan = yuanAmount('100.00');

const isoDate = z.union([z.string(), z.date()]).transform((v, ctx) => {
  const s = v instanceof Date ? v.toISOString().slice(0, 10) : v.trim();
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!d || +d[2] < 1 || +d[2] > 12 || +d[3] < 1 || +d[3] > 31) {
    ctx.addIssue({ code: 'custom', message: `"${String(v)}" is not a date YYYY-MM-DD (Beijing time)` });
    return z.NEVER;
  }
  return s;
});

const attachFilter = z
  .union([
    z.string().transform((equals): { equals?: string; prefix?: string; regex?: string } => ({ equals })),
    z.object({ equals: z.string().optional(), prefix: z.string().min(1).optional(), regex: z.string().min(1).max(200).optional() }).strict(),
  ])
  .superRefine((a, ctx) => {
    const set = [a.equals, a.prefix, a.regex].filter((x) => x !== undefined).length;
    if (set !== 1) ctx.addIssue({ code: 'custom', message: 'give exactly one of equals, prefix, regex' });
    const problem = a.regex === undefined ? undefined : linearRegexProblem(a.regex, 'u');
    if (problem) ctx.addIssue({ code: 'custom', path: ['regex'], message: problem });
  });

const ruleSchema = z
  .object({
    id: z.string().regex(NAME_PATTERN, 'must be letters, digits, "-", "_", "." (at most 64)'),
    campaign: z.string().min(1),
    tiers: z.array(z.object({ min: yuan, amount: yuan }).strict()).min(1, 'at least one tier is required'),
    window: z
      .object({ from: isoDate.optional(), to: isoDate.optional() })
      .strict()
      .refine((w) => !w.from || !w.to || w.from <= w.to, { message: 'window.from is after window.to' })
      .optional(),
    attach: attachFilter.optional(),
    product_tags: z
      .union([
        z
          .string()
          .min(1)
          .transform((s) => [s]),
        z.array(z.string().min(1)).min(1),
      ])
      .optional(),
    enabled: z.boolean().default(true),
  })
  .strict()
  .superRefine((r, ctx) => {
    const mins = r.tiers.map((t) => t.min);
    mins.forEach((m, i) => {
      if (m <= 0) ctx.addIssue({ code: 'custom', path: ['tiers', i, 'min'], message: 'must be above 0' });
      if (mins.indexOf(m) !== i) ctx.addIssue({ code: 'custom', path: ['tiers', i, 'min'], message: `tier ${fenToYuan(m)} is listed twice` });
      if (r.tiers[i].amount <= 0) ctx.addIssue({ code: 'custom', path: ['tiers', i, 'amount'], message: 'must be above 0' });
    });
  })
  .transform((r) => ({
    id: r.id,
    /** The grant's `ruleId` in the ledger: `spend:<id>`. */
    ruleId: `spend:${r.id}`,
    campaign: r.campaign,
    /** Highest threshold first. */
    tiers: [...r.tiers].sort((a, b) => b.min - a.min).map((t) => ({ minFen: t.min, amountFen: t.amount })),
    window: r.window ? { from: r.window.from, to: r.window.to } : undefined,
    attach: r.attach ? { equals: r.attach.equals, prefix: r.attach.prefix, regex: r.attach.regex } : undefined,
    productTags: r.product_tags,
    enabled: r.enabled,
  }));

/** One parsed spend rule (fen; tiers sorted highest threshold first). */
export type SpendRule = z.output<typeof ruleSchema>;

/** The whole `spend.yaml`. An empty or absent file means no spend rules. */
export const spendFileSchema = z.preprocess(
  (v) => (v === null || v === undefined ? { rules: [] } : v),
  z
    .object({ rules: z.preprocess((v) => v ?? [], z.array(ruleSchema)) })
    .strict()
    .superRefine((f, ctx) => {
      const seen = new Set<string>();
      f.rules.forEach((r, i) => {
        if (seen.has(r.id)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'id'], message: `"${r.id}" is used by an earlier rule` });
        seen.add(r.id);
      });
    }),
);

/** Parsed `spend.yaml`. */
export type SpendConfig = z.output<typeof spendFileSchema>;

/**
 * Cross-checks spend rules against the campaigns and limits: the campaign exists and is a red-packet
 * campaign, and each tier's amount is a packet the campaign can pay (within the limits' per-packet
 * range and its budget).
 *
 * @example checkSpendRules(spend, campaigns, limits) // → [] when all fit
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function checkSpendRules(
  spend: SpendConfig,
  campaigns: Readonly<Record<string, Campaign>>,
  limits: Limits | undefined,
): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  spend.rules.forEach((r, i) => {
    const c = Object.prototype.hasOwnProperty.call(campaigns, r.campaign) ? campaigns[r.campaign] : undefined;
    if (!c) {
      const names = Object.keys(campaigns);
      issues.push({
        path: ['rules', i, 'campaign'],
        message: `campaign "${r.campaign}" is not defined in campaigns.yaml (${names.length ? `defined: ${names.join(', ')}` : 'no campaigns are defined'})`,
      });
      return;
    }
    if (!isRedPacketCampaign(c)) {
      issues.push({ path: ['rules', i, 'campaign'], message: `campaign "${r.campaign}" is a ${c.kind} campaign; spend rules grant red packets` });
      return;
    }
    if (c.type !== 'normal')
      issues.push({ path: ['rules', i, 'campaign'], message: `campaign "${r.campaign}" is a ${c.type} red packet; spend rules need a normal one` });
    r.tiers.forEach((t) => {
      const at = ['rules', i, 'tiers'];
      if (limits) {
        const range = amountRangeFor(c, limits);
        if (t.amountFen < range.min || t.amountFen > range.max)
          issues.push({
            path: at,
            message: `tier ${fenToYuan(t.minFen)}: amount ${fenToYuan(t.amountFen)} must be within ${fenToYuan(range.min)}–${fenToYuan(range.max)} yuan (limits.yaml amount${c.sceneId ? '.*_with_scene' : '; set scene_id on the campaign for more'})`,
          });
      }
      if (t.amountFen > c.budgetFen)
        issues.push({ path: at, message: `tier ${fenToYuan(t.minFen)}: amount ${fenToYuan(t.amountFen)} is above the campaign's budget ${fenToYuan(c.budgetFen)}` });
    });
  });
  return issues;
}
