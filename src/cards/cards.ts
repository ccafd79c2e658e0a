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
 * @example
 * const cards = createCards({ api, kv: store.kv, ledger, config: () => cardsConfigOf(holder.current), clock, log });
 * for (const r of await cards.sync()) console.log(r.name, r.action, r.message);
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Create_a_Coupon_Voucher_or_Card.html
 */
import type { CardApi, CardStatsRow } from '../api/card';
import type { CustomMessageApi } from '../api/custom-message';
import { WeChatApiError, WeChatHttpError } from '../api/errors';
import type { SubMerchantCategory } from '../api/submerchant';
import type { Clock } from '../lib/clock';
import { shanghaiParts } from '../lib/clock';
import type { Logger } from '../lib/logger';
import type { Campaign } from '../rewards/config-schema';
import type { Ledger, LedgerGrant, ReservationKind } from '../rewards/ledger';
import type { KeyValueStore } from '../store/ports';
import type { CardEvent } from '../wechat/inbound';
import { dedupeKey } from '../wechat/inbound';
import type { CardCampaign, CardDelivery } from './card-campaign-schema';
import { createCardRegistry, withKvLock, type CardRecord, type CardRegistry, type SubMerchantRecord } from './card-registry';
import { cardUpdateOf, toCardCreateBody, type CardDefinition } from './card-schema';
import { codeState, createCardTracker, grantIdOfOuterStr, outerStrOf, type CardTracker, type CodeRecord, type CodeState } from './card-tracker';
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
}

// === Results

/** What `sync` did to one card. */
export interface CardSyncResult {
  name: string;
  action: 'created' | 'updated' | 'unchanged' | 'waiting' | 'failed' | 'needs_new_card';
  cardId?: string;
  status: CardRecord['status'];
  refuseReason?: string;
  /** Stock change applied with modifystock (positive or negative). */
  stockDelta?: number;
  /** One line for the operator: what happened, or exactly why the card waits. */
  message: string;
}

/** The outcome of `consume`. */
export type ConsumeResult =
  | { ok: true; code: string; cardId: string; cardName?: string; openId: string }
  | { ok: false; code: string; reason: 'not_found' | 'wrong_card' | 'already_used' | 'not_yet_valid' | 'expired' | 'unavailable' | 'error'; message: string };

/** One line of `report`. */
export interface CardReportRow {
  name: string;
  cardId?: string;
  status: CardRecord['status'];
  /** From the ledger: card grants delivered (SENT or RECEIVED). */
  issued: number;
  /** Grants whose code reached the follower. */
  received: number;
  gifted: number;
  redeemed: number;
  deleted: number;
  /** Grants still in the outbox, and failed/refused ones. */
  pending: number;
  failed: number;
  /** WeChat's statistics for the period (absent when the API gave none). */
  wechat?: { receive: number; verify: number; given: number };
}

/** The outcome of a sender step, as the outbox worker counts it. */
export type SendStep = 'sent' | 'failed' | 'retried' | 'skipped';

/** What the outbox worker passes to {@link Cards.sendGrant}. */
export interface SendContext {
  /** The worker's lease owner id. */
  owner: string;
}

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
  list(): Promise<(CardRecord & { type?: string; subMerchant?: string; subMerchantStatus?: SubMerchantRecord['status']; subMerchantReason?: string; configured: boolean })[]>;
  show(name: string): Promise<{ record: CardRecord; definition?: CardDefinition; wechat?: Record<string, unknown> }>;
  whitelist(openIds: readonly string[]): Promise<void>;
  submerchants: {
    categories(): Promise<SubMerchantCategory[]>;
    submit(name: string): Promise<SubMerchantRecord>;
    update(name: string): Promise<SubMerchantRecord>;
    /** Refreshes from WeChat (`get` for one, `batchget` for all) and returns the records. */
    status(name?: string): Promise<SubMerchantRecord[]>;
  };
  handleEvent(event: CardEvent): Promise<CardEventResult>;
  sendGrant(grant: LedgerGrant, ctx: SendContext): Promise<SendStep>;
  /** The landing-page / QR link of a link-delivered grant, made once and remembered. */
  linkFor(grant: LedgerGrant): Promise<string>;
  consume(code: string, opts?: { card?: string; encrypted?: boolean }): Promise<ConsumeResult>;
  /**
   * Reconciles SENT card grants through card data: asks `card/user/getcardlist` which codes of the
   * card the follower holds, and applies a code the bot has no record of as its missed
   * `user_get_card` (linking it to the follower's awaiting grant, which settles RECEIVED). Grants
   * are taken least recently checked first.
   */
  reconcile(opts?: { limit?: number }): Promise<CardReconcileReport>;
  report(opts?: { beginDate?: string; endDate?: string }): Promise<CardReportRow[]>;
}

/** What one {@link Cards.reconcile} run found. */
export interface CardReconcileReport {
  checked: number;
  /** Settled RECEIVED from a code found in the follower's card list. */
  received: number;
  unchanged: number;
  errors: number;
}

