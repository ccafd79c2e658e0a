/**
 * Cross-file checks of the card config, for `loadConfig` (step "cross-checks") and `check-config`:
 * a card's `sub_merchant` must be declared in submerchants.yaml, and a `kind: card` campaign's `card`
 * (and a `kind: points` campaign's member `card`) must be declared in cards.yaml. Each issue names its file key and path, like the schema's issues.
 *
 * @example for (const i of checkCardsConfig(files)) errors.push(issueAt(i.file, i.path, i.message));
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Create_a_Coupon_Voucher_or_Card.html
 */
import type { Campaign } from '../rewards/config-schema';
import { isCardCampaign } from './card-campaign-schema';
import { isPointsCampaign } from './points-campaign-schema';
import type { CardDefinition } from './card-schema';
import type { SubMerchantDefinition } from './submerchant-schema';

/** One cross-file problem. */
export interface CardsConfigIssue {
  file: 'cards' | 'campaigns';
  path: (string | number)[];
  message: string;
}

/**
 * Checks cards against sub-merchants and card campaigns against cards. Absent files count as empty.
 *
 * @example checkCardsConfig({ cards, submerchants, campaigns }) // → [] when consistent
 * @see https://developers.weixin.qq.com/doc/service/guide/product/card/Third-party_developer_mode.html
 */
export function checkCardsConfig(files: {
  cards?: { cards: Readonly<Record<string, CardDefinition>> };
  submerchants?: { submerchants: Readonly<Record<string, SubMerchantDefinition>> };
  campaigns?: { campaigns: Readonly<Record<string, Campaign>> };
}): CardsConfigIssue[] {
  const cards = files.cards?.cards ?? {};
  const subs = Object.keys(files.submerchants?.submerchants ?? {});
  const issues: CardsConfigIssue[] = [];
  for (const [name, c] of Object.entries(cards)) {
    if (c.subMerchant !== undefined && !subs.includes(c.subMerchant))
      issues.push({
        file: 'cards',
        path: ['cards', name, 'sub_merchant'],
        message: `sub-merchant "${c.subMerchant}" is not defined in submerchants.yaml (${subs.length > 0 ? `defined: ${subs.join(', ')}` : 'no sub-merchants are defined'})`,
      });
  }
  const cardNames = Object.keys(cards);
  for (const [name, c] of Object.entries(files.campaigns?.campaigns ?? {})) {
    if (!(isCardCampaign(c) || isPointsCampaign(c))) continue;
    const path = ['campaigns', name, 'card'];
    if (!cardNames.includes(c.card)) {
      issues.push({
        file: 'campaigns',
        path,
        message: `card "${c.card}" is not defined in cards.yaml (${cardNames.length > 0 ? `defined: ${cardNames.join(', ')}` : 'no cards are defined'})`,
      });
      continue;
    }
    const def = cards[c.card]!;
    if (isPointsCampaign(c) && !def.member?.supplyBonus)
      issues.push({
        file: 'campaigns',
        path,
        message: `card "${c.card}" ${def.member ? 'does not keep points (supply_bonus: false)' : `is a ${def.type}, not a MEMBER_CARD`}: points can only go to a member card with supply_bonus: true`,
      });
  }
  return issues;
}
