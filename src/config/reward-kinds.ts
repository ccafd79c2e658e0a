/**
 * The reward kinds this app grants, composed from the folders that own them: red packets
 * (src/rewards/red-packet-kind.ts), card coupons (src/cards/card-reward-kind.ts) and member-card points
 * (src/cards/points-reward-kind.ts). Add a kind by writing its `RewardKind` in its own folder and listing it here; the rewards
 * core (`createRewards`, the outbox worker) does not change. The order is the union's order in
 * `campaigns.yaml` error messages.
 *
 * @example createRewards({ ledger, config, clock, mchId, log, kinds: REWARD_KINDS })
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import { cardRewardKind } from '../cards/card-reward-kind';
import { pointsRewardKind } from '../cards/points-reward-kind';
import { campaignsFileSchemaFor, rewardsConfigSchemaFor, type CampaignSchemas } from '../rewards/config-schema';
import { redPacketRewardKind } from '../rewards/red-packet-kind';
import type { AnyRewardKind } from '../rewards/reward-kind';

/** Every reward kind of the app, in the order of campaigns.yaml's union on `kind`. */
export const REWARD_KINDS: readonly [AnyRewardKind, ...AnyRewardKind[]] = [redPacketRewardKind, cardRewardKind, pointsRewardKind];

const schemas = REWARD_KINDS.map((k) => k.campaignSchema) as unknown as CampaignSchemas;

/** `campaigns.yaml` with a campaign of every kind of {@link REWARD_KINDS}. */
export const campaignsFileSchema = campaignsFileSchemaFor(schemas);

/** `campaigns.yaml` and `limits.yaml` together, cross-checked, every kind of {@link REWARD_KINDS}. */
export const rewardsConfigSchema = rewardsConfigSchemaFor(schemas);