/** What {@link handleCardEvent} did. */
export interface CardEventResult {
  handled: boolean;
  duplicate?: boolean;
  /** What changed, for the log. */
  note: string;
  /**
   * Work the event started that runs after the webhook answers (a sub-merchant's approval creates its
   * waiting cards). Never rejects; callers don't await it — tests may.
   */
  followUp?: Promise<CardSyncResult[]>;
}

// === Errors

/** A card operation that cannot go ahead (unknown name, not approved, …). The message says what to do. */
export class CardsError extends Error {
  override readonly name = 'CardsError';
}

// === Helpers

/** How long the lock around one card's `card/create` lives (a crashed holder frees it after this). */
const CREATE_LOCK_SECONDS = 60;
const RELEASE_ALL: ReservationKind[] = ['budget', 'per_user', 'follower_daily', 'merchant_daily'];
/** WeChat errcodes that mean "this send did not and will not happen". */
const DEFINITE_SEND_FAILURES = new Map<number, string>([
  [40003, 'the openid is not a follower of this account'],
  [43004, 'the follower has unfollowed'],
  [45015, 'the follower has not interacted in the last 48 hours'],
  [40073, 'WeChat does not know the card'],
  [40078, 'the card is not approved (or was deleted)'],
  [45031, 'the card is out of stock'],
  [45033, 'the follower holds as many of this card as get_limit allows'],
]);

