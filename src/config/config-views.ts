/**
 * Typed views of a loaded {@link BotConfig}: the slice each domain module runs on, read from
 * `config.files` without casts (every file is present once loaded: an absent optional file is parsed
 * as its defaults, e.g. no campaigns, every default limit).
 *
 * @example
 * const rewards = createRewards({ …, config: () => rewardsConfigOf(holder.current()) });
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import type { RewardsConfig } from '../rewards/config-schema';
import type { BotConfig } from './load-config';

/**
 * The campaigns and limits of a loaded config, as the rewards module (grants, outbox, reconcile) reads them.
 *
 * @example rewardsConfigOf(holder.current()).campaigns['welcome-packet']?.amount
 */
export function rewardsConfigOf(config: Pick<BotConfig, 'files'>): RewardsConfig {
  return { campaigns: config.files.campaigns.campaigns, limits: config.files.limits };
}
