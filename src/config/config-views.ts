/**
 * Typed views of a loaded {@link BotConfig}: the slice each domain module runs on, read from
 * `config.files` without casts (every file is present once loaded: an absent optional file is parsed
 * as its defaults, e.g. no campaigns, every default limit).
 *
 * The holder keeps the rewards view of its serving config (`holder.rewardsConfig`, made once per
 * load); the card and spend views are read through the holder on each call.
 *
 * @example
 * const rewards = createRewards({ …, config: holder.rewardsConfig });
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import { cardsConfigOf, type CardsConfig } from '../cards/cards';
import type { RewardsConfig } from '../rewards/config-schema';
import type { ConfigFiles } from './config-files';
import type { BotConfig } from './load-config';

/**
 * The campaigns and limits of a loaded config, as the rewards module (grants, outbox, reconcile) reads them.
 *
 * @example rewardsConfigOf(holder.current()).campaigns['welcome-packet']?.amount
 */
export function rewardsConfigOf(config: Pick<BotConfig, 'files'>): RewardsConfig {
  return { campaigns: config.files.campaigns.campaigns, limits: config.files.limits };
}

/**
 * The current card config of a holder (cards, sub-merchants, campaigns), for `createCards`.
 *
 * @example createCards({ …, config: cardsConfigView(holder) })
 */
export function cardsConfigView(holder: { current(): Pick<BotConfig, 'files'> }): () => CardsConfig {
  return function cardsConfig() {
    return cardsConfigOf(holder.current().files);
  };
}

/**
 * The current spend-and-get rules of a holder (`spend.yaml`), for the payment-notification endpoint.
 *
 * @example createSpendEndpoint({ …, spend: spendConfigView(holder) })
 */
export function spendConfigView(holder: { current(): Pick<BotConfig, 'files'> }): () => ConfigFiles['spend'] {
  return function spendConfig() {
    return holder.current().files.spend;
  };
}
