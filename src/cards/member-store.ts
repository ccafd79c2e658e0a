/**
 * The member port (issue 17): the followers who activated a member card, one row per (card_id, code),
 * with the membership number the bot assigned, the activation form's answers and what was given at
 * activation. Adapters (all pass `test/cards/member-store-contract.ts`):
 *
 * - `src/store/memory-members.ts`    `createMemoryMemberStore()`       (tests, one process)
 * - `src/store/sqlite-members.ts`    `SqliteMemberStore.create(db)`    (default; beside the ledger)
 * - `src/store/postgres-members.ts`  `PostgresMemberStore.create(pool)` (many instances)
 *
 * ## Guarantees
 * - `upsert` is atomic per (cardId, code): concurrent calls store one row; the first one's
 *   `membershipNumber` and `activatedAt` are kept (a later upsert never changes them), the answers and
 *   initial amounts are refreshed until the member is activated. `created` tells which call inserted.
 * - `markActivated` sets `activatedAt` once: it answers `false` when the member was already activated
 *   (or does not exist), so a repeated event never activates twice.
 * - `nextNumber` ({@link MembershipNumbers}) hands out 1, 2, 3 … per card, each at most once, across
 *   processes (a number taken and not used is a gap, never reused).
 *
 * @example
 * const { created } = await members.upsert({ cardId, code, openId, membershipNumber: '000001', fields: {}, initialBonus: 0, initialBalance: 0 });
 * if (await members.markActivated(cardId, code, clock.now())) log.info('activated');
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Membership_Cards/Create_a_membership_card.html
 */

/** A follower's member card. */
export interface Member {
  /** The member card's card_id. */
  cardId: string;
  /** The follower's card code (never rendered in full outside the CLI's own member view). */
  code: string;
  openId: string;
  /** Assigned by the bot at activation (unique per card). */
  membershipNumber: string;
  /** ms; undefined until membercard/activate succeeded. */
  activatedAt?: number;
  /** The activation form's answers (common_field_id_list + custom_field_list names). */
  fields: Record<string, string>;
  /** Points given at activation (from config). */
  initialBonus: number;
  /** Balance in fen given at activation (from config). */
  initialBalance: number;
}

export interface MemberStore {
  /** By (cardId, code); idempotent on a repeated event (see the module doc). */
  upsert(m: Member): Promise<{ created: boolean }>;
  findByCode(cardId: string, code: string): Promise<Member | undefined>;
  findByOpenId(openId: string, cardId?: string): Promise<Member[]>;
  list(opts: { cardId?: string; limit: number; offset: number }): Promise<Member[]>;
  /** False if already activated (or no such member). */
  markActivated(cardId: string, code: string, at: number): Promise<boolean>;
}

/** The membership-number sequence, kept beside the members by every adapter. */
export interface MembershipNumbers {
  /** The next number of `cardId` (1, 2, …), never handed out twice, across processes. */
  nextNumber(cardId: string): Promise<number>;
}

/** What every member adapter gives: the members and their number sequence. */
export type MemberStoreWithNumbers = MemberStore & MembershipNumbers;
