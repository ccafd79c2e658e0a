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
 * @example
 * const sandbox = await startApiSandbox({ cards: { webhook: { url: `${bot}/wechat`, token } } });
 * await sandbox.cards.approveCard(cardId);          // the bot receives card_pass_check
 * const code = await sandbox.cards.claim('o_follower', cardId);
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Create_a_Coupon_Voucher_or_Card.html
 */
import { randomBytes } from 'node:crypto';
import { cjkLength } from '../cards/cjk-length';
import { shanghaiParts } from '../lib/clock';
import type { MessageCrypto } from '../wechat/crypto';
import { computeSignature } from '../wechat/signature';
import { buildXml } from '../wechat/xml';
import { SANDBOX_OK, SandboxApiError, type ApiSandbox, type SandboxRequest } from './api-server';

// === Public types

/**
 * The bot's webhook as the sandbox pushes to it: plain mode, or with `crypto` safe mode (the body
 * encrypted, `encrypt_type=aes` and `msg_signature` added), as WeChat pushes in the account's mode.
 */
export interface SandboxWebhook {
  url: string;
  token: string;
  crypto?: Pick<MessageCrypto, 'encrypt'>;
}

/** Options of the card sandbox (`startApiSandbox({ cards })`). */
export interface CardSandboxOptions {
  /** Where events are POSTed (signed with `token`). Settable later with `setWebhook`. */
  webhook?: SandboxWebhook;
  /** The account's original id, sent as ToUserName (default gh_sandbox0000). */
  accountId?: string;
  /** Approve every card and sub-merchant at once (the CLI's in-process sandbox). */
  autoApprove?: boolean;
}

/** A card as the sandbox holds it. */
export interface SandboxCard {
  cardId: string;
  type: string;
  /** The `card` object as created (updated by card/update). */
  card: Record<string, unknown>;
  status: 'CARD_STATUS_NOT_VERIFY' | 'CARD_STATUS_VERIFY_FAIL' | 'CARD_STATUS_VERIFY_OK' | 'CARD_STATUS_DELETE';
  refuseReason?: string;
  /** Remaining stock. */
  quantity: number;
  totalQuantity: number;
  merchantId?: number;
}

/** One code a follower holds (or held). */
export interface SandboxCode {
  code: string;
  cardId: string;
  openId: string;
  status: 'NORMAL' | 'CONSUMED' | 'GIFTING' | 'DELETE';
  receivedAt: number;
  outerStr?: string;
}

/** A sub-merchant as the sandbox holds it. */
export interface SandboxMerchant {
  merchantId: number;
  info: Record<string, unknown>;
  status: 'CHECKING' | 'APPROVED' | 'REJECTED' | 'EXPIRED';
  reason?: string;
  createTime: number;
  updateTime: number;
}

/** An event the sandbox pushed (or tried to push) to the webhook. */
export interface EmittedEvent {
  fields: Record<string, string | number>;
  xml: string;
  /** HTTP status of the webhook's answer (undefined when not delivered or no webhook). */
  status?: number;
  body?: string;
}

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
}

// === Rules WeChat applies (wechat-protocol.md §5.4)

const TYPES = new Set(['GROUPON', 'CASH', 'DISCOUNT', 'GIFT', 'GENERAL_COUPON', 'MEMBER_CARD']);
const CODE_TYPES = new Set(['CODE_TYPE_TEXT', 'CODE_TYPE_BARCODE', 'CODE_TYPE_QRCODE', 'CODE_TYPE_ONLY_QRCODE', 'CODE_TYPE_ONLY_BARCODE', 'CODE_TYPE_NONE']);
const COLOR = /^Color(0[1-9]0|100)$/;
const LIMITS: Record<string, number> = { brand_name: 12, title: 9, notice: 16, description: 1024, sub_title: 18 };
const SPECIAL: Record<string, string[]> = {
  GROUPON: ['deal_detail'],
  CASH: ['reduce_cost'],
  DISCOUNT: ['discount'],
  GIFT: ['gift'],
  GENERAL_COUPON: ['default_detail'],
};
const REVIEW_FIELDS = ['title', 'sub_title', 'brand_name', 'logo_url', 'description', 'notice', 'color'];
const CATEGORIES = [
  {
    primary_category_id: 1,
    category_name: '美食',
    secondary_category: [
      { secondary_category_id: 101, category_name: '粤菜', need_qualification_stuffs: ['food_service_license_id'], can_choose_prepaid_card: 1, can_choose_payment_card: 1 },
      { secondary_category_id: 102, category_name: '咖啡厅', need_qualification_stuffs: ['food_service_license_id'], can_choose_prepaid_card: 1, can_choose_payment_card: 1 },
    ],
  },
  {
    primary_category_id: 2,
    category_name: '购物',
    secondary_category: [{ secondary_category_id: 201, category_name: '便利店', need_qualification_stuffs: [], can_choose_prepaid_card: 0, can_choose_payment_card: 1 }],
  },
];
const DAY_S = 86400;

