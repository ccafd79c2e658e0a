/**
 * Card coupons (卡券): create and maintain cards, hand them out (QR codes, landing pages), check and
 * redeem codes, read WeChat's statistics, and the sub-merchants of developer-assisted coupon making
 * (`api.card.submerchant`). Every call goes through the client's one request function (token,
 * errors, retries); `post()` reaches any other `/card/...` endpoint.
 *
 * A different account's token (third-party platform acting for an authorizer) is used by building a
 * second client with that account's `TokenProvider`: see `TokenProvider` in `access-token.ts`.
 *
 * @example
 * const cardId = await api.card.create({ card_type: 'CASH', cash: { base_info, least_cost: 1000, reduce_cost: 200 } });
 * const code = await api.card.codeGet('110201201245', { checkConsume: true });
 * if (code.canConsume) await api.card.codeConsume('110201201245');
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Create_a_Coupon_Voucher_or_Card.html
 */
import type { ApiRequest, ApiResult } from './request';
import { createSubMerchantApi, type SubMerchantApi } from './submerchant';

// === Values

/** The five general coupon types and the member card this bot makes. */
export type CardType = 'GROUPON' | 'CASH' | 'DISCOUNT' | 'GIFT' | 'GENERAL_COUPON' | 'MEMBER_CARD';

/** Every card type, in WeChat's spelling. */
export const CARD_TYPES: readonly CardType[] = ['GROUPON', 'CASH', 'DISCOUNT', 'GIFT', 'GENERAL_COUPON', 'MEMBER_CARD'];

/** Review/lifecycle status of a card (`base_info.status` of `card/get`). */
export type CardStatus = 'CARD_STATUS_NOT_VERIFY' | 'CARD_STATUS_VERIFY_FAIL' | 'CARD_STATUS_VERIFY_OK' | 'CARD_STATUS_DELETE' | 'CARD_STATUS_DISPATCH';

/** Status of one code as `card/code/get` reports it. */
export type UserCardStatus = 'NORMAL' | 'CONSUMED' | 'EXPIRE' | 'GIFTING' | 'GIFT_TIMEOUT' | 'DELETE' | 'UNAVAILABLE';

/** `card/code/get` answer, camelCase. */
export interface CardCodeInfo {
  cardId: string;
  /** Epoch seconds (0 when WeChat did not say). */
  beginTime: number;
  endTime: number;
  openId: string;
  canConsume: boolean;
  userCardStatus: UserCardStatus | string;
}

/** Where a landing page is shown (its `scene`). */
export type LandingPageScene = 'SCENE_NEAR_BY' | 'SCENE_MENU' | 'SCENE_QRCODE' | 'SCENE_ARTICLE' | 'SCENE_H5' | 'SCENE_IVR' | 'SCENE_CARD_CUSTOM_CELL';

/** One day of one card in `datacube/getcardcardinfo`. */
export interface CardStatsRow {
  refDate: string;
  cardId: string;
  cardType?: number;
  viewCount: number;
  viewUsers: number;
  receiveCount: number;
  receiveUsers: number;
  verifyCount: number;
  verifyUsers: number;
  givenCount: number;
  givenUsers: number;
  expireCount: number;
  expireUsers: number;
}

/**
 * `api.card`.
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Create_a_Coupon_Voucher_or_Card.html
 */
