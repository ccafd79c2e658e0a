/**
 * What every job of the card service shares: its dependencies, the card registry and code tracker
 * over the shared store, and the lookups each job needs (a card's definition, the API client of its
 * account, a card campaign). `createCards` builds it once and hands it to each job module
 * (`card-sync`, `card-sender`, `card-events`, `card-merchant-approval`, `card-reconcile`,
 * `card-consume`, `card-report`, `card-submerchants`).
 *
 * @example const ctx = createCardsContext(deps); await syncCard(ctx, ctx.definition('coffee-cash'));
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Create_a_Coupon_Voucher_or_Card.html
 */
import type { CardApi } from '../api/card';
import type { CustomMessageApi } from '../api/custom-message';
import { WeChatApiError } from '../api/errors';
import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import type { Campaign } from '../rewards/config-schema';
import type { Ledger } from '../rewards/ledger';
import type { KeyValueStore } from '../store/ports';
import { isCardCampaign, type CardCampaign } from './card-campaign-schema';
import { createCardRegistry, type CardRegistry } from './card-registry';
import type { CardDefinition } from './card-schema';
import { createCardTracker, type CardTracker } from './card-tracker';
import type { MemberActivationSettings } from './member-activation';
import type { MemberStoreWithNumbers } from './member-store';
import type { SubMerchantDefinition } from './submerchant-schema';

// === Dependencies

/** The API areas the card service uses. An `ApiClient` fits. */
export interface CardsApi {
  card: CardApi;
  customMessage: Pick<CustomMessageApi, 'wxcard' | 'send'>;
}

/** The config the card service reads on every call (hot-reloaded). */
export interface CardsConfig {
  cards: Readonly<Record<string, CardDefinition>>;
  submerchants: Readonly<Record<string, SubMerchantDefinition>>;
  /** campaigns.yaml (only `kind: card` ones are used). */
  campaigns: Readonly<Record<string, Campaign>>;
}

/** What {@link createCards} needs. */
export interface CardsDeps {
  api: CardsApi;
  /** The shared store (card ids, review states, code facts). */
  kv: KeyValueStore;
  /** The rewards ledger (card grants live there beside red packets). */
  ledger: Ledger;
  config: () => CardsConfig;
  clock: Clock;
  log: Logger;
  /** Third-party platform mode: the API client of an authorizer account (see the module doc). */
  apiFor?: (authorizerAppId: string) => CardsApi;
  /** Member cards (issue 17): where members live; without it `submit_membercard_user_info` is not acted on. */
  members?: MemberStoreWithNumbers;
  /**
   * The one-click activation settings of a member card by card_id; by default those of its cards.yaml
   * entry (`activation: { mode: wx_activate, … }`), found through the card registry.
   */
  memberActivation?: (cardId: string) => Promise<MemberActivationSettings | undefined>;
}

// === Errors

/** A card operation that cannot go ahead (unknown name, not approved, …). The message says what to do. */
export class CardsError extends Error {
  override readonly name = 'CardsError';
}

/** One line for an API failure (errcode, message, remediation hint). */
export function describeApiError(err: unknown): string {
  if (err instanceof WeChatApiError) return `${err.errcode} ${err.errmsg}${err.hint ? ` (${err.hint})` : ''}`;
  if (err instanceof Error) return err.message;
  return String(err);
}

// === Context

/** What the card jobs share (built once per service). */
export interface CardsContext {
  readonly deps: CardsDeps;
  readonly kv: KeyValueStore;
  readonly ledger: Ledger;
  readonly config: () => CardsConfig;
  readonly clock: Clock;
  readonly log: Logger;
  readonly registry: CardRegistry;
  readonly tracker: CardTracker;
  /** The API client a card is made and sent with (its authorizer's in third-party mode). */
  apiOf(def: CardDefinition | undefined): CardsApi;
  /** The card of cards.yaml named `name`; throws a {@link CardsError} naming the defined ones. */
  definition(name: string): CardDefinition;
  /** The `kind: card` campaign named `name`, if there is one. */
  cardCampaign(name: string): CardCampaign | undefined;
}

/**
 * Builds the shared context of the card jobs.
 *
 * @example const ctx = createCardsContext({ api, kv, ledger, config, clock, log });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Create_a_Coupon_Voucher_or_Card.html
 */
export function createCardsContext(deps: CardsDeps): CardsContext {
  const { kv, ledger, config, clock } = deps;
  return {
    deps,
    kv,
    ledger,
    config,
    clock,
    log: deps.log.child({ module: 'cards' }),
    registry: createCardRegistry({ kv, now: () => clock.now() }),
    tracker: createCardTracker({ kv }),
    apiOf(def) {
      if (!def?.authorizerAppId) return deps.api;
      if (!deps.apiFor)
        throw new CardsError(`card ${def.name} is made for authorizer ${def.authorizerAppId}, but no third-party token provider is configured (createCards({ apiFor }))`);
      return deps.apiFor(def.authorizerAppId);
    },
    definition(name) {
      const def = config().cards[name];
      if (!def) {
        const names = Object.keys(config().cards);
        throw new CardsError(`no card named "${name}" in cards.yaml (${names.length > 0 ? `defined: ${names.join(', ')}` : 'no cards are defined'})`);
      }
      return def;
    },
    cardCampaign(name) {
      const c = config().campaigns[name];
      return isCardCampaign(c) ? c : undefined;
    },
  };
}
