/**
 * The port the rules engine calls to grant a reward. `GrantOutcome`, `GRANT_OUTCOMES` and
 * `RewardsPort` are the rules module's (`src/rules/actions.ts`), re-exported; the request and result
 * shapes are named here for the rewards module's own signatures (structurally identical).
 *
 * @example const { outcome } = await rewards.grant({ campaign: 'welcome-packet', openId, dedupeKey, ruleId, now });
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import type { GrantOutcome } from '../rules/actions';

export { GRANT_OUTCOMES, type GrantOutcome, type RewardsPort } from '../rules/actions';

/** One grant request: `(dedupeKey, ruleId)` is its idempotency key. */
export interface GrantRequest {
  campaign: string;
  openId: string;
  /** The inbound message's `dedupeKey()` (or a batch file's line key). */
  dedupeKey: string;
  ruleId: string;
  /** Epoch ms of the request (limits are evaluated at this instant, Beijing time). */
  now: number;
  /**
   * How the inbound WeChat message asking for this grant arrived: `encrypted` (safe or compatible
   * mode) or `plain`. Absent when no message asked (a batch file, a payment notification). A campaign
   * with `require_safe_mode` refuses `plain`.
   */
  via?: GrantVia;
}

/** How the message asking for a grant arrived (see {@link GrantRequest.via}). */
export type GrantVia = 'encrypted' | 'plain';

/** What the rules engine gets back. */
export interface GrantResult {
  outcome: GrantOutcome;
  amountFen?: number;
  reason?: string;
}
