/**
 * The rule tester's engine: runs a checked form (`rule-test-input.ts`) through the same functions as
 * `wechat-bot rules explain` — `explainMessage` for a text, click or follow, `explainSpendRules` for a
 * paid order — and returns a view model: the rules that matched and why (file:line, conditions), the
 * reward a grant would ask for, and the reply as the follower would get it (its lines, and the
 * passive-reply XML rendered from the real views). Nothing is granted, sent or written.
 *
 * @example await runRuleTest({ kind: 'text', text: 'hello', outcome: 'granted' }, { config: holder.current(), renderer, now: clock.now() })
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
import type { BotConfig } from '../config/load-config';
import { menuKeys } from '../config/menu-schema';
import { fenToYuan } from '../lib/money';
import { describeReplyValue } from '../reply/describe-reply-value';
import type { ReplyRenderer } from '../reply/render-reply';
import { describeAction, describeMessage } from '../rules/describe-action';
import { explainMessage, type GrantPreview } from '../rules/explain-message';
import { explainSpendRules } from '../spend/select-spend-tier';
import { followerMessage, type FollowerInput } from '../wechat/follower-message';
import type { RuleTestInput } from './rule-test-input';

/** The follower the tester plays (never a real openid). */
export const TEST_OPENID = 'o-console-tester';
const TEST_ACCOUNT = 'gh_console00000';

export interface RuleTestMatch {
  ruleId: string;
  kind: 'rule' | 'default' | 'welcome';
  /** `config/rules.yaml:12` */
  where?: string;
  continues: boolean;
  conditions: readonly string[];
  captures?: string[];
  named?: Record<string, string>;
  actions: string[];
}

export interface RuleTestGrant {
  campaign: string;
  kind?: string;
  /** `1.88`, or a range `1.00–2.88` (the amount is picked when the grant is recorded). */
  amountYuan?: string;
  card?: string;
  outcome: string;
}

export interface SpendVerdictView {
  ruleId: string;
  /** `config/spend.yaml:3` */
  where?: string;
  campaign: string;
  state: 'applies' | 'shadowed' | 'no';
  reason?: string;
  tierMinYuan?: string;
  amountYuan?: string;
  /** `≥ 100.00 → 10.00`, lowest first. */
  tiers: string[];
}

export type RuleTestResult =
  | { kind: 'message'; message: string; matched: RuleTestMatch[]; grants: RuleTestGrant[]; reply: { lines: string[]; xml: string } }
  | { kind: 'order'; order: { amountYuan: string; attach: string; tags: string[] }; verdicts: SpendVerdictView[]; reward?: { campaign: string; amountYuan: string } };

export interface RuleTestDeps {
  config: BotConfig;
  renderer: ReplyRenderer;
  now: number;
  random?: () => number;
}

/**
 * The keys of the configured menu's `click` buttons (what the tester offers), with their names.
 *
 * @example clickKeysOf(holder.current()) // [{ key: 'MENU_TODAY', name: '今日推荐' }, …]
 */
export function clickKeysOf(config: Pick<BotConfig, 'files'>): { key: string; name: string }[] {
  const menu = config.files.menu as Parameters<typeof menuKeys>[0] | undefined;
  return menu
    ? menuKeys(menu)
        .filter((k) => k.type === 'click')
        .map(({ key, name }) => ({ key, name }))
    : [];
}

function amountOf(g: GrantPreview): string | undefined {
  if (g.minFen === undefined) return undefined;
  return g.maxFen === undefined || g.maxFen === g.minFen ? fenToYuan(g.minFen) : `${fenToYuan(g.minFen)}–${fenToYuan(g.maxFen)}`;
}

function whereOf(source: { file: string; line?: number } | undefined): { where?: string } {
  return source ? { where: `${source.file}${source.line ? `:${source.line}` : ''}` } : {};
}

function followerInputOf(input: Exclude<RuleTestInput, { kind: 'order' }>): FollowerInput {
  if (input.kind === 'text') return { kind: 'text', text: input.text };
  if (input.kind === 'click') return { kind: 'click', key: input.key };
  return input.scene ? { kind: 'follow', scene: input.scene } : { kind: 'follow' };
}

async function testMessage(input: Exclude<RuleTestInput, { kind: 'order' }>, deps: RuleTestDeps): Promise<RuleTestResult> {
  const message = followerMessage(followerInputOf(input), { openid: TEST_OPENID, to: TEST_ACCOUNT, nowMs: deps.now, msgId: '1' });
  const x = await explainMessage(message, deps.config, deps.now, { outcome: input.outcome, random: deps.random });
  const xml = deps.renderer.render(x.reply, { toUserName: TEST_OPENID, fromUserName: TEST_ACCOUNT, createTime: Math.floor(deps.now / 1000) });
  return {
    kind: 'message',
    message: describeMessage(message),
    matched: x.matched.map((m) => ({
      ruleId: m.ruleId,
      kind: m.kind,
      ...whereOf(m.source),
      continues: m.continues,
      conditions: m.conditions,
      ...(m.captures ? { captures: m.captures } : {}),
      ...(m.named ? { named: m.named } : {}),
      actions: m.actions.map(describeAction),
    })),
    grants: x.grants.map((g) => ({ campaign: g.campaign, kind: g.kind, amountYuan: amountOf(g), card: g.card, outcome: g.outcome })),
    reply: { lines: describeReplyValue(x.reply), xml },
  };
}

function testOrder(input: Extract<RuleTestInput, { kind: 'order' }>, deps: RuleTestDeps): RuleTestResult {
  const verdicts = explainSpendRules(deps.config.files.spend, { totalFen: input.totalFen, attach: input.attach, productTags: input.tags }, deps.now);
  const hit = verdicts.find((v) => v.tier);
  return {
    kind: 'order',
    order: { amountYuan: fenToYuan(input.totalFen), attach: input.attach, tags: input.tags },
    verdicts: verdicts.map((v) => ({
      ruleId: v.rule.id,
      ...whereOf(deps.config.spendSources.get(v.rule.id)),
      campaign: v.rule.campaign,
      state: v === hit ? 'applies' : v.tier ? 'shadowed' : 'no',
      ...(v.reason ? { reason: v.reason } : {}),
      ...(v.tier ? { tierMinYuan: fenToYuan(v.tier.minFen), amountYuan: fenToYuan(v.tier.amountFen) } : {}),
      tiers: [...v.rule.tiers].reverse().map((t) => `≥ ${fenToYuan(t.minFen)} → ${fenToYuan(t.amountFen)}`),
    })),
    ...(hit?.tier ? { reward: { campaign: hit.rule.campaign, amountYuan: fenToYuan(hit.tier.amountFen) } } : {}),
  };
}

/**
 * Runs one test. Grants nothing and touches no store: the rewards port is a stand-in.
 *
 * @example (await runRuleTest(input, deps)).kind // 'message'
 */
export async function runRuleTest(input: RuleTestInput, deps: RuleTestDeps): Promise<RuleTestResult> {
  return input.kind === 'order' ? testOrder(input, deps) : testMessage(input, deps);
}
