/**
 * What a rule does once it matched: reply (inline, a named template, or one picked at random), grant
 * a reward from a named campaign (with one reply per outcome), or hand the conversation to customer
 * service. Actions are plain data, produced by `decide()` and carried out by `handleMessage()`.
 *
 * @example const a: Action = { type: 'reply', reply: { kind: 'text', text: 'Hello <%= openid %>' } };
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
import type { ReplySpec } from '../reply/reply-spec';

// === Reply specs (defined beside the replies built from them)

export { REPLY_SPEC_KINDS, type ReplySpec, type ReplySpecKind } from '../reply/reply-spec';

// === Grants

/**
 * How a grant ended, from the follower's point of view. Each outcome has its own reply.
 *
 * @example const o: GrantOutcome = 'already_claimed';
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export type GrantOutcome = 'granted' | 'already_claimed' | 'limit_reached' | 'outside_hours' | 'campaign_over' | 'failed';

/** Every grant outcome, in the order operators usually think about them. */
export const GRANT_OUTCOMES: readonly GrantOutcome[] = ['granted', 'already_claimed', 'limit_reached', 'outside_hours', 'campaign_over', 'failed'];

/**
 * The keys of a grant's `replies`: one per outcome, and `deferred` — a grant recorded during quiet
 * hours, whose packet goes out when they end (the follower must not hear "on its way… shortly").
 */
export type GrantReplyKey = GrantOutcome | 'deferred';

/** Every {@link GrantReplyKey}, outcomes first. */
export const GRANT_REPLY_KEYS: readonly GrantReplyKey[] = [...GRANT_OUTCOMES, 'deferred'];

/**
 * The follower's reply for each outcome when the rule does not give one. EJS variables such as
 * `<%= amount %>` (yuan, e.g. "1.00"; empty for a reward without money, such as a coupon) and, for
 * `deferred`, `<%= send_after %>` (HH:MM Beijing time) are available.
 *
 * @example DEFAULT_GRANT_TEXTS.granted
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export const DEFAULT_GRANT_TEXTS: Readonly<Record<GrantReplyKey, string>> = {
  granted: '🎉 A reward is on its way to you<% if (amount) { %> (¥<%= amount %>)<% } %>. Please check your WeChat messages shortly.',
  already_claimed: 'You have already received this reward. Thank you for taking part!',
  limit_reached: 'Sorry, the rewards for today have all been handed out. Please try again tomorrow.',
  outside_hours: 'Rewards are handed out between 08:00 and 24:00 Beijing time. Please come back then.',
  campaign_over: 'Sorry, this campaign has ended. Thank you for your interest!',
  failed: 'Sorry, something went wrong while preparing your reward. Please try again later.',
  deferred: '🎉 A reward is yours<% if (amount) { %> (¥<%= amount %>)<% } %>. It will be sent after <%= send_after %> Beijing time.',
};

/**
 * Where grants go. The rewards module implements it (limits, ledger, outbox); the rules module only
 * asks and uses the outcome to pick the reply.
 *
 * `dedupeKey` + `ruleId` identify the grant: a retried message must not grant twice.
 *
 * @example const port: RewardsPort = { grant: async () => ({ outcome: 'granted', amountFen: 100 }) };
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export interface RewardsPort {
  grant(req: {
    campaign: string;
    openId: string;
    dedupeKey: string;
    ruleId: string;
    now: number;
    /** How the message arrived: `encrypted` (safe or compatible mode) or `plain`. */
    via?: 'encrypted' | 'plain';
  }): Promise<{
    outcome: GrantOutcome;
    amountFen?: number;
    reason?: string;
    /** Set when the grant waits for quiet hours to end: epoch ms of the earliest send. */
    deferredUntil?: number;
  }>;
}

// === Actions

/**
 * One thing a matched rule does.
 *
 * @example { type: 'grant', campaign: 'welcome-packet', replies: { already_claimed: { kind: 'text', text: 'Already yours!' } } }
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
export type Action =
  | { type: 'reply'; reply: ReplySpec }
  | { type: 'grant'; campaign: string; replies: Partial<Record<GrantReplyKey, ReplySpec>> }
  /** Hand the conversation to the customer-service system, optionally to one agent (`kf2001@gh_…`). */
  | { type: 'transfer_customer_service'; kfAccount?: string };

export type ActionType = Action['type'];

/** Every action type as written in YAML (the key naming the action). */
export const ACTION_TYPES = {
  reply: true,
  grant: true,
  transfer_customer_service: true,
} as const satisfies Record<ActionType, true>;

/** An action with the id of the rule that produced it (needed for grant idempotency and captures). */
export type DecidedAction = Action & { ruleId: string };