/**
 * Adds the card and sub-merchant routes to a sandbox. Called by `startApiSandbox` (the `cards` option);
 * callable on its own for a sandbox built elsewhere.
 *
 * @example const cards = installCardSandbox(sandbox, { webhook: { url, token } });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Create_a_Coupon_Voucher_or_Card.html
 */
export function installCardSandbox(sandbox: ApiSandbox, options: CardSandboxOptions = {}): CardSandbox {
  let webhook = options.webhook;
  const accountId = options.accountId ?? 'gh_sandbox0000';
  const cards = new Map<string, SandboxCard>();
  const codes = new Map<string, SandboxCode>();
  const merchants = new Map<number, SandboxMerchant>();
  const whitelist = new Set<string>();
  const emitted: EmittedEvent[] = [];
  const qrTickets = new Map<string, { cardId: string; outerStr?: string }>();
  const landingPages = new Map<string, { cardIds: string[] }>();
  const encrypted = new Map<string, string>();
  /** Per card and Beijing day: receive / verify / given counters for datacube. */
  const stats = new Map<string, { receive: number; receiveUsers: Set<string>; verify: number; verifyUsers: Set<string>; given: number; givenUsers: Set<string> }>();
  let nextMerchantId = 100001;
  let lastCreateTime = 0;

  const fail = (errcode: number, errmsg: string): never => {
    throw new SandboxApiError(errcode, errmsg);
  };
  const nowS = () => Math.floor(sandbox.now() / 1000);

  // --- events

  /** A CreateTime that never repeats within this sandbox (WeChat's dedupe uses it). */
  function createTime(): number {
    lastCreateTime = Math.max(nowS(), lastCreateTime + 1);
    return lastCreateTime;
  }

  async function post(ev: EmittedEvent): Promise<EmittedEvent> {
    if (!webhook) return ev;
    const timestamp = String(nowS());
    const nonce = randomBytes(6).toString('hex');
    const signature = computeSignature(webhook.token, timestamp, nonce);
    const sep = webhook.url.includes('?') ? '&' : '?';
    let query = `signature=${signature}&timestamp=${timestamp}&nonce=${nonce}`;
    let body = ev.xml;
    if (webhook.crypto) {
      const encrypt = webhook.crypto.encrypt(ev.xml);
      query += `&encrypt_type=aes&msg_signature=${computeSignature(webhook.token, timestamp, nonce, encrypt)}`;
      body = buildXml({ ToUserName: accountId, Encrypt: encrypt });
    }
    try {
      const res = await fetch(`${webhook.url}${sep}${query}`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/xml; charset=utf-8' },
        body,
      });
      ev.status = res.status;
      ev.body = await res.text();
    } catch {
      ev.status = undefined;
    }
    return ev;
  }

  async function emit(openId: string, event: string, fields: Record<string, string | number | undefined>): Promise<EmittedEvent> {
    const all: Record<string, string | number | undefined> = {
      ToUserName: accountId,
      FromUserName: openId,
      CreateTime: createTime(),
      MsgType: 'event',
      Event: event,
      ...fields,
    };
    const clean = Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as Record<string, string | number>;
    const ev: EmittedEvent = { fields: clean, xml: buildXml(clean) };
    emitted.push(ev);
    return post(ev);
  }

  function bump(cardId: string, what: 'receive' | 'verify' | 'given', openId: string): void {
    const key = `${cardId}|${shanghaiParts(sandbox.now()).isoDate}`;
    const s = stats.get(key) ?? { receive: 0, receiveUsers: new Set(), verify: 0, verifyUsers: new Set(), given: 0, givenUsers: new Set() };
    s[what] += 1;
    s[`${what}Users`].add(openId);
    stats.set(key, s);
  }

  // --- card validation

  function payloadOf(card: Record<string, unknown>): { type: string; payload: Record<string, unknown>; base: Record<string, unknown> } {
    const type = card.card_type;
    if (typeof type !== 'string' || !TYPES.has(type)) return fail(40071, 'invalid card type');
    const payload = card[(type as string).toLowerCase()];
    if (!payload || typeof payload !== 'object') return fail(41011, `missing required fields: ${(type as string).toLowerCase()}`);
    const base = (payload as Record<string, unknown>).base_info;
    if (!base || typeof base !== 'object') return fail(41011, 'missing required fields: base_info');
    return { type: type as string, payload: payload as Record<string, unknown>, base: base as Record<string, unknown> };
  }

  function checkBaseText(base: Record<string, unknown>, partial: boolean): void {
    for (const [field, max] of Object.entries(LIMITS)) {
      const v = base[field];
      if (v === undefined) continue;
      if (typeof v !== 'string') fail(47001, `data format error: ${field}`);
      if (cjkLength(v as string) > max) fail(45021, `${field} exceeds the length limit (${max})`);
    }
    if (base.color !== undefined && (typeof base.color !== 'string' || !COLOR.test(base.color))) fail(40071, 'invalid color');
    if (base.code_type !== undefined && !CODE_TYPES.has(String(base.code_type))) fail(40072, 'invalid code type');
    if (!partial) for (const f of ['logo_url', 'brand_name', 'code_type', 'title', 'color', 'notice', 'description', 'sku', 'date_info'])
      if (base[f] === undefined || base[f] === '') fail(41011, `missing required fields: base_info.${f}`);
  }

  function checkDateInfo(d: unknown): void {
    if (!d || typeof d !== 'object') return fail(41011, 'missing required fields: date_info');
    const di = d as Record<string, unknown>;
    if (di.type === 'DATE_TYPE_FIX_TIME_RANGE') {
      const b = Number(di.begin_timestamp);
      const e = Number(di.end_timestamp);
      if (!Number.isInteger(b) || !Number.isInteger(e) || b <= 0 || e <= b) fail(40079, 'invalid time: begin_timestamp/end_timestamp');
      if (e <= nowS()) fail(40079, 'invalid time: end_timestamp is in the past');
    } else if (di.type === 'DATE_TYPE_FIX_TERM') {
      if (!Number.isInteger(di.fixed_term) || (di.fixed_term as number) < 0) fail(40079, 'invalid time: fixed_term');
      if (di.fixed_begin_term !== undefined && (!Number.isInteger(di.fixed_begin_term) || (di.fixed_begin_term as number) < 0))
        fail(40079, 'invalid time: fixed_begin_term');
    } else fail(40079, 'invalid time: date_info.type');
  }

  function cardOf(req: SandboxRequest): { body: Record<string, unknown>; card: SandboxCard } {
    const body = req.json();
    const id = body.card_id;
    if (typeof id !== 'string' || id === '') return fail(41012, 'missing card_id');
    const card = cards.get(id as string);
    if (!card || card.status === 'CARD_STATUS_DELETE') return fail(40073, 'invalid card id');
    return { body, card: card as SandboxCard };
  }

  function baseOf(c: SandboxCard): Record<string, unknown> {
    return (c.card[c.type.toLowerCase()] as Record<string, unknown>).base_info as Record<string, unknown>;
  }

  function validity(c: SandboxCard, code: SandboxCode): { begin: number; end: number } {
    const d = (baseOf(c).date_info ?? {}) as Record<string, unknown>;
    if (d.type === 'DATE_TYPE_FIX_TIME_RANGE') return { begin: Number(d.begin_timestamp), end: Number(d.end_timestamp) };
    const got = Math.floor(code.receivedAt / 1000);
    const begin = got + Number(d.fixed_begin_term ?? 0) * DAY_S;
    const end = begin + (Number(d.fixed_term ?? 0) + 1) * DAY_S - 1;
    return { begin, end: d.end_timestamp ? Math.min(end, Number(d.end_timestamp)) : end };
  }

  // --- follower actions

  async function claim(openId: string, cardId: string, opts: { outerStr?: string } = {}): Promise<string> {
    const c = cards.get(cardId);
    if (!c || c.status === 'CARD_STATUS_DELETE') throw new SandboxApiError(40073, 'invalid card id');
    if (c.status !== 'CARD_STATUS_VERIFY_OK' && !whitelist.has(openId)) throw new SandboxApiError(40078, 'invalid card status: not approved');
    if (c.quantity <= 0) throw new SandboxApiError(45031, 'stock is zero');
    const limit = Number(baseOf(c).get_limit ?? 0);
    const held = [...codes.values()].filter((x) => x.cardId === cardId && x.openId === openId).length;
    if (limit > 0 && held >= limit) throw new SandboxApiError(45033, 'user get card num limit');
    c.quantity -= 1;
    let code: string;
    do code = String(100000000000 + Math.floor(Math.random() * 899999999999));
    while (codes.has(code));
    codes.set(code, { code, cardId, openId, status: 'NORMAL', receivedAt: sandbox.now(), outerStr: opts.outerStr });
    bump(cardId, 'receive', openId);
    await emit(openId, 'user_get_card', {
      CardId: cardId,
      IsGiveByFriend: 0,
      UserCardCode: code,
      OuterId: 0,
      OuterStr: opts.outerStr,
      IsRestoreMemberCard: 0,
    });
    return code;
  }

  function requireCode(code: string): SandboxCode {
    const c = codes.get(code);
    if (!c) throw new SandboxApiError(40056, 'invalid serial code');
    return c;
  }

  // --- routes: cards

  sandbox.route('POST', '/card/create', (req) => {
    const body = req.json();
    const card = body.card as Record<string, unknown> | undefined;
    if (!card || typeof card !== 'object') fail(41011, 'missing required fields: card');
    const { type, payload, base } = payloadOf(card as Record<string, unknown>);
    checkBaseText(base, false);
    checkDateInfo(base.date_info);
    const sku = base.sku as { quantity?: unknown } | undefined;
    const q = sku?.quantity;
    if (!Number.isInteger(q) || (q as number) <= 0 || (q as number) > 100_000_000) fail(40122, 'invalid quantity');
    for (const f of SPECIAL[type] ?? []) if (payload[f] === undefined || payload[f] === '') fail(41011, `missing required fields: ${f}`);
    if (type === 'DISCOUNT' && (!Number.isInteger(payload.discount) || (payload.discount as number) < 1 || (payload.discount as number) > 99))
      fail(47001, 'data format error: discount');
    if (type === 'CASH' && (!Number.isInteger(payload.reduce_cost) || (payload.reduce_cost as number) <= 0)) fail(47001, 'data format error: reduce_cost');
    let merchantId: number | undefined;
    const sub = base.sub_merchant_info as { merchant_id?: unknown } | undefined;
    if (sub !== undefined) {
      merchantId = Number(sub.merchant_id);
      const m = merchants.get(merchantId);
      if (!m) fail(41011, 'invalid merchant_id');
      if (m!.status !== 'APPROVED') fail(40078, `invalid merchant status: ${m!.status}`);
    }
    const cardId = `p${randomBytes(14).toString('base64url')}`;
    const sc: SandboxCard = {
      cardId,
      type,
      card: structuredClone(card as Record<string, unknown>),
      status: 'CARD_STATUS_NOT_VERIFY',
      quantity: q as number,
      totalQuantity: q as number,
      merchantId,
    };
    cards.set(cardId, sc);
    if (options.autoApprove) {
      sc.status = 'CARD_STATUS_VERIFY_OK';
      void emit(accountId, 'card_pass_check', { CardId: cardId, RefuseReason: '' });
    }
    return { ...SANDBOX_OK, card_id: cardId };
  });

  sandbox.route('POST', '/card/update', (req) => {
    const { body, card } = cardOf(req);
    const fields = body[card.type.toLowerCase()] as Record<string, unknown> | undefined;
    if (!fields || typeof fields !== 'object') fail(47001, `data format error: ${card.type.toLowerCase()} is required`);
    const base = (fields!.base_info ?? {}) as Record<string, unknown>;
    if (base.sku !== undefined) fail(47001, 'data format error: change stock with card/modifystock');
    for (const f of ['brand_name', 'code_type', 'sub_merchant_info']) if (base[f] !== undefined) fail(47001, `data format error: ${f} cannot be updated`);
    checkBaseText(base, true);
    if (base.date_info !== undefined) checkDateInfo(base.date_info);
    const current = card.card[card.type.toLowerCase()] as Record<string, unknown>;
    const merged = { ...current, ...fields, base_info: { ...(current.base_info as object), ...base } };
    card.card = { ...card.card, [card.type.toLowerCase()]: merged };
    const sendCheck = Object.keys(base).some((k) => REVIEW_FIELDS.includes(k));
    if (sendCheck && !options.autoApprove) card.status = 'CARD_STATUS_NOT_VERIFY';
    return { ...SANDBOX_OK, send_check: sendCheck };
  });

  sandbox.route('POST', '/card/get', (req) => {
    const { card } = cardOf(req);
    const lower = card.type.toLowerCase();
    const payload = structuredClone(card.card[lower]) as Record<string, unknown>;
    const base = payload.base_info as Record<string, unknown>;
    base.id = card.cardId;
    base.status = card.status;
    base.sku = { quantity: card.quantity, total_quantity: card.totalQuantity };
    return { ...SANDBOX_OK, card: { card_type: card.type, [lower]: payload } };
  });

  sandbox.route('POST', '/card/batchget', (req) => {
    const body = req.json();
    const offset = Number(body.offset ?? 0);
    const count = Number(body.count ?? 0);
    if (!Number.isInteger(count) || count < 1 || count > 50) fail(40053, 'invalid count');
    const statuses = Array.isArray(body.status_list) ? (body.status_list as string[]) : undefined;
    const all = [...cards.values()].filter((c) => !statuses || statuses.includes(c.status)).map((c) => c.cardId);
    return { ...SANDBOX_OK, card_id_list: all.slice(offset, offset + count), total_num: all.length };
  });

  sandbox.route('POST', '/card/modifystock', (req) => {
    const { body, card } = cardOf(req);
    const inc = Number(body.increase_stock_value ?? 0);
    const dec = Number(body.reduce_stock_value ?? 0);
    if (!Number.isInteger(inc) || !Number.isInteger(dec) || inc < 0 || dec < 0 || inc + dec === 0) fail(40122, 'invalid quantity');
    if (card.quantity + inc - dec < 0) fail(40122, 'invalid quantity: reduce exceeds the stock');
    if (card.quantity + inc - dec > 100_000_000) fail(40122, 'invalid quantity');
    card.quantity += inc - dec;
    card.totalQuantity += inc - dec;
    return { ...SANDBOX_OK };
  });

  sandbox.route('POST', '/card/delete', (req) => {
    const { card } = cardOf(req);
    card.status = 'CARD_STATUS_DELETE';
    return { ...SANDBOX_OK };
  });

  sandbox.route('POST', '/card/testwhitelist/set', (req) => {
    const body = req.json();
    const ids = Array.isArray(body.openid) ? body.openid : [];
    const names = Array.isArray(body.username) ? body.username : [];
    if (ids.length + names.length === 0) fail(41011, 'missing required fields: openid or username');
    if (ids.length + names.length > 10) fail(40053, 'too many whitelist entries (at most 10 in the sandbox)');
    for (const id of ids) whitelist.add(String(id));
    return { ...SANDBOX_OK };
  });

  sandbox.route('POST', '/card/qrcode/create', (req) => {
    const body = req.json();
    if (body.action_name !== 'QR_CARD') fail(40053, 'invalid action info: only QR_CARD in the sandbox');
    const info = ((body.action_info as Record<string, unknown> | undefined)?.card ?? {}) as Record<string, unknown>;
    const c = cards.get(String(info.card_id ?? ''));
    if (!c || c.status === 'CARD_STATUS_DELETE') fail(40073, 'invalid card id');
    if (c!.status !== 'CARD_STATUS_VERIFY_OK') fail(40078, 'invalid card status: not approved');
    if (body.expire_seconds !== undefined && (!Number.isInteger(body.expire_seconds) || (body.expire_seconds as number) < 60 || (body.expire_seconds as number) > 1800))
      fail(40053, 'invalid expire_seconds');
    if (info.outer_str !== undefined && (typeof info.outer_str !== 'string' || info.outer_str.length > 128)) fail(45021, 'outer_str too long');
    const ticket = `gQ${randomBytes(24).toString('base64url')}`;
    qrTickets.set(ticket, { cardId: c!.cardId, outerStr: info.outer_str as string | undefined });
    const out: Record<string, unknown> = {
      ...SANDBOX_OK,
      ticket,
      url: `http://weixin.qq.com/q/${randomBytes(12).toString('base64url')}`,
      show_qrcode_url: `https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=${encodeURIComponent(ticket)}`,
    };
    if (body.expire_seconds !== undefined) out.expire_seconds = body.expire_seconds;
    return out;
  });

  sandbox.route('POST', '/card/landingpage/create', (req) => {
    const body = req.json();
    for (const f of ['banner', 'page_title', 'scene']) if (typeof body[f] !== 'string' || body[f] === '') fail(41011, `missing required fields: ${f}`);
    const list = body.card_list;
    if (!Array.isArray(list) || list.length === 0) fail(41011, 'missing required fields: card_list');
    const ids: string[] = [];
    for (const item of list as Record<string, unknown>[]) {
      const c = cards.get(String(item.card_id ?? ''));
      if (!c) fail(40073, 'invalid card id');
      if (c!.status !== 'CARD_STATUS_VERIFY_OK') fail(40078, 'invalid card status: not approved');
      ids.push(c!.cardId);
    }
    const pageId = landingPages.size + 1;
    const url = `https://mp.weixin.qq.com/bizmall/cardlandingpage?biz=sandbox&page_id=${pageId}&scene=${String(body.scene)}`;
    landingPages.set(String(pageId), { cardIds: ids });
    return { ...SANDBOX_OK, url, page_id: pageId };
  });

  sandbox.route('POST', '/card/code/get', (req) => {
    const body = req.json();
    const c = requireCode(String(body.code ?? ''));
    if (body.card_id !== undefined && body.card_id !== c.cardId) fail(40056, 'invalid serial code: not a code of this card');
    const card = cards.get(c.cardId)!;
    const check = body.check_consume !== false;
    if (check && c.status === 'CONSUMED') fail(40099, 'invalid code, this code has consumed.');
    if (check && (c.status === 'DELETE' || c.status === 'GIFTING')) fail(40127, 'the code was deleted or is being gifted');
    const { begin, end } = validity(card, c);
    const inDates = nowS() >= begin && nowS() <= end;
    return {
      ...SANDBOX_OK,
      card: { card_id: c.cardId, begin_time: begin, end_time: end },
      openid: c.openId,
      can_consume: c.status === 'NORMAL' && inDates,
      user_card_status: c.status === 'NORMAL' && nowS() > end ? 'EXPIRE' : c.status,
    };
  });

  sandbox.route('POST', '/card/code/consume', async (req) => {
    const body = req.json();
    const c = requireCode(String(body.code ?? ''));
    if (body.card_id !== undefined && body.card_id !== c.cardId) fail(40056, 'invalid serial code: not a code of this card');
    if (c.status === 'CONSUMED') fail(40099, 'invalid code, this code has consumed.');
    if (c.status !== 'NORMAL') fail(40127, 'the code was deleted or is being gifted');
    const { begin, end } = validity(cards.get(c.cardId)!, c);
    if (nowS() < begin || nowS() > end) fail(40079, 'invalid time: the code is not within its dates');
    c.status = 'CONSUMED';
    bump(c.cardId, 'verify', c.openId);
    await emit(c.openId, 'user_consume_card', { CardId: c.cardId, UserCardCode: c.code, ConsumeSource: 'FROM_API', LocationName: '', StaffOpenId: '' });
    return { ...SANDBOX_OK, card: { card_id: c.cardId }, openid: c.openId };
  });

  sandbox.route('POST', '/card/code/decrypt', (req) => {
    const body = req.json();
    const code = encrypted.get(String(body.encrypt_code ?? ''));
    if (!code) fail(40056, 'invalid encrypt code');
    return { ...SANDBOX_OK, code };
  });

  sandbox.route('POST', '/card/user/getcardlist', (req) => {
    const body = req.json();
    if (typeof body.openid !== 'string' || body.openid === '') fail(41011, 'missing required fields: openid');
    const list = [...codes.values()]
      .filter((c) => c.openId === body.openid && c.status === 'NORMAL' && (body.card_id === undefined || c.cardId === body.card_id))
      .map((c) => ({ code: c.code, card_id: c.cardId }));
    return { ...SANDBOX_OK, card_list: list, has_share_card: false };
  });

  sandbox.route('POST', '/datacube/getcardcardinfo', (req) => {
    const body = req.json();
    const b = String(body.begin_date ?? '');
    const e = String(body.end_date ?? '');
    if (!/^\d{4}-\d{2}-\d{2}$/.test(b) || !/^\d{4}-\d{2}-\d{2}$/.test(e) || b > e) fail(61500, 'date format error');
    const list = [...stats.entries()]
      .map(([k, s]) => ({ k: k.split('|'), s }))
      .filter(({ k }) => k[1] >= b && k[1] <= e && (body.card_id === undefined || body.card_id === k[0]))
      .map(({ k, s }) => ({
        ref_date: k[1],
        card_id: k[0],
        card_type: 0,
        view_cnt: 0,
        view_user: 0,
        receive_cnt: s.receive,
        receive_user: s.receiveUsers.size,
        verify_cnt: s.verify,
        verify_user: s.verifyUsers.size,
        given_cnt: s.given,
        given_user: s.givenUsers.size,
        expire_cnt: 0,
        expire_user: 0,
      }));
    return { ...SANDBOX_OK, list };
  });

  // --- routes: sub-merchants

  function checkMerchantInfo(info: Record<string, unknown>): void {
    for (const f of ['brand_name', 'logo_url', 'protocol', 'end_time', 'primary_category_id', 'secondary_category_id'])
      if (info[f] === undefined || info[f] === '') fail(41011, `missing required fields: ${f}`);
    if (typeof info.brand_name !== 'string' || cjkLength(info.brand_name) > 12) fail(45021, 'brand_name exceeds the length limit (12)');
    if (!Number.isInteger(info.end_time) || (info.end_time as number) <= nowS()) fail(40079, 'invalid time: end_time');
    const p = CATEGORIES.find((c) => c.primary_category_id === info.primary_category_id);
    if (!p || !p.secondary_category.some((s) => s.secondary_category_id === info.secondary_category_id)) fail(40053, 'invalid category id');
  }

  function merchantInfo(m: SandboxMerchant): Record<string, unknown> {
    return {
      merchant_id: m.merchantId,
      app_id: m.info.app_id ?? '',
      create_time: Math.floor(m.createTime / 1000),
      update_time: Math.floor(m.updateTime / 1000),
      brand_name: m.info.brand_name,
      logo_url: m.info.logo_url,
      status: m.status,
      begin_time: Math.floor(m.createTime / 1000),
      end_time: m.info.end_time,
      primary_category_id: m.info.primary_category_id,
      secondary_category_id: m.info.secondary_category_id,
    };
  }

  function afterSubmit(m: SandboxMerchant): void {
    if (options.autoApprove) {
      m.status = 'APPROVED';
      void emit(accountId, 'card_merchant_check_result', { MerchantId: m.merchantId, IsPass: 1, Reason: '' });
    }
  }

  sandbox.route('POST', '/card/submerchant/submit', (req) => {
    const info = (req.json().info ?? {}) as Record<string, unknown>;
    checkMerchantInfo(info);
    const m: SandboxMerchant = { merchantId: nextMerchantId++, info: { ...info }, status: 'CHECKING', createTime: sandbox.now(), updateTime: sandbox.now() };
    merchants.set(m.merchantId, m);
    afterSubmit(m);
    return { ...SANDBOX_OK, info: merchantInfo(m) };
  });

  sandbox.route('POST', '/card/submerchant/update', (req) => {
    const info = (req.json().info ?? {}) as Record<string, unknown>;
    const m = merchants.get(Number(info.merchant_id));
    if (!m) fail(41011, 'invalid merchant_id');
    checkMerchantInfo(info);
    const { merchant_id: _, ...rest } = info;
    m!.info = rest;
    m!.status = 'CHECKING';
    m!.reason = undefined;
    m!.updateTime = sandbox.now();
    afterSubmit(m!);
    return { ...SANDBOX_OK, info: merchantInfo(m!) };
  });

  sandbox.route('POST', '/card/submerchant/get', (req) => {
    const m = merchants.get(Number(req.json().merchant_id));
    if (!m) fail(41011, 'invalid merchant_id');
    return { ...SANDBOX_OK, info: merchantInfo(m!) };
  });

  sandbox.route('POST', '/card/submerchant/batchget', (req) => {
    const body = req.json();
    const begin = Number(body.begin_id ?? 0);
    const limit = Number(body.limit ?? 0);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) fail(40053, 'invalid limit');
    const all = [...merchants.values()].filter((m) => m.merchantId >= begin && (body.status === undefined || m.status === body.status));
    const page = all.slice(0, limit);
    const next = all.length > limit ? all[limit]!.merchantId : 0;
    return { ...SANDBOX_OK, info_list: page.map(merchantInfo), next_begin_id: next };
  });

  sandbox.route('GET', '/card/getapplyprotocol', () => ({ ...SANDBOX_OK, category: structuredClone(CATEGORIES) }));

  // --- controls

  function requireCard(cardId: string): SandboxCard {
    const c = cards.get(cardId);
    if (!c) throw new Error(`sandbox: no card ${cardId}`);
    return c;
  }
  function requireMerchant(id: number): SandboxMerchant {
    const m = merchants.get(id);
    if (!m) throw new Error(`sandbox: no sub-merchant ${id}`);
    return m;
  }

  return {
    setWebhook(w) {
      webhook = w;
    },
    cards,
    codes,
    merchants,
    whitelist,
    emitted,
    async approveCard(cardId) {
      const c = requireCard(cardId);
      c.status = 'CARD_STATUS_VERIFY_OK';
      c.refuseReason = undefined;
      return emit(accountId, 'card_pass_check', { CardId: cardId, RefuseReason: '' });
    },
    async rejectCard(cardId, reason) {
      const c = requireCard(cardId);
      c.status = 'CARD_STATUS_VERIFY_FAIL';
      c.refuseReason = reason;
      return emit(accountId, 'card_not_pass_check', { CardId: cardId, RefuseReason: reason });
    },
    async approveMerchant(id) {
      const m = requireMerchant(id);
      m.status = 'APPROVED';
      m.reason = undefined;
      return emit(accountId, 'card_merchant_check_result', { MerchantId: id, IsPass: 1, Reason: '' });
    },
    async rejectMerchant(id, reason) {
      const m = requireMerchant(id);
      m.status = 'REJECTED';
      m.reason = reason;
      return emit(accountId, 'card_merchant_check_result', { MerchantId: id, IsPass: 0, Reason: reason });
    },
    claim,
    async scanQrCode(openId, ticket) {
      const t = qrTickets.get(ticket);
      if (!t) throw new SandboxApiError(40053, 'unknown QR ticket');
      return claim(openId, t.cardId, { outerStr: t.outerStr });
    },
    async claimFromLandingPage(openId, url) {
      const u = new URL(url);
      const page = landingPages.get(u.searchParams.get('page_id') ?? '');
      if (!page) throw new SandboxApiError(40053, 'unknown landing page');
      return claim(openId, page.cardIds[0]!, { outerStr: u.searchParams.get('outer_str') ?? undefined });
    },
    async gift(code, toOpenId) {
      const c = requireCode(code);
      if (c.status !== 'NORMAL') throw new SandboxApiError(40127, 'the code was deleted or is being gifted');
      const card = requireCard(c.cardId);
      c.status = 'GIFTING';
      await emit(c.openId, 'user_gifting_card', { CardId: c.cardId, UserCardCode: code, IsReturnBack: 0, FriendUserName: toOpenId, IsChatRoom: 0 });
      let next: string;
      do next = String(100000000000 + Math.floor(Math.random() * 899999999999));
      while (codes.has(next));
      codes.set(next, { code: next, cardId: c.cardId, openId: toOpenId, status: 'NORMAL', receivedAt: sandbox.now() });
      c.status = 'DELETE';
      bump(card.cardId, 'given', c.openId);
      await emit(toOpenId, 'user_get_card', {
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
      const c = requireCode(code);
      c.status = 'DELETE';
      return emit(c.openId, 'user_del_card', { CardId: c.cardId, UserCardCode: code });
    },
    encryptCode(code) {
      requireCode(code);
      const enc = randomBytes(24).toString('base64');
      encrypted.set(enc, code);
      return enc;
    },
    redeliver(ev) {
      const copy: EmittedEvent = { fields: ev.fields, xml: ev.xml };
      emitted.push(copy);
      return post(copy);
    },
  };
}
