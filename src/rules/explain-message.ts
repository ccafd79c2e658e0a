/**
 * Explains what the config does with one message, without sending or granting anything: which rules
 * match (in order) and why (their conditions and where they are written), what they do, the reward a
 * grant would ask for (its outcome assumed, `granted` unless told otherwise), and the reply the
 * follower would get — built by the real message handler over a rewards stand-in that records
 * nothing. One function for `wechat-bot rules explain` and the console's rule tester.
 *
 * @example const x = await explainMessage(message, holder.current(), clock.now()); x.matched[0]?.ruleId;
 * @see https://github.com/Wechat-Group/WxJava/blob/develop/weixin-java-mp/src/main/java/me/chanjar/weixin/mp/api/WxMpMessageRouter.java
 */
import { silentLogger } from '../lib/logger';
import type { InboundMessage } from '../wechat/inbound';
import type { Reply } from '../reply/reply';
import type { Action, GrantOutcome } from './actions';
import { decide, DEFAULT_RULE_ID, WELCOME_RULE_ID } from './engine';
import { createMessageHandler, type MessageConfigView } from './handle-message';

/** A campaign as the explanation reads it (a red packet's amount range, a card campaign's card). */
export interface ExplainedCampaign {
  readonly replies: Readonly<Record<string, unknown>>;
  readonly kind?: string;
  readonly amount?: { readonly minFen?: number; readonly maxFen?: number };
  readonly card?: string;
}

/** The part of the loaded config the explanation reads: a `BotConfig` (src/config) fits. */
export interface ExplainConfigView extends MessageConfigView {
  readonly ruleSources: ReadonlyMap<string, { file: string; line?: number }>;
  readonly files: { readonly campaigns: { readonly campaigns: Readonly<Record<string, ExplainedCampaign>> } };
}

/** One rule that matched, or the top-level `default` / `welcome` actions that applied. */
export interface ExplainedMatch {
  ruleId: string;
  kind: 'rule' | 'default' | 'welcome';
  /** Where the rule is written (absent for the top-level actions). */
  source?: { file: string; line?: number };
  /** True when the rule says `continue: true` (later rules were tried too). */
  continues: boolean;
  /** The rule's conditions in words (empty for the top-level actions). */
  conditions: readonly string[];
  captures?: string[];
  named?: Record<string, string>;
  actions: readonly Action[];
}

/** A grant the message would ask for: nothing is recorded. */
export interface GrantPreview {
  ruleId: string;
  campaign: string;
  /** The outcome assumed for the preview. */
  outcome: GrantOutcome;
  /** The campaign's kind (`red_packet`, `card`), absent when the campaign is unknown. */
  kind?: string;
  minFen?: number;
  maxFen?: number;
  card?: string;
}

export interface MessageExplanation {
  /** Empty when no rule and no top-level action applies (WeChat gets `success`). */
  matched: ExplainedMatch[];
  grants: GrantPreview[];
  /** The reply as built for the follower (not sent). */
  reply: Reply;
}

export interface ExplainOptions {
  /** The outcome a grant is assumed to have (default `granted`). */
  outcome?: GrantOutcome;
  /** For `random:` replies (default `Math.random`). */
  random?: () => number;
}

function campaignOf(config: ExplainConfigView, name: string): ExplainedCampaign | undefined {
  const campaigns = config.files.campaigns.campaigns;
  return Object.prototype.hasOwnProperty.call(campaigns, name) ? campaigns[name] : undefined;
}

function explainMatch(config: ExplainConfigView, m: { ruleId: string; captures?: string[]; named?: Record<string, string> }): ExplainedMatch {
  if (m.ruleId === DEFAULT_RULE_ID || m.ruleId === WELCOME_RULE_ID) {
    const welcome = m.ruleId === WELCOME_RULE_ID;
    return { ruleId: m.ruleId, kind: welcome ? 'welcome' : 'default', continues: false, conditions: [], actions: welcome ? config.rules.welcome : config.rules.default };
  }
  const rule = config.rules.list.find((x) => x.id === m.ruleId)!;
  return {
    ruleId: rule.id,
    kind: 'rule',
    source: config.ruleSources.get(rule.id),
    continues: rule.continue === true,
    conditions: rule.conditions,
    ...(m.captures && m.captures.length > 0 ? { captures: m.captures } : {}),
    ...(m.named ? { named: m.named } : {}),
    actions: rule.actions,
  };
}

/**
 * Explains one message at `now` (windows are evaluated then). Pure apart from the reply's randomness:
 * no store, no ledger, no network.
 *
 * @example await explainMessage(followerMessage({ kind: 'text', text: 'hello' }, { openid: 'o1', nowMs }), config, nowMs)
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
export async function explainMessage(message: InboundMessage, config: ExplainConfigView, now: number, o: ExplainOptions = {}): Promise<MessageExplanation> {
  const outcome = o.outcome ?? 'granted';
  const decision = decide(message, config.rules, now);
  const matched = decision.matched.map((m) => explainMatch(config, m));
  const grants: GrantPreview[] = [];
  const handler = createMessageHandler({
    config: { current: () => config },
    clock: { now: () => now },
    random: o.random,
    log: silentLogger(),
    rewards: {
      grant: async (req) => {
        const c = campaignOf(config, req.campaign);
        grants.push({
          ruleId: req.ruleId,
          campaign: req.campaign,
          outcome,
          ...(c?.kind ? { kind: c.kind } : {}),
          ...(c?.amount?.minFen !== undefined ? { minFen: c.amount.minFen } : {}),
          ...(c?.amount?.maxFen !== undefined ? { maxFen: c.amount.maxFen } : {}),
          ...(c?.card ? { card: c.card } : {}),
        });
        return { outcome, amountFen: c?.amount?.minFen, reason: outcome === 'granted' ? undefined : 'preview' };
      },
    },
  });
  const reply = await handler(message);
  return { matched, grants, reply };
}
