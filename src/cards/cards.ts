/**
 * The card coupon service: everything the CLI, the webhook and the outbox worker do with cards.
 *
 * - `sync()` makes cards.yaml true on WeChat: creates missing cards (storing the card_id against the
 *   config name), updates changed fields (`card/update`), changes stock (`card/modifystock`), reads
 *   the review status; a sub-merchant's card waits — and says exactly why — until that sub-merchant is
 *   APPROVED, then is created with `sub_merchant_info.merchant_id`.
 * - `submerchants.*`: categories, submit, update, status (get / batchget).
 * - `handleEvent()`: review events and the follower's card events (see {@link handleCardEvent}).
 * - `sendGrant()`: the outbox worker's sender for `kind: card` grants (see its doc for why a card is
 *   never sent twice for one grant).
 * - `consume()`: checks a code (`card/code/get`: exists, belongs to the card, not used, within dates;
 *   `card/code/decrypt` first for encrypted codes) and redeems it (`card/code/consume`).
 * - `report()`: per card, issued / received / redeemed / deleted from the ledger and WeChat's own
 *   statistics (`datacube/getcardcardinfo`).
 *
 * ## Third-party platform (with-official-account mode)
 * A card with `authorizer_appid` is made and sent with THAT account's token. Pass `apiFor(appId)`,
 * returning an API client built over a `TokenProvider` of the authorizer (see `TokenProvider` in
 * `src/api/access-token.ts`: implement `get()` over `api_authorizer_token`, keep the authorizer's
 * refresh token in your store):
 *
 * ```ts
 * const clients = new Map<string, ApiClient>();
 * const cards = createCards({ …, apiFor: (appId) => clients.get(appId) ?? clients.set(appId,
 *   createApiClient({ baseUrl, tokens: authorizerTokens(appId), store: store.kv })).get(appId)! });
 * ```
 *
 * Each job is its own module over one shared context (`card-context.ts`): `card-sync`,
 * `card-sender`, `card-events` (+ `card-merchant-approval`), `card-reconcile`, `card-consume`,
 * `card-report`, `card-submerchants`; this file composes them into the service.
 *
 * @example
 * const cards = createCards({ api, kv: store.kv, ledger, config: () => cardsConfigOf(holder.current), clock, log });
 * for (const r of await cards.sync()) console.log(r.name, r.action, r.message);
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Create_a_Coupon_Voucher_or_Card.html
 */
import type { LedgerGrant } from '../rewards/ledger';
import type { SendContext } from '../rewards/reward-kind';
import type { CardEvent } from '../wechat/inbound';
import type { Campaign } from '../rewards/config-schema';
import { consumeCode, type ConsumeResult } from './card-consume';
import { CardsError, createCardsContext, type CardsDeps, type CardsConfig } from './card-context';
import { activateFromJump, handleCardEventIn, type CardEventResult, type JumpActivationRequest, type JumpActivationResult } from './card-events';
import { reconcileCardGrants, type CardReconcileReport } from './card-reconcile';
import type { CardRecord, CardRegistry, SubMerchantRecord } from './card-registry';
import { cardReport, type CardReportRow } from './card-report';
import type { CardDefinition } from './card-schema';
import { linkFor, sendCardGrant, type SendStep } from './card-sender';
import { createCardSubmerchants, type CardSubmerchants } from './card-submerchants';
import { syncCards, type CardSyncResult } from './card-sync';
import type { CardTracker } from './card-tracker';
import type { SubMerchantDefinition } from './submerchant-schema';

export { CardsError, type CardsApi, type CardsConfig, type CardsDeps } from './card-context';
export type { CardSyncResult } from './card-sync';
export type { ConsumeResult } from './card-consume';
export type { CardReportRow } from './card-report';
export type { CardReconcileReport } from './card-reconcile';
export type { CardEventResult, JumpActivationRequest, JumpActivationResult } from './card-events';
export type { SendStep } from './card-sender';
export type { SendContext } from '../rewards/reward-kind';

/** The service. */
export interface Cards {
  readonly registry: CardRegistry;
  readonly tracker: CardTracker;
  sync(opts?: { only?: readonly string[] }): Promise<CardSyncResult[]>;
  /**
   * Every card of cards.yaml with its record; a sub-merchant's card also carries that sub-merchant's
   * review state as the bot last heard it (event or `submerchant status`), so a card that waits
   * says why (`REJECTED` with WeChat's reason).
   */
  list(): Promise<
    (CardRecord & { type?: string; subMerchant?: string; subMerchantStatus?: SubMerchantRecord['status']; subMerchantReason?: string; configured: boolean })[]
  >;
  show(name: string): Promise<{ record: CardRecord; definition?: CardDefinition; wechat?: Record<string, unknown> }>;
  whitelist(openIds: readonly string[]): Promise<void>;
  submerchants: CardSubmerchants;
  handleEvent(event: CardEvent): Promise<CardEventResult>;
  sendGrant(grant: LedgerGrant, ctx: SendContext): Promise<SendStep>;
  /** The landing-page / QR link of a link-delivered grant, made once and remembered. */
  linkFor(grant: LedgerGrant): Promise<string>;
  consume(code: string, opts?: { card?: string; encrypted?: boolean }): Promise<ConsumeResult>;
  /** The jump-style member-card activation (the follower's browser lands on the bot's activation page). */
  activateFromJump(req: JumpActivationRequest): Promise<JumpActivationResult>;
  /**
   * Reconciles SENT card grants through card data: asks `card/user/getcardlist` which codes of the
   * card the follower holds, and applies a code the bot has no record of as its missed
   * `user_get_card` (linking it to the follower's awaiting grant, which settles RECEIVED). Grants
   * are taken least recently checked first.
   */
  reconcile(opts?: { limit?: number }): Promise<CardReconcileReport>;
  report(opts?: { beginDate?: string; endDate?: string }): Promise<CardReportRow[]>;
}

