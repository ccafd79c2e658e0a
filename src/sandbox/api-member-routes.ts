/**
 * Member cards in the API sandbox, as a route table (one entry per endpoint, so the activation and
 * points routes of issue 17 merge as separate rows): `card/membercard/updateuser` (points and balance,
 * absolute or by increment, with WeChat's checks) and `card/membercard/userinfo/get`. The members are
 * kept beside the sandbox state ({@link sandboxMembers}); a member is added by activation or by
 * {@link addSandboxMember} in tests.
 *
 * @example
 * addSandboxMember(state, { cardId, code: '000000000001', openId: 'oUser1', bonus: 0 });
 * // POST /card/membercard/updateuser { card_id, code, bonus: 100, record_bonus: '关注送积分' } → { result_bonus: 100 }
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Membership_Cards/Manage_Member_Card.html
 */
import { fail, SANDBOX_OK, type ApiRouteTable } from './api-route';
import type { ApiState } from './api-state';

/** One member card a follower holds in the sandbox. */
export interface SandboxMember {
  cardId: string;
  code: string;
  openId: string;
  membershipNumber: string;
  activated: boolean;
  bonus: number;
  /** Fen. */
  balance: number;
  /** Every points change, as WeChat's points history would show it. */
  bonusRecords: { at: number; bonus: number; change: number; record: string }[];
}

const MEMBERS = new WeakMap<ApiState, Map<string, SandboxMember>>();

/** The sandbox's members by code. */
export function sandboxMembers(state: ApiState): Map<string, SandboxMember> {
  let m = MEMBERS.get(state);
  if (!m) MEMBERS.set(state, (m = new Map()));
  return m;
}

/**
 * Adds (or replaces) an activated member.
 *
 * @example addSandboxMember(state, { cardId: 'pCard', code: '1', openId: 'oUser1' })
 */
export function addSandboxMember(state: ApiState, m: Pick<SandboxMember, 'cardId' | 'code' | 'openId'> & Partial<SandboxMember>): SandboxMember {
  const member: SandboxMember = { membershipNumber: m.code, activated: true, bonus: 0, balance: 0, bonusRecords: [], ...m };
  sandboxMembers(state).set(m.code, member);
  return member;
}

/** The member of a body's `card_id` + `code`, or WeChat's 40056. */
function requireMember(state: ApiState, body: Record<string, unknown>): SandboxMember {
  const code = body.code;
  const cardId = body.card_id;
  if (typeof code !== 'string' || code === '') fail(41011, 'missing code');
  if (typeof cardId !== 'string' || cardId === '') fail(40073, 'invalid card id');
  const m = sandboxMembers(state).get(code);
  if (!m || m.cardId !== cardId) fail(40056, 'invalid serial code');
  return m;
}

function optionalInt(body: Record<string, unknown>, field: string, min: number): number | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > 2_147_483_647) fail(47001, `data format error: ${field}`);
  return v;
}

export const memberRoutes: ApiRouteTable = [
  {
    method: 'POST',
    path: '/card/membercard/updateuser',
    handle(req, state) {
      const body = req.json();
      const m = requireMember(state, body);
      // [unverified] the errcode WeChat gives a member that has not activated; the docs name none.
      if (!m.activated) fail(40127, 'the member card is not activated');
      const bonus = optionalInt(body, 'bonus', 0);
      const addBonus = optionalInt(body, 'add_bonus', -2_147_483_647);
      const balance = optionalInt(body, 'balance', 0);
      const addBalance = optionalInt(body, 'add_balance', -2_147_483_647);
      if (bonus !== undefined && addBonus !== undefined) fail(47001, 'data format error: bonus and add_bonus together');
      if (balance !== undefined && addBalance !== undefined) fail(47001, 'data format error: balance and add_balance together');
      const record = body.record_bonus;
      if (record !== undefined && (typeof record !== 'string' || record.length > 42)) fail(47001, 'data format error: record_bonus');
      const nextBonus = bonus ?? m.bonus + (addBonus ?? 0);
      const nextBalance = balance ?? m.balance + (addBalance ?? 0);
      if (nextBonus < 0) fail(40121, 'invalid bonus: the result would be negative');
      if (nextBalance < 0) fail(40121, 'invalid balance: the result would be negative');
      if (nextBonus !== m.bonus)
        m.bonusRecords.push({ at: state.config.clock.now(), bonus: nextBonus, change: nextBonus - m.bonus, record: typeof record === 'string' ? record : '' });
      m.bonus = nextBonus;
      m.balance = nextBalance;
      return { ...SANDBOX_OK, result_bonus: m.bonus, result_balance: m.balance, openid: m.openId };
    },
  },
  {
    method: 'POST',
    path: '/card/membercard/userinfo/get',
    handle(req, state) {
      const m = requireMember(state, req.json());
      return {
        ...SANDBOX_OK,
        openid: m.openId,
        nickname: '',
        membership_number: m.membershipNumber,
        bonus: m.bonus,
        balance: m.balance,
        sex: '',
        user_info: { common_field_list: [], custom_field_list: [] },
        user_card_status: 'NORMAL',
        has_active: m.activated,
      };
    },
  },
];
