/**
 * The card endpoints of the API sandbox (卡券): `card/create` checks the fields as WeChat does and
 * puts the card in review (CARD_STATUS_NOT_VERIFY; approved at once with `autoApprove`, emitting
 * `card_pass_check`); `card/update` (review fields send it back to review), `get`, `batchget`,
 * `modifystock`, `delete`, the test whitelist, card QR codes and landing pages.
 *
 * @example const { card_id } = await api.card.create(card); await sandbox.cards.approveCard(card_id);
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Create_a_Coupon_Voucher_or_Card.html
 */
import { randomBytes } from 'node:crypto';
import { reviewCard } from './api-card-events';
import { cardOf, checkBaseText, checkDateInfo, payloadOf, REVIEW_FIELDS, SPECIAL } from './api-card-rules';
import type { SandboxCard } from './api-card-state';
import { batchPage, fail, SANDBOX_OK, type ApiRouteTable } from './api-route';
import { checkMemberCard } from './api-member-card-routes';

export const cardRoutes: ApiRouteTable = [
  {
    method: 'POST',
    path: '/card/create',
    handle(req, state) {
      const body = req.json();
      const card = body.card as Record<string, unknown> | undefined;
      if (!card || typeof card !== 'object') fail(41011, 'missing required fields: card');
      const { type, payload, base } = payloadOf(card as Record<string, unknown>);
      checkBaseText(base, false);
      checkDateInfo(state, base.date_info);
      const sku = base.sku as { quantity?: unknown } | undefined;
      const q = sku?.quantity;
      if (!Number.isInteger(q) || (q as number) <= 0 || (q as number) > 100_000_000) fail(40122, 'invalid quantity');
      for (const f of SPECIAL[type] ?? []) if (payload[f] === undefined || payload[f] === '') fail(41011, `missing required fields: ${f}`);
      if (type === 'DISCOUNT' && (!Number.isInteger(payload.discount) || (payload.discount as number) < 1 || (payload.discount as number) > 99))
        fail(47001, 'data format error: discount');
      if (type === 'MEMBER_CARD') checkMemberCard(payload, false);
      if (type === 'CASH' && (!Number.isInteger(payload.reduce_cost) || (payload.reduce_cost as number) <= 0)) fail(47001, 'data format error: reduce_cost');
      let merchantId: number | undefined;
      const sub = base.sub_merchant_info as { merchant_id?: unknown } | undefined;
      if (sub !== undefined) {
        merchantId = Number(sub.merchant_id);
        const m = state.cards.merchants.get(merchantId);
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
      state.cards.cards.set(cardId, sc);
      if (state.cards.autoApprove) void reviewCard(state, sc);
      return { ...SANDBOX_OK, card_id: cardId };
    },
  },
  {
    method: 'POST',
    path: '/card/update',
    handle(req, state) {
      const { body, card } = cardOf(state, req);
      const fields = body[card.type.toLowerCase()] as Record<string, unknown> | undefined;
      if (!fields || typeof fields !== 'object') fail(47001, `data format error: ${card.type.toLowerCase()} is required`);
      const base = (fields!.base_info ?? {}) as Record<string, unknown>;
      if (base.sku !== undefined) fail(47001, 'data format error: change stock with card/modifystock');
      for (const f of ['brand_name', 'code_type', 'sub_merchant_info']) if (base[f] !== undefined) fail(47001, `data format error: ${f} cannot be updated`);
      checkBaseText(base, true);
      if (base.date_info !== undefined) checkDateInfo(state, base.date_info);
      if (card.type === 'MEMBER_CARD') checkMemberCard(fields!, true);
      const current = card.card[card.type.toLowerCase()] as Record<string, unknown>;
      const merged = { ...current, ...fields, base_info: { ...(current.base_info as object), ...base } };
      card.card = { ...card.card, [card.type.toLowerCase()]: merged };
      const sendCheck = Object.keys(base).some((k) => REVIEW_FIELDS.includes(k));
      if (sendCheck && !state.cards.autoApprove) card.status = 'CARD_STATUS_NOT_VERIFY';
      return { ...SANDBOX_OK, send_check: sendCheck };
    },
  },
  {
    method: 'POST',
    path: '/card/get',
    handle(req, state) {
      const { card } = cardOf(state, req);
      const lower = card.type.toLowerCase();
      const payload = structuredClone(card.card[lower]) as Record<string, unknown>;
      const base = payload.base_info as Record<string, unknown>;
      base.id = card.cardId;
      base.status = card.status;
      base.sku = { quantity: card.quantity, total_quantity: card.totalQuantity };
      return { ...SANDBOX_OK, card: { card_type: card.type, [lower]: payload } };
    },
  },
  {
    method: 'POST',
    path: '/card/batchget',
    handle(req, state) {
      const body = req.json();
      const { start: offset, size: count } = batchPage(body, 'offset', 'count', 50);
      const statuses = Array.isArray(body.status_list) ? (body.status_list as string[]) : undefined;
      const all = [...state.cards.cards.values()].filter((c) => !statuses || statuses.includes(c.status)).map((c) => c.cardId);
      return { ...SANDBOX_OK, card_id_list: all.slice(offset, offset + count), total_num: all.length };
    },
  },
  {
    method: 'POST',
    path: '/card/modifystock',
    handle(req, state) {
      const { body, card } = cardOf(state, req);
      const inc = Number(body.increase_stock_value ?? 0);
      const dec = Number(body.reduce_stock_value ?? 0);
      if (!Number.isInteger(inc) || !Number.isInteger(dec) || inc < 0 || dec < 0 || inc + dec === 0) fail(40122, 'invalid quantity');
      if (card.quantity + inc - dec < 0) fail(40122, 'invalid quantity: reduce exceeds the stock');
      if (card.quantity + inc - dec > 100_000_000) fail(40122, 'invalid quantity');
      card.quantity += inc - dec;
      card.totalQuantity += inc - dec;
      return { ...SANDBOX_OK };
    },
  },
  {
    method: 'POST',
    path: '/card/delete',
    handle(req, state) {
      const { card } = cardOf(state, req);
      card.status = 'CARD_STATUS_DELETE';
      return { ...SANDBOX_OK };
    },
  },
  {
    method: 'POST',
    path: '/card/testwhitelist/set',
    handle(req, state) {
      const body = req.json();
      const ids = Array.isArray(body.openid) ? body.openid : [];
      const names = Array.isArray(body.username) ? body.username : [];
      if (ids.length + names.length === 0) fail(41011, 'missing required fields: openid or username');
      if (ids.length + names.length > 10) fail(40053, 'too many state.cards.whitelist entries (at most 10 in the sandbox)');
      for (const id of ids) state.cards.whitelist.add(String(id));
      return { ...SANDBOX_OK };
    },
  },
  {
    method: 'POST',
    path: '/card/qrcode/create',
    handle(req, state) {
      const body = req.json();
      if (body.action_name !== 'QR_CARD') fail(40053, 'invalid action info: only QR_CARD in the sandbox');
      const info = ((body.action_info as Record<string, unknown> | undefined)?.card ?? {}) as Record<string, unknown>;
      const c = state.cards.cards.get(String(info.card_id ?? ''));
      if (!c || c.status === 'CARD_STATUS_DELETE') fail(40073, 'invalid card id');
      if (c!.status !== 'CARD_STATUS_VERIFY_OK') fail(40078, 'invalid card status: not approved');
      if (body.expire_seconds !== undefined && (!Number.isInteger(body.expire_seconds) || (body.expire_seconds as number) < 60 || (body.expire_seconds as number) > 1800))
        fail(40053, 'invalid expire_seconds');
      if (info.outer_str !== undefined && (typeof info.outer_str !== 'string' || info.outer_str.length > 128)) fail(45021, 'outer_str too long');
      const ticket = `gQ${randomBytes(24).toString('base64url')}`;
      state.cards.qrTickets.set(ticket, { cardId: c!.cardId, outerStr: info.outer_str as string | undefined });
      const out: Record<string, unknown> = {
        ...SANDBOX_OK,
        ticket,
        url: `http://weixin.qq.com/q/${randomBytes(12).toString('base64url')}`,
        show_qrcode_url: `https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=${encodeURIComponent(ticket)}`,
      };
      if (body.expire_seconds !== undefined) out.expire_seconds = body.expire_seconds;
      return out;
    },
  },
  {
    method: 'POST',
    path: '/card/landingpage/create',
    handle(req, state) {
      const body = req.json();
      for (const f of ['banner', 'page_title', 'scene']) if (typeof body[f] !== 'string' || body[f] === '') fail(41011, `missing required fields: ${f}`);
      const list = body.card_list;
      if (!Array.isArray(list) || list.length === 0) fail(41011, 'missing required fields: card_list');
      const ids: string[] = [];
      for (const item of list as Record<string, unknown>[]) {
        const c = state.cards.cards.get(String(item.card_id ?? ''));
        if (!c) fail(40073, 'invalid card id');
        if (c!.status !== 'CARD_STATUS_VERIFY_OK') fail(40078, 'invalid card status: not approved');
        ids.push(c!.cardId);
      }
      const pageId = state.cards.landingPages.size + 1;
      const url = `https://mp.weixin.qq.com/bizmall/cardlandingpage?biz=sandbox&page_id=${pageId}&scene=${String(body.scene)}`;
      state.cards.landingPages.set(String(pageId), { cardIds: ids });
      return { ...SANDBOX_OK, url, page_id: pageId };
    },
  },
];
