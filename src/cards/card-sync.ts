/**
 * Card job "sync": makes cards.yaml true on WeChat. Creates a missing card (storing its card_id
 * against the config name) under a store lock, updates changed fields (`card/update`), changes stock
 * (`card/modifystock`) and reads the review status; a sub-merchant's card waits — and says exactly
 * why — until that sub-merchant is APPROVED, then is created with `sub_merchant_info.merchant_id`.
 * After create or update it sets what card/create does not carry, when the config changed it: a
 * member card's one-click activation form (`card/membercard/activateuserform/set`) and the quick-pay
 * cells of member cards and coupons (`card/paycell/set`, `card/selfconsumecell/set`).
 *
 * @example for (const r of await syncCards(ctx)) console.log(r.name, r.action, r.message);
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Create_a_Coupon_Voucher_or_Card.html
 */
import { withKvLock, type CardRecord } from './card-registry';
import { cardUpdateOf, same, toCardCreateBody, type CardDefinition } from './card-schema';
import { describeApiError, type CardsContext } from './card-context';
import { toActivateUserFormBody } from './member-card-schema';

/** How long the lock around one card's `card/create` lives (a crashed holder frees it after this). */
const CREATE_LOCK_SECONDS = 60;

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

async function merchantFor(ctx: CardsContext, def: CardDefinition): Promise<{ merchantId: number } | { wait: string }> {
  const { config, registry } = ctx;
  const sub = def.subMerchant!;
  if (!config().submerchants[sub]) return { wait: `sub-merchant "${sub}" is not declared in submerchants.yaml` };
  const r = await registry.getSubMerchant(sub);
  switch (r.status) {
    case 'NOT_SUBMITTED':
      return { wait: `waits for sub-merchant "${sub}": not submitted yet — run "submerchant submit ${sub}"` };
    case 'CHECKING':
      return { wait: `waits for sub-merchant "${sub}" (merchant_id ${r.merchantId}): WeChat is still reviewing it — "submerchant status ${sub}" to check` };
    case 'REJECTED':
      return {
        wait: `waits for sub-merchant "${sub}" (merchant_id ${r.merchantId}): WeChat rejected it${r.reason ? `: ${r.reason}` : ''} — fix submerchants.yaml, then "submerchant update ${sub}"`,
      };
    case 'EXPIRED':
      return {
        wait: `waits for sub-merchant "${sub}" (merchant_id ${r.merchantId}): its authorization expired — renew end_time and the letter, then "submerchant update ${sub}"`,
      };
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
async function createMissing(ctx: CardsContext, def: CardDefinition): Promise<CardSyncResult | undefined> {
  const { kv, log, registry } = ctx;
  return withKvLock(
    kv,
    `cards:create-lock:${def.name}`,
    async () => {
      const rec = await registry.getCard(def.name);
      if (rec.cardId) return undefined;
      let merchantId: number | undefined;
      if (def.subMerchant) {
        const m = await merchantFor(ctx, def);
        if ('wait' in m) return { name: def.name, action: 'waiting', status: rec.status, message: m.wait };
        merchantId = m.merchantId;
      }
      const cardId = await ctx.apiOf(def).card.create(toCardCreateBody(def, { merchantId }));
      // The form and the cells are not set yet: recorded without them, so a failure below is retried by the next sync.
      const saved = await registry.updateCard(def.name, (r) => ({ ...r, cardId, status: 'CARD_STATUS_NOT_VERIFY', refuseReason: undefined, synced: withoutCells(def) }));
      log.info({ card: def.name, cardId }, 'card created');
      return { name: def.name, action: 'created', cardId, status: saved.status, message: `created as ${cardId}; WeChat is reviewing it` };
    },
    // Held across card/create (the API client's timeout is well under a minute).
    { ttlSeconds: CREATE_LOCK_SECONDS, waitMs: (CREATE_LOCK_SECONDS + 5) * 1000, pollMs: 50 },
  );
}

/**
 * Brings one card of cards.yaml in line with WeChat (create, update, stock, review status).
 *
 * @example await syncCard(ctx, ctx.definition('coffee-cash'))
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Create_a_Coupon_Voucher_or_Card.html
 */
export async function syncCard(ctx: CardsContext, def: CardDefinition): Promise<CardSyncResult> {
  const { registry } = ctx;
  const api = ctx.apiOf(def).card;
  let rec = await registry.getCard(def.name);
  if (!rec.cardId) {
    const created = await createMissing(ctx, def);
    if (created) {
      if (!created.cardId) return created;
      const cells = await syncCells(ctx, def, created.cardId, withoutCells(def));
      await registry.updateCard(def.name, (r) => ({ ...r, synced: def }));
      return cells.length > 0 ? { ...created, message: `${created.message}; ${cells.join('; ')}` } : created;
    }
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
    notes.push(
      `updated ${Object.keys(fields)
        .flatMap((k) => (k === 'base_info' ? Object.keys(fields.base_info as object).map((b) => `base_info.${b}`) : [k]))
        .join(', ')}`,
    );
    if (sendCheck) notes.push('the change goes back to review');
  }
  const stockDelta = def.stock - synced.stock;
  if (stockDelta !== 0) {
    await api.modifyStock(cardId, stockDelta);
    notes.push(`stock ${stockDelta > 0 ? '+' : ''}${stockDelta}`);
  }
  notes.push(...(await syncCells(ctx, def, cardId, synced)));
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

/**
 * Syncs every card of cards.yaml (or those in `only`); a card that fails is reported, the rest go on.
 *
 * @example await syncCards(ctx, { only: ['coffee-cash'] })
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Create_a_Coupon_Voucher_or_Card.html
 */
export async function syncCards(ctx: CardsContext, opts: { only?: readonly string[] } = {}): Promise<CardSyncResult[]> {
  const { config, registry } = ctx;
  const results: CardSyncResult[] = [];
  for (const def of Object.values(config().cards)) {
    if (opts.only && opts.only.length > 0 && !opts.only.includes(def.name)) continue;
    try {
      results.push(await syncCard(ctx, def));
    } catch (err) {
      const rec = await registry.getCard(def.name);
      results.push({ name: def.name, action: 'failed', cardId: rec.cardId, status: rec.status, message: describeApiError(err) });
    }
  }
  return results;
}

/** A definition as recorded before its activation form and quick-pay cells are set. */
function withoutCells(def: CardDefinition): CardDefinition {
  const rest = { ...def };
  delete rest.payCell;
  delete rest.selfConsumeCell;
  delete rest.member;
  return rest;
}

/**
 * Sets the activation form and the quick-pay cells that differ between `synced` (what WeChat was
 * last given) and `def`; returns what it did, for the operator. A cell absent from the config is
 * left as it is on WeChat.
 *
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Membership_Cards/Manage_Member_Card.html
 */
async function syncCells(ctx: CardsContext, def: CardDefinition, cardId: string, synced: CardDefinition): Promise<string[]> {
  const api = ctx.apiOf(def).card;
  const notes: string[] = [];
  const form = def.member && toActivateUserFormBody(cardId, def.member);
  if (form && !same(synced.member?.activation, def.member!.activation)) {
    await api.setActivateUserForm(form);
    notes.push('activation form set');
  }
  if (def.payCell !== undefined && def.payCell !== synced.payCell) {
    await api.setPayCell(cardId, def.payCell);
    notes.push(`quick pay ${def.payCell ? 'on' : 'off'}`);
  }
  if (def.selfConsumeCell && !same(def.selfConsumeCell, synced.selfConsumeCell)) {
    await api.setSelfConsumeCell(cardId, def.selfConsumeCell);
    notes.push(`self redemption ${def.selfConsumeCell.isOpen ? 'on' : 'off'}`);
  }
  return notes;
}

/** The review state in words. */
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
