/**
 * The member store in memory (tests, one process). Same guarantees as the durable adapters inside one
 * process: every method runs synchronously between awaits, so `upsert`, `markActivated` and
 * `nextNumber` are atomic.
 *
 * @example const members = createMemoryMemberStore();
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Membership_Cards/Create_a_membership_card.html
 */
import type { Member, MemberStoreWithNumbers } from '../cards/member-store';

export type { MemberStoreWithNumbers };

/**
 * Builds an empty in-memory member store.
 *
 * @example const { created } = await createMemoryMemberStore().upsert(member);
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Membership_Cards/Create_a_membership_card.html
 */
export function createMemoryMemberStore(): MemberStoreWithNumbers {
  // Insertion order is the list order (the durable adapters order by their row id).
  const rows = new Map<string, Member>();
  const numbers = new Map<string, number>();
  const keyOf = (cardId: string, code: string) => JSON.stringify([cardId, code]);
  const copy = (m: Member): Member => structuredClone(m);
  return {
    async upsert(m) {
      const key = keyOf(m.cardId, m.code);
      const have = rows.get(key);
      if (!have) {
        rows.set(key, copy(m));
        return { created: true };
      }
      if (have.activatedAt === undefined) {
        have.openId = m.openId;
        have.fields = { ...m.fields };
        have.initialBonus = m.initialBonus;
        have.initialBalance = m.initialBalance;
      }
      return { created: false };
    },
    async findByCode(cardId, code) {
      const m = rows.get(keyOf(cardId, code));
      return m ? copy(m) : undefined;
    },
    async findByOpenId(openId, cardId) {
      return [...rows.values()].filter((m) => m.openId === openId && (cardId === undefined || m.cardId === cardId)).map(copy);
    },
    async list(opts) {
      return [...rows.values()]
        .filter((m) => opts.cardId === undefined || m.cardId === opts.cardId)
        .slice(opts.offset, opts.offset + opts.limit)
        .map(copy);
    },
    async markActivated(cardId, code, at) {
      const m = rows.get(keyOf(cardId, code));
      if (!m || m.activatedAt !== undefined) return false;
      m.activatedAt = at;
      return true;
    },
    async nextNumber(cardId) {
      const n = (numbers.get(cardId) ?? 0) + 1;
      numbers.set(cardId, n);
      return n;
    },
  };
}