export interface CardApi {
  /** `POST /card/<path>` with a JSON body, through the client's request function (token, errors, retries). */
  post<T = ApiResult>(path: string, body: unknown): Promise<T>;
  /** `card/create` with the `card` object (`{ card_type, <type lower>: { base_info, … } }`) → card_id. */
  create(card: Record<string, unknown>): Promise<string>;
  /**
   * `card/update`: `fields` is the `<type lower>` object holding only what changes (`base_info` subset
   * and/or the type's own fields). `sendCheck` true means the change sends the card back to review.
   */
  update(cardId: string, type: CardType, fields: Record<string, unknown>): Promise<{ sendCheck: boolean }>;
  /** `card/get` → the `card` object (incl. `<type>.base_info.status`). */
  get(cardId: string): Promise<Record<string, unknown>>;
  /** `card/batchget` (count ≤ 50). */
  batchGet(opts?: { offset?: number; count?: number; statusList?: CardStatus[] }): Promise<{ cardIds: string[]; total: number }>;
  /** `card/modifystock`: positive `delta` increases, negative reduces. 0 does nothing. */
  modifyStock(cardId: string, delta: number): Promise<void>;
  delete(cardId: string): Promise<void>;
  /** `card/testwhitelist/set`: who may receive unreviewed cards (openids and/or WeChat user names). */
  setTestWhitelist(who: { openIds?: string[]; usernames?: string[] }): Promise<void>;
  /** `card/qrcode/create` for one card (`QR_CARD`); `outerStr` comes back in `user_get_card.OuterStr`. */
  createQrCode(opts: { cardId: string; outerStr?: string; openId?: string; code?: string; isUniqueCode?: boolean; expireSeconds?: number }): Promise<{
    ticket: string;
    url: string;
    showQrcodeUrl: string;
    expireSeconds?: number;
  }>;
  /** `card/landingpage/create`. */
  createLandingPage(opts: {
    banner: string;
    title: string;
    canShare: boolean;
    scene: LandingPageScene;
    cards: { cardId: string; thumbUrl: string }[];
  }): Promise<{ url: string; pageId: number }>;
  /** `card/code/get` (`checkConsume` true: WeChat also says whether it may be consumed now). */
  codeGet(code: string, opts?: { cardId?: string; checkConsume?: boolean }): Promise<CardCodeInfo>;
  /** `card/code/consume` (card_id needed for custom-code cards). */
  codeConsume(code: string, cardId?: string): Promise<{ cardId: string; openId: string }>;
  /** `card/code/decrypt`: the `encrypt_code` of a card page URL / JS-SDK → the real code. */
  codeDecrypt(encryptCode: string): Promise<string>;
  /** `card/user/getcardlist`: the codes a follower holds (of one card when `cardId` is given). */
  userCardList(openId: string, cardId?: string): Promise<{ code: string; cardId: string }[]>;
  /**
   * `card/membercard/activateuserform/set`: the one-click activation form of a member card
   * (`required_form` / `optional_form` with `common_field_id_list`, `custom_field_list`).
   * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Membership_Cards/Manage_Member_Card.html
   */
  setActivateUserForm(form: Record<string, unknown> & { card_id: string }): Promise<void>;
  /** `card/paycell/set`: quick pay (快速买单) from the card on or off. */
  setPayCell(cardId: string, isOpen: boolean): Promise<void>;
  /** `card/selfconsumecell/set`: self redemption (自助核销) on or off, with its two prompts. */
  setSelfConsumeCell(cardId: string, cell: { isOpen: boolean; needVerifyCod?: boolean; needRemarkAmount?: boolean }): Promise<void>;
  /**
   * `datacube/getcardcardinfo`: per-card, per-day statistics (dates `YYYY-MM-DD`, Beijing time;
   * `condSource` 0 = cards made on the MP platform, 1 = made through the API).
   */
  stats(opts: { beginDate: string; endDate: string; condSource?: 0 | 1; cardId?: string }): Promise<CardStatsRow[]>;
  /** Sub-merchants of developer-assisted coupon making. */
  submerchant: SubMerchantApi;
}

// === Helpers

function requireText(name: string, v: unknown): void {
  if (typeof v !== 'string' || v === '') throw new TypeError(`card: ${name} is required`);
}

const num = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'string' && v !== '' && !Number.isNaN(Number(v)) ? Number(v) : 0);

/**
 * Builds `api.card` over the client's request function.
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Create_a_Coupon_Voucher_or_Card.html
 */
