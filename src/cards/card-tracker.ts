/**
 * Follows each card code through WeChat's events — received (with its code, and whether it was a
 * gift), gifted, deleted, redeemed (source, location, staff) — and ties it to the ledger grant that
 * issued it. Kept in the shared `KeyValueStore`:
 *
 * - `cards:code:<card_id>:<code>`  one record per code: the facts seen, each with its event time;
 * - `cards:grant:<grantId>`        the grant's card: card_id, code once received, the link it was given;
 * - `cards:await:<openid>:<card_id>` grants delivered by a `wxcard` message (or a link) and not yet
 *   matched to a received code, oldest first.
 *
 * Why duplicated and out-of-order events can't corrupt it: every event is recorded as a FACT on its
 * code (`receivedAt`, `consumedAt`, `deletedAt`, `giftedAt` …) under a store lock, set only if unset
 * and keeping the earliest event time; each event's dedupe key is remembered on the record, so a
 * second delivery changes nothing. The state shown is derived from the facts, never from the order
 * they came in: a `user_consume_card` before its `user_get_card` still yields "received, redeemed".
 * Matching a code to its grant happens on whichever event comes first (the grant's `outer_str`, else
 * the oldest awaiting grant of that follower and card), once.
 *
 * @example
 * const tracker = createCardTracker({ kv: store.kv });
 * const r = await tracker.apply(event, dedupeKey(event), resolveGrant);
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Coupons_Vouchers_and_Cards_Event_Push_Messages.html
 */
import type { KeyValueStore } from '../store/ports';
import type { UserConsumeCardEvent, UserDelCardEvent, UserGetCardEvent, UserGiftingCardEvent } from '../wechat/inbound';
import { readJson, withKvLock } from './card-registry';

// === Records

/** Everything known about one code. Times are epoch seconds (the events' CreateTime). */
export interface CodeRecord {
  cardId: string;
  code: string;
  /** The holder (the receiver of a gift, once received). */
  openId: string;
  /** The ledger grant that issued it (not for codes received as gifts). */
  grantId?: number;
  receivedAt?: number;
  /** Received as a gift from `friend`; `oldCode` is the giver's code. */
  gift?: { friend?: string; oldCode?: string };
  outerStr?: string;
  giftedAt?: number;
  giftedTo?: string;
  deletedAt?: number;
  consumedAt?: number;
  consume?: { source?: string; location?: string; staff?: string; verifyCode?: string };
  /** Dedupe keys of the events applied. */
  seen: string[];
}

/** A code's state, derived from its facts. */
export type CodeState = 'issued' | 'received' | 'gifted' | 'redeemed' | 'deleted';

/**
 * The state a code record shows: redeemed > deleted > gifted > received (a fact never un-happens).
 *
 * @example codeState({ consumedAt: 2, receivedAt: 1, … }) // 'redeemed'
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Coupons_Vouchers_and_Cards_Event_Push_Messages.html
 */
export function codeState(r: CodeRecord): CodeState {
  if (r.consumedAt !== undefined) return 'redeemed';
  if (r.deletedAt !== undefined) return 'deleted';
  if (r.giftedAt !== undefined) return 'gifted';
  if (r.receivedAt !== undefined) return 'received';
  return 'issued';
}

/** A grant's card side. */
export interface GrantCardLink {
  grantId: number;
  cardId?: string;
  code?: string;
  /** The link given for landing_page / qrcode deliveries. */
  link?: { kind: 'landing_page' | 'qrcode'; url: string; ticket?: string };
}

/** The events the tracker follows. */
export type TrackedCardEvent = UserGetCardEvent | UserGiftingCardEvent | UserDelCardEvent | UserConsumeCardEvent;

/** What {@link CardTracker.apply} did. */
export interface TrackResult {
  duplicate: boolean;
  record: CodeRecord;
  /** Set when this event matched the code to a grant (first time only). */
  linkedGrantId?: number;
}

/** Decides whether an `outer_str` names a grant this code may belong to; returns its id. */
export type OuterStrResolver = (outerStr: string, ctx: { openId: string; cardId: string }) => Promise<number | undefined>;

/** The tracker port. */
export interface CardTracker {
  apply(event: TrackedCardEvent, eventKey: string, resolve?: OuterStrResolver): Promise<TrackResult>;
  getCode(cardId: string, code: string): Promise<CodeRecord | undefined>;
  grantLink(grantId: number): Promise<GrantCardLink | undefined>;
  setGrantLink(grantId: number, fn: (l: GrantCardLink) => GrantCardLink): Promise<GrantCardLink>;
  /** Adds a grant to the follower's awaiting list for a card (idempotent). */
  await(openId: string, cardId: string, grantId: number): Promise<void>;
  /** Removes a grant from the awaiting list (a send that surely failed). */
  unawait(openId: string, cardId: string, grantId: number): Promise<void>;
  awaiting(openId: string, cardId: string): Promise<number[]>;
}

/** Options of {@link createCardTracker}. */
export interface CardTrackerOptions {
  kv: KeyValueStore;
}

/** `g<grantId>`: the outer_str that carries a grant through a QR code or a landing page. */
export function outerStrOf(grantId: number): string {
  return `g${grantId}`;
}

/** The grant id an outer_str carries, when it is one of ours. */
export function grantIdOfOuterStr(outerStr: string | undefined): number | undefined {
  const m = /^g([1-9]\d{0,15})$/.exec(outerStr ?? '');
  return m ? Number(m[1]) : undefined;
}

