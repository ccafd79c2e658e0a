/**
 * The card (卡券) and sub-merchant endpoints of the API sandbox, with the review flows and the
 * follower's side of a card's life that tests and operators drive:
 *
 * - `card/create` checks the fields as WeChat does (type, code type, colour, lengths, date info, stock,
 *   an APPROVED sub-merchant) and puts the card in review (CARD_STATUS_NOT_VERIFY);
 *   `approveCard`/`rejectCard` end the review and EMIT `card_pass_check` / `card_not_pass_check` to
 *   the bot's webhook (a signed plain-mode POST).
 * - `card/submerchant/submit|update` put a sub-merchant in review (CHECKING); `approveMerchant`/
 *   `rejectMerchant` emit `card_merchant_check_result`.
 * - A follower claims a card (`claim`, `scanQrCode`, `claimFromLandingPage`): stock decreases (45031 at
 *   0), `get_limit` is enforced (45033), a code is made and `user_get_card` is emitted (with the
 *   QR code's `outer_str`). `gift` / `deleteByUser` emit `user_gifting_card` + `user_get_card` /
 *   `user_del_card`. `card/code/consume` consumes a code once (40099 afterwards) and emits
 *   `user_consume_card`.
 * - `datacube/getcardcardinfo` reports what happened, per card and Beijing day.
 *
 * Error codes follow WeChat's card error table (40056 invalid code, 40071 card type, 40072 code type,
 * 40078 card status, 40079 time, 40099 consumed, 40122 stock, 40127 deleted/gifted, 41011 missing
 * field, 45021 too long, 45031 stock 0, 45033 get_limit). Where WeChat's exact code is not published
 * (unknown merchant id, merchant not approved) the sandbox answers 41011 / 40078.
 *
 * The endpoints live in `api-card-routes.ts`, `api-card-code-routes.ts` and `api-submerchant-routes.ts`
 * over the one sandbox state; this module is the follower's and the reviewer's side ({@link CardSandbox}).
 *
 * @example
 * const sandbox = await startApiSandbox({ cards: { webhook: { url: `${bot}/wechat`, token } } });
 * await sandbox.cards.approveCard(cardId);          // the bot receives card_pass_check
 * const code = await sandbox.cards.claim('o_follower', cardId);
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Create_a_Coupon_Voucher_or_Card.html
 */
import { randomBytes } from 'node:crypto';
import { bump, emit, post, reviewCard, reviewMerchant } from './api-card-events';
import { baseOf, requireCode } from './api-card-rules';
import type { EmittedEvent, SandboxCard, SandboxCode, SandboxFormAnswer, SandboxMember, SandboxMerchant, SandboxWebhook } from './api-card-state';
import { submitMemberForm } from './api-member-routes';
import { SandboxApiError } from './api-route';
import type { ApiState } from './api-state';

export type { CardSandboxOptions, EmittedEvent, SandboxCard, SandboxCode, SandboxMerchant, SandboxWebhook } from './api-card-state';

// === Public types

/** The card side of a running sandbox (`sandbox.cards`). */
export interface CardSandbox {
  setWebhook(webhook: SandboxWebhook | undefined): void;
  readonly cards: ReadonlyMap<string, SandboxCard>;
  readonly codes: ReadonlyMap<string, SandboxCode>;
  readonly merchants: ReadonlyMap<number, SandboxMerchant>;
  readonly whitelist: ReadonlySet<string>;
  /** Every event pushed, in order. */
  readonly emitted: readonly EmittedEvent[];
  approveCard(cardId: string): Promise<EmittedEvent>;
  rejectCard(cardId: string, reason: string): Promise<EmittedEvent>;
  approveMerchant(merchantId: number): Promise<EmittedEvent>;
  rejectMerchant(merchantId: number, reason: string): Promise<EmittedEvent>;
  /** The follower adds the card (from a wxcard message, or with an `outerStr` channel). Returns the code. */
  claim(openId: string, cardId: string, opts?: { outerStr?: string }): Promise<string>;
  /** The follower scans a card QR code made by `card/qrcode/create` (its outer_str comes along). */
  scanQrCode(openId: string, ticket: string): Promise<string>;
  /** The follower adds the page's card from a landing page URL (an `outer_str` query parameter comes along). */
  claimFromLandingPage(openId: string, url: string): Promise<string>;
  /** The holder gives the code to a friend: user_gifting_card, then user_get_card for the friend. Returns the friend's code. */
  gift(code: string, toOpenId: string): Promise<string>;
  /** The holder deletes the card from their card bag: user_del_card. */
  deleteByUser(code: string): Promise<EmittedEvent>;
  /** The `encrypt_code` a card page would carry for `code` (for card/code/decrypt). */
  encryptCode(code: string): string;
  /** Pushes an already emitted event again, byte for byte (a WeChat retry). */
  redeliver(event: EmittedEvent): Promise<EmittedEvent>;
  /** The holder of a member card fills the activation form: submit_membercard_user_info (see `api-member-routes.ts`). */
  submitMemberForm(code: string, form: { commonFields: SandboxFormAnswer[]; customFields: SandboxFormAnswer[] }): Promise<{ ticket: string; event: EmittedEvent }>;
  /** Member cards as WeChat keeps them, by code. */
  readonly members: ReadonlyMap<string, SandboxMember>;
}

// === Follower actions