export function createCardApi(request: ApiRequest): CardApi {
  function post<T = ApiResult>(path: string, body: unknown): Promise<T> {
    const clean = path.replace(/^\/+/, '').replace(/^card\//, '');
    if (clean === '' || clean.includes('?')) throw new TypeError(`card.post: "${path}" is not a card endpoint path`);
    return request<T>('POST', `/card/${clean}`, { body });
  }

  return {
    post,
    async create(card) {
      if (!card || typeof card.card_type !== 'string') throw new TypeError('card.create: card.card_type is required');
      const res = await post<{ card_id?: string }>('create', { card });
      if (typeof res.card_id !== 'string' || res.card_id === '') throw new TypeError('card.create: WeChat answered without card_id');
      return res.card_id;
    },
    async update(cardId, type, fields) {
      requireText('cardId', cardId);
      const res = await post<{ send_check?: boolean }>('update', { card_id: cardId, [type.toLowerCase()]: fields });
      return { sendCheck: res.send_check === true };
    },
    async get(cardId) {
      requireText('cardId', cardId);
      const res = await post<{ card?: Record<string, unknown> }>('get', { card_id: cardId });
      return res.card ?? {};
    },
    async batchGet(opts = {}) {
      const count = opts.count ?? 50;
      if (!Number.isInteger(count) || count < 1 || count > 50) throw new TypeError('card.batchGet: count must be 1–50');
      const body: Record<string, unknown> = { offset: opts.offset ?? 0, count };
      if (opts.statusList) body.status_list = opts.statusList;
      const res = await post<{ card_id_list?: string[]; total_num?: number }>('batchget', body);
      return { cardIds: res.card_id_list ?? [], total: num(res.total_num) };
    },
    async modifyStock(cardId, delta) {
      requireText('cardId', cardId);
      if (!Number.isSafeInteger(delta)) throw new TypeError('card.modifyStock: delta must be an integer');
      if (delta === 0) return;
      await post('modifystock', delta > 0 ? { card_id: cardId, increase_stock_value: delta } : { card_id: cardId, reduce_stock_value: -delta });
    },
    async delete(cardId) {
      requireText('cardId', cardId);
      await post('delete', { card_id: cardId });
    },
    async setTestWhitelist(who) {
      const openid = who.openIds ?? [];
      const username = who.usernames ?? [];
      if (openid.length + username.length === 0) throw new TypeError('card.setTestWhitelist: give at least one openid or user name');
      await post('testwhitelist/set', { openid, username });
    },
    async createQrCode(o) {
      requireText('cardId', o.cardId);
      if (o.expireSeconds !== undefined && (!Number.isInteger(o.expireSeconds) || o.expireSeconds < 60 || o.expireSeconds > 1800))
        throw new TypeError('card.createQrCode: expireSeconds must be 60–1800 (omit for a permanent code)');
      const card: Record<string, unknown> = { card_id: o.cardId };
      if (o.code) card.code = o.code;
      if (o.openId) card.openid = o.openId;
      if (o.isUniqueCode !== undefined) card.is_unique_code = o.isUniqueCode;
      if (o.outerStr) card.outer_str = o.outerStr;
      const body: Record<string, unknown> = { action_name: 'QR_CARD', action_info: { card } };
      if (o.expireSeconds !== undefined) body.expire_seconds = o.expireSeconds;
      const res = await post<{ ticket?: string; url?: string; show_qrcode_url?: string; expire_seconds?: number }>('qrcode/create', body);
      const out = { ticket: String(res.ticket ?? ''), url: String(res.url ?? ''), showQrcodeUrl: String(res.show_qrcode_url ?? '') };
      return res.expire_seconds !== undefined ? { ...out, expireSeconds: num(res.expire_seconds) } : out;
    },
    async createLandingPage(o) {
      if (!Array.isArray(o.cards) || o.cards.length === 0) throw new TypeError('card.createLandingPage: at least one card');
      const res = await post<{ url?: string; page_id?: number }>('landingpage/create', {
        banner: o.banner,
        page_title: o.title,
        can_share: o.canShare,
        scene: o.scene,
        card_list: o.cards.map((c) => ({ card_id: c.cardId, thumb_url: c.thumbUrl })),
      });
      return { url: String(res.url ?? ''), pageId: num(res.page_id) };
    },
    async codeGet(code, opts = {}) {
      requireText('code', code);
      const body: Record<string, unknown> = { code, check_consume: opts.checkConsume ?? true };
      if (opts.cardId) body.card_id = opts.cardId;
      const res = await post<{ card?: Record<string, unknown>; openid?: string; can_consume?: boolean; user_card_status?: string }>('code/get', body);
      return {
        cardId: String(res.card?.card_id ?? ''),
        beginTime: num(res.card?.begin_time),
        endTime: num(res.card?.end_time),
        openId: String(res.openid ?? ''),
        canConsume: res.can_consume === true,
        userCardStatus: String(res.user_card_status ?? ''),
      };
    },
    async codeConsume(code, cardId) {
      requireText('code', code);
      const res = await post<{ card?: { card_id?: string }; openid?: string }>('code/consume', cardId ? { code, card_id: cardId } : { code });
      return { cardId: String(res.card?.card_id ?? cardId ?? ''), openId: String(res.openid ?? '') };
    },
    async codeDecrypt(encryptCode) {
      requireText('encryptCode', encryptCode);
      const res = await post<{ code?: string }>('code/decrypt', { encrypt_code: encryptCode });
      return String(res.code ?? '');
    },
    async userCardList(openId, cardId) {
      requireText('openId', openId);
      const res = await post<{ card_list?: { code?: string; card_id?: string }[] }>(
        'user/getcardlist',
        cardId ? { openid: openId, card_id: cardId } : { openid: openId },
      );
      return (res.card_list ?? []).map((c) => ({ code: String(c.code ?? ''), cardId: String(c.card_id ?? '') }));
    },
    async setActivateUserForm(form) {
      requireText('card_id', form.card_id);
      await post('membercard/activateuserform/set', form);
    },
    async setPayCell(cardId, isOpen) {
      requireText('cardId', cardId);
      await post('paycell/set', { card_id: cardId, is_open: isOpen });
    },
    async setSelfConsumeCell(cardId, cell) {
      requireText('cardId', cardId);
      await post('selfconsumecell/set', {
        card_id: cardId,
        is_open: cell.isOpen,
        need_verify_cod: cell.needVerifyCod ?? false,
        need_remark_amount: cell.needRemarkAmount ?? false,
      });
    },
    async stats(o) {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(o.beginDate) || !/^\d{4}-\d{2}-\d{2}$/.test(o.endDate)) throw new TypeError('card.stats: dates must be YYYY-MM-DD');
      const body: Record<string, unknown> = { begin_date: o.beginDate, end_date: o.endDate, cond_source: o.condSource ?? 1 };
      if (o.cardId) body.card_id = o.cardId;
      const res = await request<{ list?: Record<string, unknown>[] }>('POST', '/datacube/getcardcardinfo', { body });
      return (res.list ?? []).map((r) => ({
        refDate: String(r.ref_date ?? ''),
        cardId: String(r.card_id ?? ''),
        cardType: r.card_type === undefined ? undefined : num(r.card_type),
        viewCount: num(r.view_cnt),
        viewUsers: num(r.view_user),
        receiveCount: num(r.receive_cnt),
        receiveUsers: num(r.receive_user),
        verifyCount: num(r.verify_cnt),
        verifyUsers: num(r.verify_user),
        givenCount: num(r.given_cnt),
        givenUsers: num(r.given_user),
        expireCount: num(r.expire_cnt),
        expireUsers: num(r.expire_user),
      }));
    },
    submerchant: createSubMerchantApi(request),
  };
}