/**
 * Builds the tracker over a key-value store.
 *
 * @example const tracker = createCardTracker({ kv: store.kv });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Coupons_Vouchers_and_Cards_Event_Push_Messages.html
 */
export function createCardTracker(options: CardTrackerOptions): CardTracker {
  const kv = options?.kv;
  if (!kv || typeof kv.setIfAbsent !== 'function') throw new TypeError('createCardTracker: kv must be a KeyValueStore');
  const codeKey = (cardId: string, code: string) => `cards:code:${cardId}:${code}`;
  const linkKey = (id: number) => `cards:grant:${id}`;
  const awaitKey = (openId: string, cardId: string) => `cards:await:${openId}:${cardId}`;
  const earliest = (a: number | undefined, b: number) => (a === undefined ? b : Math.min(a, b));

  async function setGrantLink(grantId: number, fn: (l: GrantCardLink) => GrantCardLink): Promise<GrantCardLink> {
    return withKvLock(kv, `${linkKey(grantId)}:lock`, async () => {
      const next = fn((await readJson<GrantCardLink>(kv, linkKey(grantId))) ?? { grantId });
      await kv.set(linkKey(grantId), JSON.stringify(next));
      return next;
    });
  }

  async function editAwait(openId: string, cardId: string, fn: (ids: number[]) => number[]): Promise<number[]> {
    return withKvLock(kv, `${awaitKey(openId, cardId)}:lock`, async () => {
      const ids = fn((await readJson<number[]>(kv, awaitKey(openId, cardId))) ?? []);
      await kv.set(awaitKey(openId, cardId), JSON.stringify(ids));
      return ids;
    });
  }

  /** Picks the grant of a code: its outer_str when it names a matching grant, else the oldest awaiting grant. */
  async function match(openId: string, cardId: string, outerStr: string | undefined, resolve?: OuterStrResolver): Promise<number | undefined> {
    let byRef: number | undefined;
    if (outerStr && resolve) byRef = await resolve(outerStr, { openId, cardId });
    let picked: number | undefined;
    await editAwait(openId, cardId, (ids) => {
      if (byRef !== undefined) {
        picked = byRef;
        return ids.filter((i) => i !== byRef);
      }
      picked = ids[0];
      return ids.slice(1);
    });
    return picked;
  }

  return {
    async apply(event, eventKey, resolve) {
      const cardId = event.CardId;
      const code = event.UserCardCode;
      if (!cardId || !code) throw new TypeError(`card event ${event.Event} without CardId/UserCardCode`);
      return withKvLock(kv, `${codeKey(cardId, code)}:lock`, async () => {
        const rec: CodeRecord = (await readJson<CodeRecord>(kv, codeKey(cardId, code))) ?? { cardId, code, openId: event.FromUserName, seen: [] };
        if (rec.seen.includes(eventKey)) return { duplicate: true, record: rec };
        const t = event.CreateTime;
        switch (event.Event) {
          case 'user_get_card':
            rec.openId = event.FromUserName;
            rec.receivedAt = earliest(rec.receivedAt, t);
            if (event.IsGiveByFriend === '1') rec.gift = { friend: event.FriendUserName, oldCode: event.OldUserCardCode };
            if (event.OuterStr) rec.outerStr = event.OuterStr;
            break;
          case 'user_gifting_card':
            rec.giftedAt = earliest(rec.giftedAt, t);
            if (event.FriendUserName) rec.giftedTo = event.FriendUserName;
            break;
          case 'user_del_card':
            rec.deletedAt = earliest(rec.deletedAt, t);
            break;
          case 'user_consume_card':
            rec.consumedAt = earliest(rec.consumedAt, t);
            rec.consume ??= {
              source: event.ConsumeSource || undefined,
              location: event.LocationName || undefined,
              staff: event.StaffOpenId || undefined,
              verifyCode: event.VerifyCode || undefined,
            };
            break;
        }
        rec.seen = [...rec.seen, eventKey].slice(-50);
        let linkedGrantId: number | undefined;
        // A gift's code belongs to the giver's grant chain, not to a grant of the receiver; a giver's
        // user_gifting_card proves receipt too, so it may link.
        if (rec.grantId === undefined && !rec.gift) {
          const outer = event.Event === 'user_get_card' ? event.OuterStr : undefined;
          const id = await match(rec.openId, cardId, outer, resolve);
          if (id !== undefined) {
            rec.grantId = id;
            linkedGrantId = id;
          }
        }
        await kv.set(codeKey(cardId, code), JSON.stringify(rec));
        if (linkedGrantId !== undefined) await setGrantLink(linkedGrantId, (l) => ({ ...l, cardId, code }));
        return { duplicate: false, record: rec, linkedGrantId };
      });
    },
    getCode: (cardId, code) => readJson<CodeRecord>(kv, codeKey(cardId, code)),
    grantLink: (grantId) => readJson<GrantCardLink>(kv, linkKey(grantId)),
    setGrantLink,
    async await(openId, cardId, grantId) {
      await editAwait(openId, cardId, (ids) => (ids.includes(grantId) ? ids : [...ids, grantId]));
    },
    async unawait(openId, cardId, grantId) {
      await editAwait(openId, cardId, (ids) => ids.filter((i) => i !== grantId));
    },
    async awaiting(openId, cardId) {
      return (await readJson<number[]>(kv, awaitKey(openId, cardId))) ?? [];
    },
  };
}
