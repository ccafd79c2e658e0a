/**
 * Which spend rule and tier a paid order earns. Pure (no I/O, time passed in), so tier boundaries and
 * filters are table-tested, and `rules explain --order` shows the same reasoning the bot applies.
 *
 * Rules are tried in file order; the first rule whose window and filters accept the order and whose
 * lowest tier the amount reaches decides, with its highest reached tier. One order earns at most one
 * packet.
 *
 * @example selectSpendTier(spend, { totalFen: 12000, attach: '', productTags: [] }, Date.now())
 * // → { decision: { ruleId: 'spend:spend-100', campaign: 'spend-packet', amountFen: 1000, tierMinFen: 10000 } }
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import { shanghaiParts } from '../lib/clock';
import { compileLinearRegex, type LinearRegex } from '../lib/linear-regex';
import { fenToYuan } from '../lib/money';
import type { SpendConfig, SpendRule } from './spend-schema';

/** What a paid order earns: fixed when the order is first recorded, reused on every re-send. */
export interface SpendDecision {
  ruleId: string;
  campaign: string;
  amountFen: number;
  /** The threshold of the tier that applied. */
  tierMinFen: number;
}

/** The parts of an order the rules look at. */
export interface SpendOrderFacts {
  totalFen: number;
  attach: string;
  productTags: readonly string[];
}

/** One rule's verdict on an order. */
export interface SpendRuleVerdict {
  rule: SpendRule;
  /** The tier that applies, when the rule accepts the order. */
  tier?: { minFen: number; amountFen: number };
  /** Why it does not apply. */
  reason?: string;
}

/**
 * Each loaded rule's `attach.regex` on the linear-time engine, compiled the first time an order meets
 * it (the schema already refused what that engine cannot run); a reloaded config brings new objects.
 */
const attachPatterns = new WeakMap<NonNullable<SpendRule['attach']>, LinearRegex>();

function attachPattern(a: NonNullable<SpendRule['attach']>, source: string): LinearRegex {
  let re = attachPatterns.get(a);
  if (!re) attachPatterns.set(a, (re = compileLinearRegex(source, 'u')));
  return re;
}

function attachMatches(rule: SpendRule, attach: string): boolean {
  const a = rule.attach;
  if (!a) return true;
  if (a.equals !== undefined) return attach === a.equals;
  if (a.prefix !== undefined) return attach.startsWith(a.prefix);
  if (a.regex !== undefined) return attachPattern(a, a.regex).test(attach);
  return true;
}

/**
 * Every rule's verdict on an order paid at `at` (epoch ms), in file order.
 *
 * @example explainSpendRules(spend, { totalFen: 9999, attach: '', productTags: [] }, now)[0].reason // 'below the lowest tier (100.00 yuan)'
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function explainSpendRules(spend: SpendConfig, order: SpendOrderFacts, at: number): SpendRuleVerdict[] {
  const day = shanghaiParts(at).isoDate;
  return spend.rules.map(function verdict(rule): SpendRuleVerdict {
    if (!rule.enabled) return { rule, reason: 'switched off (enabled: false)' };
    if (rule.window?.from && day < rule.window.from) return { rule, reason: `before its window (from ${rule.window.from})` };
    if (rule.window?.to && day > rule.window.to) return { rule, reason: `after its window (to ${rule.window.to})` };
    if (!attachMatches(rule, order.attach)) return { rule, reason: `attach ${JSON.stringify(order.attach)} does not match` };
    if (rule.productTags && !rule.productTags.some((t) => order.productTags.includes(t))) return { rule, reason: `no product tag of ${rule.productTags.join(', ')}` };
    const tier = rule.tiers.find((t) => order.totalFen >= t.minFen);
    if (!tier) return { rule, reason: `below the lowest tier (${fenToYuan(rule.tiers[rule.tiers.length - 1].minFen)} yuan)` };
    return { rule, tier };
  });
}

/**
 * The decision for an order: the first accepting rule's highest reached tier, or why none applies.
 *
 * @example selectSpendTier(spend, { totalFen: 10000, attach: '', productTags: [] }, now).decision?.amountFen // 1000
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function selectSpendTier(spend: SpendConfig, order: SpendOrderFacts, at: number): { decision?: SpendDecision; reason?: string } {
  if (spend.rules.length === 0) return { reason: 'no spend rules are configured' };
  const verdicts = explainSpendRules(spend, order, at);
  const hit = verdicts.find((v) => v.tier);
  if (hit?.tier) return { decision: { ruleId: hit.rule.ruleId, campaign: hit.rule.campaign, amountFen: hit.tier.amountFen, tierMinFen: hit.tier.minFen } };
  return { reason: verdicts.map((v) => `${v.rule.id}: ${v.reason}`).join('; ') };
}
