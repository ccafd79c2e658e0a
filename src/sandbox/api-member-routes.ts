/**
 * Member cards' follower side in the API sandbox: one-click activation
 * (`card/membercard/activatetempinfo/get`, `card/membercard/activate`) and the member record
 * (`card/membercard/userinfo/get`), plus the follower's action that fills the activation form
 * ({@link submitMemberForm}: answers kept, an `activate_ticket` made, `submit_membercard_user_info`
 * pushed). A route table over the shared state, so other member endpoints (points: updateuser) add rows.
 * `card/membercard/updateuser` sets points and balance, absolute (`bonus`, `balance`) or by increment
 * (`add_bonus`, `add_balance`, never both for one figure: 47001), only for an activated member
 * (40127 [unverified: WeChat names no errcode for it]), never below 0 (40121), `record_bonus` at most
 * 42 characters (47001); each change is kept in the member's `bonusRecords`. {@link addSandboxMember}
 * makes an activated member directly (tests).
 *
 * Rules (WeChat's "Create a membership card" § activation, "Manage member card" and the card error
 * codes): every call needs its required fields (41011); `card_id` must be a known member card (40073,
 * else 40071 wrong card type); `code` a code of that card (40056) not deleted or being gifted (40127);
 * `membership_number` at most 32 digits, letters or ASCII punctuation (47001); `init_bonus` /
 * `init_balance` non-negative integers (47001); an unknown `activate_ticket` is 40097 invalid args.
 * Activating again succeeds and updates the number (WeChat lets the merchant re-bind the number);
 * `activations` counts the calls so a test sees a second one.
 *
 * @example await submitMemberForm(state, code, { commonFields: [{ name: 'USER_FORM_INFO_FLAG_MOBILE', value: '138…' }], customFields: [] });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Membership_Cards/Create_a_membership_card.html
 */
import { randomBytes } from 'node:crypto';
import { emit } from './api-card-events';
import { requireCode, requiredText as text } from './api-card-rules';
import type { EmittedEvent, SandboxCode, SandboxFormAnswer, SandboxMember } from './api-card-state';
import { fail, SANDBOX_OK, type ApiRouteTable, type SandboxRequest } from './api-route';
import type { ApiState } from './api-state';

/** membership_number: digits, letters, ASCII punctuation, at most 32. */
const MEMBERSHIP_NUMBER = /^[\x21-\x7e]{1,32}$/;

function amount(body: Record<string, unknown>, field: string): number {
  const v = body[field];
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(47001, `data format error: ${field}`);
  return v as number;
}

/** The code of a member card named by card_id + code, in a state a member call accepts. */
function memberCode(state: ApiState, body: Record<string, unknown>): SandboxCode {
  const cardId = text(body, 'card_id');
  const card = state.cards.cards.get(cardId);
  if (!card || card.status === 'CARD_STATUS_DELETE') fail(40073, 'invalid card id');
  if (card.type !== 'MEMBER_CARD') fail(40071, 'invalid card type: not a member card');
  const code = requireCode(state, text(body, 'code'));
  if (code.cardId !== cardId) fail(40056, 'invalid serial code');
  if (code.status === 'DELETE' || code.status === 'GIFTING') fail(40127, 'the code was deleted or is being gifted');
  return code;
}

function memberOf(state: ApiState, code: SandboxCode): SandboxMember {
  let m = state.cards.members.get(code.code);
  if (!m) {
    m = { code: code.code, cardId: code.cardId, commonFields: [], customFields: [], activations: 0, bonus: 0, balance: 0 };
    state.cards.members.set(code.code, m);
  }
  return m;
}

const answers = (m: SandboxMember) => ({ common_field_list: structuredClone(m.commonFields), custom_field_list: structuredClone(m.customFields) });

function activateTempInfo(req: SandboxRequest, state: ApiState): Record<string, unknown> {
  const ticket = text(req.json(), 'activate_ticket');
  const code = state.cards.activateTickets.get(ticket);
  const m = code === undefined ? undefined : state.cards.members.get(code);
  if (!m) fail(40097, 'invalid args: activate_ticket');
  return { ...SANDBOX_OK, info: answers(m!) };
}

function activate(req: SandboxRequest, state: ApiState): Record<string, unknown> {
  const body = req.json();
  const number = text(body, 'membership_number');
  if (!MEMBERSHIP_NUMBER.test(number)) fail(47001, 'data format error: membership_number');
  const [bonus, balance] = [amount(body, 'init_bonus'), amount(body, 'init_balance')];
  const m = memberOf(state, memberCode(state, body));
  m.membershipNumber = number;
  m.activations += 1;
  m.bonus = bonus;
  m.balance = balance;
  return { ...SANDBOX_OK };
}

function userInfo(req: SandboxRequest, state: ApiState): Record<string, unknown> {
  const code = memberCode(state, req.json());
  const m = memberOf(state, code);
  return {
    ...SANDBOX_OK,
    openid: code.openId,
    nickname: `sandbox-${code.openId.slice(-4)}`,
    membership_number: m.membershipNumber ?? '',
    bonus: m.bonus,
    balance: m.balance,
    sex: 'UNKNOWN',
    user_info: answers(m),
    user_card_status: code.status,
    has_active: m.activations > 0,
  };
}

