/**
 * Member cards (会员卡): the one-click activation calls, over `api.card.post` (so they share the
 * client's token, errors and retries without a second request path).
 *
 * - `activateTempInfo(ticket)`: `card/membercard/activatetempinfo/get`, the form the follower filled in
 *   (the `activate_ticket` WeChat appends to the activation jump URL);
 * - `userInfo(cardId, code)`: `card/membercard/userinfo/get`, the member's answers (`user_info`),
 *   activation state, points and balance;
 * - `activate(input)`: `card/membercard/activate` with the membership number, initial points and balance.
 *
 * @example
 * const member = createMemberCardApi(api.card.post);
 * const form = await member.activateTempInfo(ticket);
 * await member.activate({ cardId, code, membershipNumber: '000001', initBonus: 100, initBalance: 0 });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Membership_Cards/Create_a_membership_card.html
 */
import type { ApiResult } from './request';

/** One answer of the form: `{ name, value }` (a multi-choice custom field also has `value_list`). */
export interface MemberFormAnswer {
  name: string;
  value?: string;
  value_list?: string[];
}

/** The answers the follower submitted. */
export interface MemberFormAnswers {
  commonFields: MemberFormAnswer[];
  customFields: MemberFormAnswer[];
}

/** What `userinfo/get` says of a member. */
export interface MemberUserInfo extends MemberFormAnswers {
  openId?: string;
  membershipNumber?: string;
  bonus: number;
  balance: number;
  hasActive: boolean;
  userCardStatus?: string;
}

/** `card/membercard/activate`'s input (init_balance in fen). */
export interface MemberActivateInput {
  cardId: string;
  code: string;
  membershipNumber: string;
  initBonus?: number;
  initBonusRecord?: string;
  initBalance?: number;
}

export interface MemberCardApi {
  activateTempInfo(activateTicket: string): Promise<MemberFormAnswers>;
  userInfo(cardId: string, code: string): Promise<MemberUserInfo>;
  activate(input: MemberActivateInput): Promise<void>;
}

function answers(v: unknown): MemberFormAnswer[] {
  if (!Array.isArray(v)) return [];
  return v
    .filter((a): a is Record<string, unknown> => typeof a === 'object' && a !== null && typeof (a as { name?: unknown }).name === 'string')
    .map((a) => ({
      name: String(a.name),
      ...(typeof a.value === 'string' ? { value: a.value } : {}),
      ...(Array.isArray(a.value_list) ? { value_list: a.value_list.map(String) } : {}),
    }));
}

function need(name: string, v: string): void {
  if (typeof v !== 'string' || v === '') throw new TypeError(`member card: ${name} is required`);
}

/**
 * Builds the member-card calls over a card `post` function (`api.card.post`).
 *
 * @example const member = createMemberCardApi(api.card.post);
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Membership_Cards/Create_a_membership_card.html
 */
export function createMemberCardApi(post: <T = ApiResult>(path: string, body: unknown) => Promise<T>): MemberCardApi {
  return {
    async activateTempInfo(activateTicket) {
      need('activate_ticket', activateTicket);
      const res = await post<{ info?: { common_field_list?: unknown; custom_field_list?: unknown } }>('membercard/activatetempinfo/get', {
        activate_ticket: activateTicket,
      });
      return { commonFields: answers(res.info?.common_field_list), customFields: answers(res.info?.custom_field_list) };
    },
    async userInfo(cardId, code) {
      need('card_id', cardId);
      need('code', code);
      const res = await post<Record<string, unknown> & { user_info?: { common_field_list?: unknown; custom_field_list?: unknown } }>('membercard/userinfo/get', {
        card_id: cardId,
        code,
      });
      return {
        commonFields: answers(res.user_info?.common_field_list),
        customFields: answers(res.user_info?.custom_field_list),
        ...(typeof res.openid === 'string' ? { openId: res.openid } : {}),
        ...(typeof res.membership_number === 'string' && res.membership_number !== '' ? { membershipNumber: res.membership_number } : {}),
        bonus: Number(res.bonus ?? 0),
        balance: Number(res.balance ?? 0),
        hasActive: res.has_active === true,
        ...(typeof res.user_card_status === 'string' ? { userCardStatus: res.user_card_status } : {}),
      };
    },
    async activate(input) {
      need('card_id', input.cardId);
      need('code', input.code);
      need('membership_number', input.membershipNumber);
      await post('membercard/activate', {
        card_id: input.cardId,
        code: input.code,
        membership_number: input.membershipNumber,
        ...(input.initBonus ? { init_bonus: input.initBonus } : {}),
        ...(input.initBonus && input.initBonusRecord ? { init_bonus_record: input.initBonusRecord } : {}),
        ...(input.initBalance ? { init_balance: input.initBalance } : {}),
      });
    },
  };
}