/** The follower adds the card: stock, whitelist (cards in review) and `get_limit` checked; emits user_get_card. */
async function claim(state: ApiState, openId: string, cardId: string, opts: { outerStr?: string } = {}): Promise<string> {
  const c = state.cards.cards.get(cardId);
  if (!c || c.status === 'CARD_STATUS_DELETE') throw new SandboxApiError(40073, 'invalid card id');
  if (c.status !== 'CARD_STATUS_VERIFY_OK' && !state.cards.whitelist.has(openId)) throw new SandboxApiError(40078, 'invalid card status: not approved');
  if (c.quantity <= 0) throw new SandboxApiError(45031, 'stock is zero');
  const limit = Number(baseOf(c).get_limit ?? 0);
  const held = [...state.cards.codes.values()].filter((x) => x.cardId === cardId && x.openId === openId).length;
  if (limit > 0 && held >= limit) throw new SandboxApiError(45033, 'user get card num limit');
  c.quantity -= 1;
  const code = newCode(state);
  state.cards.codes.set(code, { code, cardId, openId, status: 'NORMAL', receivedAt: state.config.clock.now(), outerStr: opts.outerStr });
  bump(state, cardId, 'receive', openId);
  await emit(state, openId, 'user_get_card', {
    CardId: cardId,
    IsGiveByFriend: 0,
    UserCardCode: code,
    OuterId: 0,
    OuterStr: opts.outerStr,
    IsRestoreMemberCard: 0,
  });
  return code;
}

/** A fresh 12-digit code no follower holds. */
function newCode(state: ApiState): string {
  let code: string;
  do code = String(100000000000 + Math.floor(Math.random() * 899999999999));
  while (state.cards.codes.has(code));
  return code;
}

function requireCard(state: ApiState, cardId: string): SandboxCard {
  const c = state.cards.cards.get(cardId);
  if (!c) throw new Error(`sandbox: no card ${cardId}`);
  return c;
}
function requireMerchant(state: ApiState, id: number): SandboxMerchant {
  const m = state.cards.merchants.get(id);
  if (!m) throw new Error(`sandbox: no sub-merchant ${id}`);
  return m;
}

// === Controls

/**
 * The card side of a sandbox over its state (`sandbox.cards`): reviews and the follower's actions.
 *
 * @example const cards = createCardControls(state); await cards.approveCard(cardId);
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Create_a_Coupon_Voucher_or_Card.html
 */
export function createCardControls(state: ApiState): CardSandbox {
  return {
    setWebhook(w) {
      state.cards.webhook = w;
    },
    cards: state.cards.cards,
    codes: state.cards.codes,
    merchants: state.cards.merchants,
    whitelist: state.cards.whitelist,
    emitted: state.cards.emitted,
    members: state.cards.members,
    submitMemberForm: (code, form) => submitMemberForm(state, code, form),
    approveCard: async (cardId) => reviewCard(state, requireCard(state, cardId)),
    rejectCard: async (cardId, reason) => reviewCard(state, requireCard(state, cardId), reason),
    approveMerchant: async (id) => reviewMerchant(state, requireMerchant(state, id)),
    rejectMerchant: async (id, reason) => reviewMerchant(state, requireMerchant(state, id), reason),
    claim: (openId, cardId, opts) => claim(state, openId, cardId, opts),
    async scanQrCode(openId, ticket) {
      const t = state.cards.qrTickets.get(ticket);
      if (!t) throw new SandboxApiError(40053, 'unknown QR ticket');
      return claim(state, openId, t.cardId, { outerStr: t.outerStr });
    },
    async claimFromLandingPage(openId, url) {
      const u = new URL(url);
      const page = state.cards.landingPages.get(u.searchParams.get('page_id') ?? '');
      if (!page) throw new SandboxApiError(40053, 'unknown landing page');
      return claim(state, openId, page.cardIds[0]!, { outerStr: u.searchParams.get('outer_str') ?? undefined });
    },
    async gift(code, toOpenId) {
      const c = requireCode(state, code);
      if (c.status !== 'NORMAL') throw new SandboxApiError(40127, 'the code was deleted or is being gifted');
      const card = requireCard(state, c.cardId);
      c.status = 'GIFTING';
      await emit(state, c.openId, 'user_gifting_card', { CardId: c.cardId, UserCardCode: code, IsReturnBack: 0, FriendUserName: toOpenId, IsChatRoom: 0 });
      const next = newCode(state);
      state.cards.codes.set(next, { code: next, cardId: c.cardId, openId: toOpenId, status: 'NORMAL', receivedAt: state.config.clock.now() });
      c.status = 'DELETE';
      bump(state, card.cardId, 'given', c.openId);
      await emit(state, toOpenId, 'user_get_card', {
        CardId: c.cardId,
        IsGiveByFriend: 1,
        FriendUserName: c.openId,
        UserCardCode: next,
        OldUserCardCode: code,
        OuterId: 0,
        IsRestoreMemberCard: 0,
      });
      return next;
    },
    async deleteByUser(code) {
      const c = requireCode(state, code);
      c.status = 'DELETE';
      return emit(state, c.openId, 'user_del_card', { CardId: c.cardId, UserCardCode: code });
    },
    encryptCode(code) {
      requireCode(state, code);
      const enc = randomBytes(24).toString('base64');
      state.cards.encrypted.set(enc, code);
      return enc;
    },
    redeliver(ev) {
      const copy: EmittedEvent = { fields: ev.fields, xml: ev.xml };
      state.cards.emitted.push(copy);
      return post(state, copy);
    },
  };
}