function describeApiError(err: unknown): string {
  if (err instanceof WeChatApiError) return `${err.errcode} ${err.errmsg}${err.hint ? ` (${err.hint})` : ''}`;
  if (err instanceof Error) return err.message;
  return String(err);
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
  const { kv, ledger, config, clock } = deps;
  const log = deps.log.child({ module: 'cards' });
  const registry = createCardRegistry({ kv, now: () => clock.now() });
  const tracker = createCardTracker({ kv });

  function apiOf(def: CardDefinition | undefined): CardsApi {
    if (!def?.authorizerAppId) return deps.api;
    if (!deps.apiFor)
      throw new CardsError(`card ${def.name} is made for authorizer ${def.authorizerAppId}, but no third-party token provider is configured (createCards({ apiFor }))`);
    return deps.apiFor(def.authorizerAppId);
  }

  function definition(name: string): CardDefinition {
    const def = config().cards[name];
    if (!def) {
      const names = Object.keys(config().cards);
      throw new CardsError(`no card named "${name}" in cards.yaml (${names.length > 0 ? `defined: ${names.join(', ')}` : 'no cards are defined'})`);
    }
    return def;
  }

  function cardCampaign(name: string): CardCampaign | undefined {
    const c = config().campaigns[name];
    return c && c.kind === 'card' ? (c as CardCampaign) : undefined;
  }

  // --- sync

  /** Why a sub-merchant's card cannot be created yet, or its merchant id. */
  async function merchantFor(def: CardDefinition): Promise<{ merchantId: number } | { wait: string }> {
    const sub = def.subMerchant!;
    if (!config().submerchants[sub]) return { wait: `sub-merchant "${sub}" is not declared in submerchants.yaml` };
    const r = await registry.getSubMerchant(sub);
    switch (r.status) {
      case 'NOT_SUBMITTED':
        return { wait: `waits for sub-merchant "${sub}": not submitted yet — run "submerchant submit ${sub}"` };
      case 'CHECKING':
        return { wait: `waits for sub-merchant "${sub}" (merchant_id ${r.merchantId}): WeChat is still reviewing it — "submerchant status ${sub}" to check` };
      case 'REJECTED':
        return { wait: `waits for sub-merchant "${sub}" (merchant_id ${r.merchantId}): WeChat rejected it${r.reason ? `: ${r.reason}` : ''} — fix submerchants.yaml, then "submerchant update ${sub}"` };
      case 'EXPIRED':
        return { wait: `waits for sub-merchant "${sub}" (merchant_id ${r.merchantId}): its authorization expired — renew end_time and the letter, then "submerchant update ${sub}"` };
      case 'APPROVED':
        return { merchantId: r.merchantId! };
    }
  }

  /**
   * Creates a card that has no card_id yet, under a store lock per card name, re-reading the record
   * inside it: a `cards sync` and a sub-merchant's approval event (on this or another instance, or
   * WeChat's retry of it) can never both call `card/create` for one card. Undefined when another
   * holder created it meanwhile (the caller goes on as for an existing card).
   */
  async function createMissing(def: CardDefinition): Promise<CardSyncResult | undefined> {
    return withKvLock(
      kv,
      `cards:create-lock:${def.name}`,
      async () => {
        const rec = await registry.getCard(def.name);
        if (rec.cardId) return undefined;
        let merchantId: number | undefined;
        if (def.subMerchant) {
          const m = await merchantFor(def);
          if ('wait' in m) return { name: def.name, action: 'waiting', status: rec.status, message: m.wait };
          merchantId = m.merchantId;
        }
        const cardId = await apiOf(def).card.create(toCardCreateBody(def, { merchantId }));
        const saved = await registry.updateCard(def.name, (r) => ({ ...r, cardId, status: 'CARD_STATUS_NOT_VERIFY', refuseReason: undefined, synced: def }));
        log.info({ card: def.name, cardId }, 'card created');
        return { name: def.name, action: 'created', cardId, status: saved.status, message: `created as ${cardId}; WeChat is reviewing it` };
      },
      // Held across card/create (the API client's timeout is well under a minute).
      { ttlSeconds: CREATE_LOCK_SECONDS, waitMs: (CREATE_LOCK_SECONDS + 5) * 1000, pollMs: 50 },
    );
  }

  async function syncOne(def: CardDefinition): Promise<CardSyncResult> {
    const api = apiOf(def).card;
    let rec = await registry.getCard(def.name);
    if (!rec.cardId) {
      const created = await createMissing(def);
      if (created) return created;
      rec = await registry.getCard(def.name);
    }
    const cardId = rec.cardId!;
    // WeChat's view of the review (events may have been missed while the bot was down).
    const got = await api.get(cardId);
    const payload = (got[String(got.card_type ?? def.type).toLowerCase()] ?? {}) as { base_info?: { status?: string } };
    const wxStatus = payload.base_info?.status;
    if (wxStatus && wxStatus !== rec.status) rec = await registry.updateCard(def.name, (r) => ({ ...r, status: wxStatus as CardRecord['status'] }));
    const synced = rec.synced ?? def;
    const { fields, fixed } = cardUpdateOf(synced, def);
    if (fixed.length > 0)
      return {
        name: def.name,
        action: 'needs_new_card',
        cardId,
        status: rec.status,
        message: `${fixed.join(', ')} cannot change on an existing card: give the card a new name in cards.yaml to make a new one (${cardId} keeps its settings)`,
      };
    const notes: string[] = [];
    let sendCheck = false;
    if (fields) {
      sendCheck = (await api.update(cardId, def.type, fields)).sendCheck;
      notes.push(`updated ${Object.keys(fields).flatMap((k) => (k === 'base_info' ? Object.keys(fields.base_info as object).map((b) => `base_info.${b}`) : [k])).join(', ')}`);
      if (sendCheck) notes.push('the change goes back to review');
    }
    const stockDelta = def.stock - synced.stock;
    if (stockDelta !== 0) {
      await api.modifyStock(cardId, stockDelta);
      notes.push(`stock ${stockDelta > 0 ? '+' : ''}${stockDelta}`);
    }
    rec = await registry.updateCard(def.name, (r) => ({ ...r, synced: def, status: sendCheck ? 'CARD_STATUS_NOT_VERIFY' : r.status }));
    const changed = notes.length > 0;
    return {
      name: def.name,
      action: changed ? 'updated' : 'unchanged',
      cardId,
      status: rec.status,
      refuseReason: rec.refuseReason,
      ...(stockDelta !== 0 ? { stockDelta } : {}),
      message: `${changed ? notes.join('; ') : 'up to date'}; ${statusText(rec)}`,
    };
  }

  // --- sending

  /**
   * Delivers one card grant (called by the outbox worker for `kind: card`).
   *
   * Never twice for one grant:
   * 1. The grant is put on the follower's "awaiting" list for the card BEFORE the send, and
   *    `markSending` records the attempt in the ledger before the call. So whatever happens next —
   *    crash, timeout, lost answer — the grant is SENDING and any `user_get_card` for that follower
   *    and card settles it as RECEIVED.
   * 2. A send WeChat answered is final: ok → SENT; an errcode → not delivered (FAILED with the reason
   *    and limits released for definite refusals, else retried later).
   * 3. A send whose outcome is unknown (timeout, reset, 5xx) is NOT repeated blindly. Next time the
   *    worker finds the grant SENDING: if the follower already received it (event linked) → RECEIVED;
   *    if `card/user/getcardlist` shows the follower holds more codes of the card than the grants
   *    already matched to them → it landed (SENT; the event will link it); otherwise it is resent only
   *    when the card's `get_limit` is at most the campaign's `per_user` — then WeChat itself refuses a
   *    card beyond what this follower is entitled to, so a duplicate message cannot turn into an extra
   *    card. Without such a `get_limit` the grant is settled FAILED ("outcome unknown, not resent")
   *    without releasing its limits, for an operator to look at.
   */
  async function sendGrant(g: LedgerGrant, ctx: SendContext): Promise<SendStep> {
    const now = () => clock.now();
    const retry = async (reason: string, delayMs: number): Promise<SendStep> => {
      await ledger.reschedule(g.id, { owner: ctx.owner, dueAt: now() + delayMs, now: now(), lastError: reason });
      return 'retried';
    };
    const fail = async (reason: string, release: ReservationKind[] = RELEASE_ALL): Promise<SendStep> => {
      await ledger.settle(g.id, { status: 'FAILED', now: now(), reason, release });
      log.warn({ grant: g.id, campaign: g.campaign, reason }, 'card grant failed');
      return 'failed';
    };
    const cardName = String(g.payload.card ?? '');
    const delivery = (g.payload.delivery ?? 'wxcard') as CardDelivery;
    const def = config().cards[cardName];
    if (!def) return retry(`card "${cardName}" is not in cards.yaml`, 60_000);
    const rec = await registry.getCard(cardName);
    if (!rec.cardId) return retry(`card "${cardName}" is not created yet: run "cards sync"`, 60_000);
    if (rec.status === 'CARD_STATUS_VERIFY_FAIL') return retry(`card "${cardName}" was rejected by WeChat${rec.refuseReason ? `: ${rec.refuseReason}` : ''}`, 5 * 60_000);
    if (rec.status !== 'CARD_STATUS_VERIFY_OK') return retry(`card "${cardName}" is waiting for WeChat's review`, 60_000);
    const cardId = rec.cardId;
    const api = apiOf(def);

    if (g.status === 'SENDING') {
      const link = await tracker.grantLink(g.id);
      if (link?.code) {
        await ledger.settle(g.id, { status: 'RECEIVED', now: now() });
        return 'sent';
      }
      if (delivery === 'wxcard') {
        let held: number;
        try {
          held = (await api.card.userCardList(g.openId, cardId)).length;
        } catch (err) {
          return retry(`uncertain send; card/user/getcardlist failed: ${describeApiError(err)}`, 30_000);
        }
        const awaiting = await tracker.awaiting(g.openId, cardId);
        const matched = (await ledger.listAll({ campaign: g.campaign })).filter(
          (x) => x.openId === g.openId && x.id !== g.id && x.status === 'RECEIVED',
        ).length;
        if (held > matched) {
          await ledger.settle(g.id, { status: 'SENT', now: now() });
          log.info({ grant: g.id, held, matched }, 'uncertain wxcard send confirmed: the follower holds the card');
          return 'sent';
        }
        const camp = cardCampaign(g.campaign);
        const safe = def.getLimit !== undefined && camp !== undefined && def.getLimit <= camp.perUser;
        if (!safe) {
          return fail(
            `the wxcard send's outcome is unknown and resending could give a second card (set base_info.get_limit ≤ per_user to allow a safe resend); awaiting=${awaiting.length}`,
            [],
          );
        }
        log.warn({ grant: g.id }, 'uncertain wxcard send not received; resending (get_limit bounds any duplicate)');
      }
    }

    await tracker.await(g.openId, cardId, g.id);
    if (!(await ledger.markSending(g.id, { owner: ctx.owner, now: now() }))) return 'skipped';
    try {
      if (delivery === 'wxcard') {
        await api.customMessage.wxcard(g.openId, cardId);
      } else {
        const url = await linkFor(g);
        await api.customMessage.send(g.openId, {
          type: 'news',
          article: { title: String(def.baseInfo.title ?? cardName), description: String(def.baseInfo.notice ?? ''), url, picUrl: String(def.baseInfo.logo_url ?? '') },
        });
      }
    } catch (err) {
      if (err instanceof WeChatApiError) {
        const definite = DEFINITE_SEND_FAILURES.get(err.errcode);
        if (definite) {
          await tracker.unawait(g.openId, cardId, g.id);
          return fail(`${err.errcode}: ${definite}`);
        }
        // WeChat answered with an error: nothing was delivered; try again later.
        return retry(`${err.errcode} ${err.errmsg}`, 30_000 * Math.min(10, g.attempts + 1));
      }
      if (err instanceof WeChatHttpError) return retry(`outcome unknown: ${err.message}`, 10_000 * Math.min(10, g.attempts + 1));
      if (err instanceof CardsError) return retry(err.message, 60_000);
      throw err;
    }
    await ledger.settle(g.id, { status: 'SENT', now: now() });
    log.info({ grant: g.id, campaign: g.campaign, card: cardName, delivery }, 'card grant sent');
    return 'sent';
  }

  async function linkFor(g: LedgerGrant): Promise<string> {
    const cardName = String(g.payload.card ?? '');
    const delivery = (g.payload.delivery ?? 'wxcard') as CardDelivery;
    const have = await tracker.grantLink(g.id);
    if (have?.link) return have.link.url;
    const def = definition(cardName);
    const rec = await registry.getCard(cardName);
    if (!rec.cardId || rec.status !== 'CARD_STATUS_VERIFY_OK') throw new CardsError(`card "${cardName}" is not approved yet`);
    const api = apiOf(def).card;
    const outerStr = outerStrOf(g.id);
    let link: { kind: 'landing_page' | 'qrcode'; url: string; ticket?: string };
    if (delivery === 'qrcode') {
      const qr = await api.createQrCode({
        cardId: rec.cardId,
        outerStr,
        expireSeconds: Number(g.payload.qrcodeExpireSeconds ?? 1800),
        ...(def.baseInfo.bind_openid ? { openId: g.openId } : {}),
      });
      link = { kind: 'qrcode', url: qr.showQrcodeUrl || qr.url, ticket: qr.ticket };
    } else {
      let page = rec.landingPage;
      if (!page) {
        page = await api.createLandingPage({
          banner: def.landingBanner ?? String(def.baseInfo.logo_url),
          title: String(def.baseInfo.title),
          canShare: false,
          scene: 'SCENE_MENU',
          cards: [{ cardId: rec.cardId, thumbUrl: String(def.baseInfo.logo_url) }],
        });
        const made = page;
        await registry.updateCard(cardName, (r) => ({ ...r, landingPage: r.landingPage ?? made }));
      }
      // [unverified] WeChat documents outer_str for QR codes; on a landing page we pass it as a query
      // parameter and, should it not come back, the grant is matched by follower and card instead.
      link = { kind: 'landing_page', url: `${page.url}${page.url.includes('?') ? '&' : '?'}outer_str=${encodeURIComponent(outerStr)}` };
    }
    const saved = await tracker.setGrantLink(g.id, (l) => ({ ...l, cardId: rec.cardId, link: l.link ?? link }));
    return saved.link!.url;
  }

  // --- events

  /** Resolves an outer_str to a grant of this follower for this card. */
  async function resolveOuterStr(outerStr: string, ctx: { openId: string; cardId: string }): Promise<number | undefined> {
    const id = grantIdOfOuterStr(outerStr);
    if (id === undefined) return undefined;
    const g = await ledger.getGrant(id);
    if (!g || g.kind !== 'card' || g.openId !== ctx.openId) return undefined;
    const rec = await registry.getCard(String(g.payload.card ?? ''));
    return rec.cardId === ctx.cardId ? id : undefined;
  }

  /**
   * Creates the cards of cards.yaml that wait for sub-merchant `name` (no card_id yet), the same way
   * `cards sync` does. Started by the approval event and not awaited by the webhook; it runs on the
   * next turn of the event loop, so the answer to WeChat goes out first. Never rejects: errors are
   * logged, and the cards still wait for the next `cards sync`.
   */
  function createWaitingCards(name: string): Promise<CardSyncResult[]> {
    return new Promise<void>((resolve) => setImmediate(resolve))
      .then(async () => {
        const results: CardSyncResult[] = [];
        for (const def of Object.values(config().cards)) {
          if (def.subMerchant !== name || (await registry.getCard(def.name)).cardId) continue;
          const r = await syncOne(def).catch(async (err: unknown): Promise<CardSyncResult> => {
            const rec = await registry.getCard(def.name);
            return { name: def.name, action: 'failed', cardId: rec.cardId, status: rec.status, message: describeApiError(err) };
          });
          if (r.action === 'failed') log.error({ card: def.name, submerchant: name, reason: r.message }, `card ${def.name} could not be created after ${name}'s approval: ${r.message} — run "cards sync"`);
          else log.info({ card: def.name, submerchant: name, action: r.action, cardId: r.cardId }, `card ${def.name} after ${name}'s approval: ${r.message}`);
          results.push(r);
        }
        return results;
      })
      .catch((err: unknown) => {
        log.error({ err, submerchant: name }, `the cards waiting for ${name} could not be created — run "cards sync"`);
        return [];
      });
  }

  async function settleReceived(grantId: number): Promise<void> {
    const g = await ledger.getGrant(grantId);
    if (!g) return;
    if (await ledger.settle(grantId, { status: 'RECEIVED', now: clock.now() })) log.info({ grant: grantId, campaign: g.campaign }, 'card grant received');
  }

  async function handleEvent(event: CardEvent): Promise<CardEventResult> {
    switch (event.Event) {
      case 'card_pass_check':
      case 'card_not_pass_check': {
        const name = await registry.nameOfCardId(event.CardId);
        if (!name) return { handled: false, note: `review result for unknown card ${event.CardId}` };
        const pass = event.Event === 'card_pass_check';
        await registry.updateCard(name, (r) => ({
          ...r,
          status: pass ? 'CARD_STATUS_VERIFY_OK' : 'CARD_STATUS_VERIFY_FAIL',
          refuseReason: pass ? undefined : event.RefuseReason || 'no reason given',
        }));
        log.info({ card: name, pass, reason: event.RefuseReason }, 'card review result');
        return { handled: true, note: `card ${name} ${pass ? 'approved' : `rejected: ${event.RefuseReason ?? ''}`}` };
      }
      case 'card_merchant_check_result': {
        const id = Number(event.MerchantId);
        const name = await registry.nameOfMerchantId(id);
        if (!name) return { handled: false, note: `review result for unknown sub-merchant ${event.MerchantId}` };
        const pass = event.IsPass === '1';
        const reason = event.Reason || 'no reason given';
        await registry.updateSubMerchant(name, (r) => ({ ...r, merchantId: id, status: pass ? 'APPROVED' : 'REJECTED', reason: pass ? undefined : reason }));
        if (!pass) {
          log.warn({ submerchant: name, merchantId: id, reason }, `sub-merchant ${name} rejected by WeChat: ${reason} — fix submerchants.yaml, then "submerchant update ${name}"`);
          return { handled: true, note: `sub-merchant ${name} rejected: ${event.Reason ?? ''}` };
        }
        log.info({ submerchant: name, merchantId: id }, 'sub-merchant approved');
        // Its waiting cards are created after the webhook has answered (never inside WeChat's 5 s).
        return { handled: true, note: `sub-merchant ${name} approved`, followUp: createWaitingCards(name) };
      }
      case 'user_get_card':
      case 'user_gifting_card':
      case 'user_del_card':
      case 'user_consume_card': {
        const r = await tracker.apply(event, dedupeKey(event), resolveOuterStr);
        if (r.duplicate) return { handled: true, duplicate: true, note: `${event.Event} ${event.UserCardCode} already applied` };
        if (r.record.grantId !== undefined) await settleReceived(r.record.grantId);
        return { handled: true, note: `${event.Event} ${event.UserCardCode}: ${codeState(r.record)}${r.linkedGrantId !== undefined ? ` (grant ${r.linkedGrantId})` : ''}` };
      }
      case 'card_sku_remind':
        log.warn({ alert: true, cardId: event.CardId, detail: event.Detail }, 'OPERATOR ALERT: card stock is running low (card_sku_remind)');
        return { handled: true, note: `stock low for ${event.CardId}` };
      default:
        return { handled: false, note: `${event.Event} is not tracked` };
    }
  }

  // --- reconcile

  async function reconcileGrants(opts: { limit?: number } = {}): Promise<CardReconcileReport> {
    const report: CardReconcileReport = { checked: 0, received: 0, unchanged: 0, errors: 0 };
    for (const g of await ledger.listByStatus(['SENT'], { kind: 'card', limit: opts.limit ?? 500 })) {
      const cardName = String(g.payload.card ?? '');
      const rec = await registry.getCard(cardName);
      if (!rec.cardId) continue;
      report.checked += 1;
      let held: { code: string; cardId: string }[];
      try {
        held = await apiOf(config().cards[cardName]).card.userCardList(g.openId, rec.cardId);
      } catch (err) {
        report.errors += 1;
        log.warn({ grant: g.id, card: cardName, reason: describeApiError(err) }, 'card reconcile: card/user/getcardlist failed; will retry next run');
        continue;
      }
      for (const { code } of held) {
        if (code === '' || (await tracker.getCode(rec.cardId, code))) continue;
        // A code the bot never heard of: its user_get_card was missed (bot down, event lost).
        const missed = { ToUserName: '', FromUserName: g.openId, CreateTime: Math.floor(clock.now() / 1000), MsgType: 'event', Event: 'user_get_card', CardId: rec.cardId, UserCardCode: code, IsGiveByFriend: '0' } as CardEvent;
        await handleEvent(missed);
      }
      await ledger.markChecked(g.id, clock.now());
      const after = await ledger.getGrant(g.id);
      if (after?.status === 'RECEIVED') {
        report.received += 1;
        log.info({ grant: g.id, card: cardName }, 'card grant reconciled: the follower holds the card');
      } else report.unchanged += 1;
    }
    return report;
  }

  // --- consume

  async function consume(codeIn: string, opts: { card?: string; encrypted?: boolean } = {}): Promise<ConsumeResult> {
    const def = opts.card ? definition(opts.card) : undefined;
    const api = apiOf(def).card;
    let expectCardId: string | undefined;
    if (def) {
      const rec = await registry.getCard(def.name);
      if (!rec.cardId) throw new CardsError(`card "${def.name}" has not been created on WeChat yet (cards sync)`);
      expectCardId = rec.cardId;
    }
    let code = codeIn.trim();
    const encrypted = opts.encrypted ?? !/^[0-9A-Za-z]{1,32}$/.test(code);
    try {
      if (encrypted) code = await api.codeDecrypt(code);
    } catch (err) {
      return { ok: false, code: codeIn, reason: 'not_found', message: `the encrypted code could not be decrypted: ${describeApiError(err)}` };
    }
    let info;
    try {
      info = await api.codeGet(code, { checkConsume: true, ...(def?.baseInfo.use_custom_code ? { cardId: expectCardId } : {}) });
    } catch (err) {
      if (err instanceof WeChatApiError) {
        if (err.errcode === 40099) return { ok: false, code, reason: 'already_used', message: `code ${code} has already been redeemed` };
        if (err.errcode === 40127) return { ok: false, code, reason: 'unavailable', message: `code ${code} was deleted or is being gifted by its holder` };
        if (err.errcode === 40056 || err.errcode === 40116)
          return { ok: false, code, reason: expectCardId ? 'wrong_card' : 'not_found', message: `code ${code} does not exist${expectCardId ? ` for card ${opts.card}` : ''}` };
      }
      return { ok: false, code, reason: 'error', message: `card/code/get failed: ${describeApiError(err)}` };
    }
    if (expectCardId && info.cardId !== expectCardId) {
      const other = await registry.nameOfCardId(info.cardId);
      return { ok: false, code, reason: 'wrong_card', message: `code ${code} belongs to ${other ? `card ${other}` : `another card (${info.cardId})`}, not to ${opts.card}` };
    }
    const nowS = Math.floor(clock.now() / 1000);
    if (info.userCardStatus === 'CONSUMED') return { ok: false, code, reason: 'already_used', message: `code ${code} has already been redeemed` };
    if (info.beginTime && nowS < info.beginTime)
      return { ok: false, code, reason: 'not_yet_valid', message: `code ${code} is valid from ${shanghaiParts(info.beginTime * 1000).isoDate}` };
    if ((info.endTime && nowS > info.endTime) || info.userCardStatus === 'EXPIRE')
      return { ok: false, code, reason: 'expired', message: `code ${code} expired on ${shanghaiParts(info.endTime * 1000).isoDate}` };
    if (!info.canConsume) return { ok: false, code, reason: 'unavailable', message: `code ${code} cannot be redeemed now (status ${info.userCardStatus || 'unknown'})` };
    try {
      const done = await api.codeConsume(code, def?.baseInfo.use_custom_code ? info.cardId : undefined);
      const cardName = await registry.nameOfCardId(info.cardId);
      log.info({ cardId: info.cardId, card: cardName }, 'code redeemed');
      return { ok: true, code, cardId: done.cardId || info.cardId, ...(cardName ? { cardName } : {}), openId: done.openId || info.openId };
    } catch (err) {
      if (err instanceof WeChatApiError && err.errcode === 40099) return { ok: false, code, reason: 'already_used', message: `code ${code} has already been redeemed` };
      return { ok: false, code, reason: 'error', message: `card/code/consume failed: ${describeApiError(err)}` };
    }
  }

  // --- report

  async function report(opts: { beginDate?: string; endDate?: string } = {}): Promise<CardReportRow[]> {
    const cfg = config();
    const rows: CardReportRow[] = [];
    const today = shanghaiParts(clock.now()).isoDate;
    const beginDate = opts.beginDate ?? shanghaiParts(clock.now() - 29 * 86400_000).isoDate;
    const endDate = opts.endDate ?? today;
    for (const name of Object.keys(cfg.cards)) {
      const rec = await registry.getCard(name);
      const row: CardReportRow = { name, cardId: rec.cardId, status: rec.status, issued: 0, received: 0, gifted: 0, redeemed: 0, deleted: 0, pending: 0, failed: 0 };
      const campaigns = Object.values(cfg.campaigns).filter((c) => c.kind === 'card' && (c as CardCampaign).card === name);
      for (const c of campaigns) {
        for (const g of await ledger.listAll({ campaign: c.name })) {
          if (g.status === 'FAILED' || g.status === 'REFUSED') {
            row.failed += 1;
            continue;
          }
          if (g.status === 'PENDING' || g.status === 'DEFERRED' || g.status === 'SENDING') row.pending += 1;
          else row.issued += 1;
          const link = await tracker.grantLink(g.id);
          if (!link?.code || !link.cardId) continue;
          const code = await tracker.getCode(link.cardId, link.code);
          if (!code) continue;
          const facts = factsOf(code);
          if (facts.received) row.received += 1;
          if (facts.gifted) row.gifted += 1;
          if (facts.redeemed) row.redeemed += 1;
          if (facts.deleted) row.deleted += 1;
          // A gifted code is followed to the friend's code (redeemed or deleted there counts too).
          if (facts.gifted) {
            const chain = await followGift(code);
            if (chain?.consumedAt !== undefined) row.redeemed += 1;
          }
        }
      }
      if (rec.cardId) {
        try {
          const stats: CardStatsRow[] = await apiOf(cfg.cards[name]).card.stats({ beginDate, endDate, cardId: rec.cardId });
          row.wechat = stats.reduce((a, s) => ({ receive: a.receive + s.receiveCount, verify: a.verify + s.verifyCount, given: a.given + s.givenCount }), { receive: 0, verify: 0, given: 0 });
        } catch (err) {
          log.debug({ err, card: name }, 'card statistics unavailable');
        }
      }
      rows.push(row);
    }
    return rows;
  }

  /** The friend's code a gifted code turned into, when its user_get_card was seen. */
  async function followGift(code: CodeRecord): Promise<CodeRecord | undefined> {
    const ref = await kv.get(`cards:gift:${code.cardId}:${code.code}`);
    return ref ? tracker.getCode(code.cardId, ref) : undefined;
  }

  return {
    registry,
    tracker,
    async sync(opts = {}) {
      const results: CardSyncResult[] = [];
      for (const def of Object.values(config().cards)) {
        if (opts.only && opts.only.length > 0 && !opts.only.includes(def.name)) continue;
        try {
          results.push(await syncOne(def));
        } catch (err) {
          const rec = await registry.getCard(def.name);
          results.push({ name: def.name, action: 'failed', cardId: rec.cardId, status: rec.status, message: describeApiError(err) });
        }
      }
      return results;
    },
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
      if (!definitionOf && !record.cardId) definition(name);
      let wechat: Record<string, unknown> | undefined;
      if (record.cardId) wechat = await apiOf(definitionOf).card.get(record.cardId);
      return { record, definition: definitionOf, wechat };
    },
    async whitelist(openIds) {
      if (openIds.length === 0) throw new CardsError('give at least one openid');
      await deps.api.card.setTestWhitelist({ openIds: [...openIds] });
    },
    submerchants: {
      categories: () => deps.api.card.submerchant.categories(),
      async submit(name) {
        const def = config().submerchants[name];
        if (!def) throw new CardsError(`no sub-merchant named "${name}" in submerchants.yaml (defined: ${Object.keys(config().submerchants).join(', ') || 'none'})`);
        const rec = await registry.getSubMerchant(name);
        if (rec.merchantId !== undefined) throw new CardsError(`sub-merchant "${name}" was already submitted (merchant_id ${rec.merchantId}); use "submerchant update ${name}"`);
        const info = await deps.api.card.submerchant.submit(def.info);
        return registry.updateSubMerchant(name, (r) =>
          r.merchantId !== undefined ? r : { ...r, merchantId: info.merchantId, status: (info.status as SubMerchantRecord['status']) || 'CHECKING', reason: undefined },
        );
      },
      async update(name) {
        const def = config().submerchants[name];
        if (!def) throw new CardsError(`no sub-merchant named "${name}" in submerchants.yaml`);
        const rec = await registry.getSubMerchant(name);
        if (rec.merchantId === undefined) throw new CardsError(`sub-merchant "${name}" has not been submitted yet; use "submerchant submit ${name}"`);
        const info = await deps.api.card.submerchant.update(rec.merchantId, def.info);
        return registry.updateSubMerchant(name, (r) => ({ ...r, status: (info.status as SubMerchantRecord['status']) || 'CHECKING', reason: undefined }));
      },
      async status(name) {
        const names = name ? [name] : Object.keys(config().submerchants);
        if (name && !config().submerchants[name]) throw new CardsError(`no sub-merchant named "${name}" in submerchants.yaml`);
        const byId = new Map<number, string>();
        if (!name) {
          let begin = 0;
          for (let page = 0; page < 100; page++) {
            const { list, nextBeginId } = await deps.api.card.submerchant.batchGet({ beginId: begin, limit: 100 });
            for (const i of list) byId.set(i.merchantId, i.status);
            if (!nextBeginId || list.length === 0) break;
            begin = nextBeginId;
          }
        }
        const out: SubMerchantRecord[] = [];
        for (const n of names) {
          const rec = await registry.getSubMerchant(n);
          if (rec.merchantId === undefined) {
            out.push(rec);
            continue;
          }
          const status = name ? (await deps.api.card.submerchant.get(rec.merchantId)).status : byId.get(rec.merchantId);
          out.push(
            status && status !== rec.status
              ? await registry.updateSubMerchant(n, (r) => ({ ...r, status: status as SubMerchantRecord['status'], reason: status === 'APPROVED' ? undefined : r.reason }))
              : rec,
          );
        }
        return out;
      },
    },
    async handleEvent(event) {
      const r = await handleEvent(event);
      // Remember where a gift went, so the report can follow it.
      if (event.Event === 'user_get_card' && event.IsGiveByFriend === '1' && event.OldUserCardCode)
        await kv.set(`cards:gift:${event.CardId}:${event.OldUserCardCode}`, event.UserCardCode);
      return r;
    },
    sendGrant,
    linkFor,
    consume,
    report,
    reconcile: reconcileGrants,
  };
}

function factsOf(c: CodeRecord): Record<Exclude<CodeState, 'issued'>, boolean> {
  return {
    received: c.receivedAt !== undefined || c.consumedAt !== undefined || c.deletedAt !== undefined || c.giftedAt !== undefined,
    gifted: c.giftedAt !== undefined,
    redeemed: c.consumedAt !== undefined,
    deleted: c.deletedAt !== undefined,
  };
}

function statusText(r: CardRecord): string {
  switch (r.status) {
    case 'CARD_STATUS_VERIFY_OK':
      return 'approved';
    case 'CARD_STATUS_NOT_VERIFY':
      return 'in review';
    case 'CARD_STATUS_VERIFY_FAIL':
      return `rejected: ${r.refuseReason ?? 'no reason given'}`;
    case 'CARD_STATUS_DELETE':
      return 'deleted';
    default:
      return r.status;
  }
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