/**
 * Builds the card service. Validates its dependencies now.
 *
 * @example const cards = createCards({ api, kv: store.kv, ledger, config, clock: systemClock, log });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Create_a_Coupon_Voucher_or_Card.html
 */
export function createCards(deps: CardsDeps): Cards {
  if (!deps || typeof deps.api?.card?.create !== 'function') throw new TypeError('createCards: api (with api.card) is required');
  if (typeof deps.kv?.setIfAbsent !== 'function') throw new TypeError('createCards: kv must be a KeyValueStore');
  if (typeof deps.ledger?.settle !== 'function') throw new TypeError('createCards: ledger is required');
  if (typeof deps.config !== 'function') throw new TypeError('createCards: config must be a function');
  if (typeof deps.clock?.now !== 'function') throw new TypeError('createCards: clock must have now()');
  if (typeof deps.log?.child !== 'function') throw new TypeError('createCards: log must be a pino logger');
  const ctx = createCardsContext(deps);
  const { config, registry } = ctx;
  return {
    registry,
    tracker: ctx.tracker,
    sync: (opts) => syncCards(ctx, opts),
    async list() {
      const cfg = config().cards;
      return Promise.all(
        Object.values(cfg).map(async (d) => {
          const sub = d.subMerchant ? await registry.getSubMerchant(d.subMerchant) : undefined;
          return {
            ...(await registry.getCard(d.name)),
            type: d.type,
            subMerchant: d.subMerchant,
            ...(sub ? { subMerchantStatus: sub.status, ...(sub.reason ? { subMerchantReason: sub.reason } : {}) } : {}),
            configured: true,
          };
        }),
      );
    },
    async show(name) {
      const definitionOf = config().cards[name];
      const record = await registry.getCard(name);
      if (!definitionOf && !record.cardId) ctx.definition(name);
      let wechat: Record<string, unknown> | undefined;
      if (record.cardId) wechat = await ctx.apiOf(definitionOf).card.get(record.cardId);
      return { record, definition: definitionOf, wechat };
    },
    async whitelist(openIds) {
      if (openIds.length === 0) throw new CardsError('give at least one openid');
      await deps.api.card.setTestWhitelist({ openIds: [...openIds] });
    },
    submerchants: createCardSubmerchants(ctx),
    handleEvent: (event) => handleCardEventIn(ctx, event),
    sendGrant: (grant, send) => sendCardGrant(ctx, grant, send),
    linkFor: (grant) => linkFor(ctx, grant),
    consume: (code, opts) => consumeCode(ctx, code, opts),
    activateFromJump: (req) => activateFromJump(ctx, req),
    report: (opts) => cardReport(ctx, opts),
    reconcile: (opts) => reconcileCardGrants(ctx, opts),
  };
}

/**
 * Handles ANY card event from the message path: review results (`card_pass_check`,
 * `card_not_pass_check`, `card_merchant_check_result`) update the registry — an approved sub-merchant
 * then has its waiting cards created in the background (`followUp`); `user_get_card`,
 * `user_gifting_card`, `user_del_card`, `user_consume_card` are applied to the code's facts and
 * settle the matching grant; `card_sku_remind` raises an operator alert; others are ignored. Safe to
 * call for duplicates and in any order. WeChat expects an empty answer (`success`) to card events.
 *
 * @example if (isCardEvent(message)) await handleCardEvent(message, { cards });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Coupons_Vouchers_and_Cards_Event_Push_Messages.html
 */
export function handleCardEvent(event: CardEvent, deps: { cards: Cards }): Promise<CardEventResult> {
  return deps.cards.handleEvent(event);
}

/**
 * The card config of a loaded `BotConfig` (`config.files.cards` etc.), for {@link CardsDeps.config}.
 *
 * @example createCards({ …, config: () => cardsConfigOf(holder.current.files) })
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Create_a_Coupon_Voucher_or_Card.html
 */
export function cardsConfigOf(files: {
  cards?: { cards: Record<string, CardDefinition> };
  submerchants?: { submerchants: Record<string, SubMerchantDefinition> };
  campaigns?: { campaigns: Record<string, Campaign> };
}): CardsConfig {
  return { cards: files.cards?.cards ?? {}, submerchants: files.submerchants?.submerchants ?? {}, campaigns: files.campaigns?.campaigns ?? {} };
}