const MAX_INT = 2_147_483_647;

function optionalInt(body: Record<string, unknown>, field: string, min: number): number | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > MAX_INT) fail(47001, `data format error: ${field}`);
  return v as number;
}

function updateUser(req: SandboxRequest, state: ApiState): Record<string, unknown> {
  const body = req.json();
  const code = memberCode(state, body);
  const m = memberOf(state, code);
  if (m.activations === 0) fail(40127, 'the member card is not activated');
  const bonus = optionalInt(body, 'bonus', 0);
  const addBonus = optionalInt(body, 'add_bonus', -MAX_INT);
  const balance = optionalInt(body, 'balance', 0);
  const addBalance = optionalInt(body, 'add_balance', -MAX_INT);
  if (bonus !== undefined && addBonus !== undefined) fail(47001, 'data format error: bonus and add_bonus together');
  if (balance !== undefined && addBalance !== undefined) fail(47001, 'data format error: balance and add_balance together');
  const record = body.record_bonus;
  if (record !== undefined && (typeof record !== 'string' || record.length > 42)) fail(47001, 'data format error: record_bonus');
  const nextBonus = bonus ?? m.bonus + (addBonus ?? 0);
  const nextBalance = balance ?? m.balance + (addBalance ?? 0);
  if (nextBonus < 0) fail(40121, 'invalid bonus: the result would be negative');
  if (nextBalance < 0) fail(40121, 'invalid balance: the result would be negative');
  if (nextBonus !== m.bonus)
    (m.bonusRecords ??= []).push({ at: state.config.clock.now(), bonus: nextBonus, change: nextBonus - m.bonus, record: typeof record === 'string' ? record : '' });
  m.bonus = nextBonus;
  m.balance = nextBalance;
  return { ...SANDBOX_OK, result_bonus: m.bonus, result_balance: m.balance, openid: code.openId };
}

/** The member endpoints (authenticated). */
export const memberRoutes: ApiRouteTable = [
  { method: 'POST', path: '/card/membercard/activatetempinfo/get', handle: activateTempInfo },
  { method: 'POST', path: '/card/membercard/activate', handle: activate },
  { method: 'POST', path: '/card/membercard/userinfo/get', handle: userInfo },
  { method: 'POST', path: '/card/membercard/updateuser', handle: updateUser },
];

/**
 * Makes an activated member directly (tests): the member card (an approved MEMBER_CARD) and the
 * follower's code are added when missing.
 *
 * @example addSandboxMember(state, { cardId: 'pGold', code: '100000000001', openId: 'oUser1', bonus: 10 })
 */
export function addSandboxMember(
  state: ApiState,
  m: { cardId: string; code: string; openId: string; bonus?: number; balance?: number; membershipNumber?: string },
): SandboxMember {
  if (!state.cards.cards.has(m.cardId))
    state.cards.cards.set(m.cardId, {
      cardId: m.cardId,
      type: 'MEMBER_CARD',
      card: { card_type: 'MEMBER_CARD' },
      quantity: 0,
      totalQuantity: 0,
      status: 'CARD_STATUS_VERIFY_OK',
    });
  if (!state.cards.codes.has(m.code))
    state.cards.codes.set(m.code, { code: m.code, cardId: m.cardId, openId: m.openId, status: 'NORMAL', receivedAt: state.config.clock.now() });
  const member: SandboxMember = {
    code: m.code,
    cardId: m.cardId,
    commonFields: [],
    customFields: [],
    membershipNumber: m.membershipNumber ?? m.code,
    activations: 1,
    bonus: m.bonus ?? 0,
    balance: m.balance ?? 0,
    bonusRecords: [],
  };
  state.cards.members.set(m.code, member);
  return member;
}

/**
 * The holder of a member card fills the one-click activation form: the answers are kept for the
 * code, an `activate_ticket` is made, and `submit_membercard_user_info` is pushed to the webhook.
 *
 * @example const { ticket, event } = await submitMemberForm(state, code, { commonFields: [...], customFields: [] });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Membership_Cards/Create_a_membership_card.html
 */
export async function submitMemberForm(
  state: ApiState,
  code: string,
  form: { commonFields: SandboxFormAnswer[]; customFields: SandboxFormAnswer[] },
): Promise<{ ticket: string; event: EmittedEvent }> {
  const c = requireCode(state, code);
  if (state.cards.cards.get(c.cardId)?.type !== 'MEMBER_CARD') fail(40071, 'invalid card type: not a member card');
  const m = memberOf(state, c);
  m.commonFields = structuredClone(form.commonFields);
  m.customFields = structuredClone(form.customFields);
  const ticket = randomBytes(16).toString('hex');
  state.cards.activateTickets.set(ticket, code);
  const event = await emit(state, c.openId, 'submit_membercard_user_info', { CardId: c.cardId, UserCardCode: code });
  return { ticket, event };
}
