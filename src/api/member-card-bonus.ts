/**
 * Member-card points through WeChat's card API: `card/membercard/updateuser` (set the member's
 * points, with the points-change text) and `card/membercard/userinfo/get` (read them back). Built on
 * `api.card.post`, so token handling, errcode decoding and retries are the client's.
 *
 * Only the ABSOLUTE `bonus` is ever sent, never `add_bonus`: an increment applied twice (a retry after
 * a lost answer) adds twice, while an absolute total written twice is the same total.
 *
 * @example
 * const bonus = memberCardBonusApi(api.card);
 * await bonus.setBonus({ cardId, code, bonus: 1200, recordBonus: '关注送积分' });
 * (await bonus.userInfo(cardId, code)).bonus // → 1200
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Membership_Cards/Manage_Member_Card.html
 */
import type { CardApi } from './card';
import { createMemberCardApi, type MemberUserInfo } from './member-card';

/** What `setBonus` sends. */
export interface SetBonusInput {
  cardId: string;
  code: string;
  /** The member's new points total (`bonus`, the full value WeChat displays). */
  bonus: number;
  /** The points-change text shown in the member's points history (`record_bonus`). */
  recordBonus?: string;
  /** Whether WeChat notifies the member of the change (`notify_optional.is_notify_bonus`, default true). */
  notify?: boolean;
}

/** The points calls of the member-card API. */
export interface MemberCardBonusApi {
  /** `membercard/updateuser` with the absolute `bonus` → WeChat's `result_bonus`. */
  setBonus(input: SetBonusInput): Promise<{ resultBonus: number; openId: string }>;
  /** `membercard/userinfo/get` (the member API's own call). */
  userInfo(cardId: string, code: string): Promise<MemberUserInfo>;
}

/**
 * The member-card points calls over `api.card.post`.
 *
 * @example const bonus = memberCardBonusApi(api.card);
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Membership_Cards/Manage_Member_Card.html
 */
export function memberCardBonusApi(card: Pick<CardApi, 'post'>): MemberCardBonusApi {
  return {
    async setBonus({ cardId, code, bonus, recordBonus, notify = true }) {
      if (!cardId || !code) throw new TypeError('membercard.setBonus: cardId and code are required');
      if (!Number.isSafeInteger(bonus) || bonus < 0) throw new TypeError('membercard.setBonus: bonus must be a non-negative integer');
      const body = {
        code,
        card_id: cardId,
        bonus,
        ...(recordBonus ? { record_bonus: recordBonus } : {}),
        notify_optional: { is_notify_bonus: notify },
      };
      const res = await card.post<{ result_bonus?: number; openid?: string }>('membercard/updateuser', body);
      return { resultBonus: Number(res.result_bonus ?? bonus), openId: String(res.openid ?? '') };
    },
    userInfo: (cardId, code) => createMemberCardApi((path, body) => card.post(path, body)).userInfo(cardId, code),
  };
}
