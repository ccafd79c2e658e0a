/**
 * Card codes and what is reported about them: `card/code/get` (can it be consumed, its dates),
 * `card/code/consume` (once: 40099 afterwards; emits `user_consume_card`), `card/code/decrypt`
 * (a card page's `encrypt_code`: 41011 when absent, 40056 when unknown), `card/user/getcardlist` and `datacube/getcardcardinfo` (per card
 * and Beijing day).
 *
 * @example const code = await api.card.codeGet('110201201245'); if (code.canConsume) await api.card.codeConsume('110201201245');
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Redeeming_a_coupon_voucher_or_card.html
 */
import { bump, emit } from './api-card-events';
import { nowS, requireCode, requiredText, validity } from './api-card-rules';
import { fail, SANDBOX_OK, type ApiRouteTable } from './api-route';

export const cardCodeRoutes: ApiRouteTable = [
  {
    method: 'POST',
    path: '/card/code/get',
    handle(req, state) {
      const body = req.json();
      const c = requireCode(state, String(body.code ?? ''));
      if (body.card_id !== undefined && body.card_id !== c.cardId) fail(40056, 'invalid serial code: not a code of this card');
      const card = state.cards.cards.get(c.cardId)!;
      const check = body.check_consume !== false;
      if (check && c.status === 'CONSUMED') fail(40099, 'invalid code, this code has consumed.');
      if (check && (c.status === 'DELETE' || c.status === 'GIFTING')) fail(40127, 'the code was deleted or is being gifted');
      const { begin, end } = validity(card, c);
      const inDates = nowS(state) >= begin && nowS(state) <= end;
      return {
        ...SANDBOX_OK,
        card: { card_id: c.cardId, begin_time: begin, end_time: end },
        openid: c.openId,
        can_consume: c.status === 'NORMAL' && inDates,
        user_card_status: c.status === 'NORMAL' && nowS(state) > end ? 'EXPIRE' : c.status,
      };
    },
  },
  {
    method: 'POST',
    path: '/card/code/consume',
    async handle(req, state) {
      const body = req.json();
      const c = requireCode(state, String(body.code ?? ''));
      if (body.card_id !== undefined && body.card_id !== c.cardId) fail(40056, 'invalid serial code: not a code of this card');
      if (c.status === 'CONSUMED') fail(40099, 'invalid code, this code has consumed.');
      if (c.status !== 'NORMAL') fail(40127, 'the code was deleted or is being gifted');
      const { begin, end } = validity(state.cards.cards.get(c.cardId)!, c);
      if (nowS(state) < begin || nowS(state) > end) fail(40079, 'invalid time: the code is not within its dates');
      c.status = 'CONSUMED';
      bump(state, c.cardId, 'verify', c.openId);
      await emit(state, c.openId, 'user_consume_card', { CardId: c.cardId, UserCardCode: c.code, ConsumeSource: 'FROM_API', LocationName: '', StaffOpenId: '' });
      return { ...SANDBOX_OK, card: { card_id: c.cardId }, openid: c.openId };
    },
  },
  {
    method: 'POST',
    path: '/card/code/decrypt',
    handle(req, state) {
      const body = req.json();
      const code = state.cards.encrypted.get(requiredText(body, 'encrypt_code'));
      if (!code) fail(40056, 'invalid serial code: unknown encrypt_code');
      return { ...SANDBOX_OK, code };
    },
  },
  {
    method: 'POST',
    path: '/card/user/getcardlist',
    handle(req, state) {
      const body = req.json();
      if (typeof body.openid !== 'string' || body.openid === '') fail(41011, 'missing required fields: openid');
      const list = [...state.cards.codes.values()]
        .filter((c) => c.openId === body.openid && c.status === 'NORMAL' && (body.card_id === undefined || c.cardId === body.card_id))
        .map((c) => ({ code: c.code, card_id: c.cardId }));
      return { ...SANDBOX_OK, card_list: list, has_share_card: false };
    },
  },
  {
    method: 'POST',
    path: '/datacube/getcardcardinfo',
    handle(req, state) {
      const body = req.json();
      const b = String(body.begin_date ?? '');
      const e = String(body.end_date ?? '');
      if (!/^\d{4}-\d{2}-\d{2}$/.test(b) || !/^\d{4}-\d{2}-\d{2}$/.test(e) || b > e) fail(61500, 'date format error');
      const list = [...state.cards.stats.entries()]
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
    },
  },
];
