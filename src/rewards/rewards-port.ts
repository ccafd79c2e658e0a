/**
 * The port the rules engine calls to grant a reward. These types are identical to the ones in
 * `src/rules/actions.ts` (the rules engineer's file); they are declared here too so the rewards module
 * builds on its own. Structural typing makes the two interchangeable.
 *
 * @example const { outcome } = await rewards.grant({ campaign: 'welcome-packet', openId, dedupeKey, ruleId, now });
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */

/** What a grant request came to, from the follower's point of view. */
export type GrantOutcome = 'granted' | 'already_claimed' | 'limit_reached' | 'outside_hours' | 'campaign_over' | 'failed';

/** Every outcome, for exhaustiveness tables. */
export const GRANT_OUTCOMES = [
  'granted',
  'already_claimed',
  'limit_reached',
  'outside_hours',
  'campaign_over',
  'failed',
] as const satisfies readonly GrantOutcome[];

/** One grant request: `(dedupeKey, ruleId)` is its idempotency key. */
export interface GrantRequest {
  campaign: string;
  openId: string;
  /** The inbound message's `dedupeKey()` (or a batch file's line key). */
  dedupeKey: string;
  ruleId: string;
  /** Epoch ms of the request (limits are evaluated at this instant, Beijing time). */
  now: number;
}

/** What the rules engine gets back. */
export interface GrantResult {
  outcome: GrantOutcome;
  amountFen?: number;
  reason?: string;
}

/** Implemented by `createRewards()`. */
export interface RewardsPort {
  grant(req: GrantRequest): Promise<GrantResult>;
}
