/**
 * Card activity (issue 17): what followers do with a card once they hold it — quick-pay payments
 * (`user_pay_from_pay_cell`: how many, the fee paid and the original fee, in fen), member updates WeChat
 * reports (`update_member_card`: the points and balance changes, summed), card views (`user_view_card`)
 * and sessions entered from the card (`user_enter_session_from_card`). Kept per card in the shared
 * `KeyValueStore` as `cards:activity:<card_id>`.
 *
 * Why a redelivery never counts twice: like the code facts of `card-tracker.ts`, the record is changed
 * under a store lock and remembers the keys of the events applied — a payment by its WeChat Pay `TransId`
 * (`pay:<TransId>`; the event's dedupe key when WeChat gave none), any other event by its dedupe key — so a
 * second delivery changes nothing. One store write per event, as for the other card events. The keys
 * remembered are the card's last {@link SEEN_KEPT} events: WeChat retries within seconds, so that covers
 * its retries (and the webhook's own dedupe answers them first).
 *
 * @example
 * await recordCardActivity(kv, event, dedupeKey(event)); // { duplicate: false, activity: { payments: { count: 1, … } } }
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Coupons_Vouchers_and_Cards_Event_Push_Messages.html
 */
import type { KeyValueStore } from '../store/ports';
import type { UpdateMemberCardEvent, UserEnterSessionFromCardEvent, UserPayFromPayCellEvent, UserViewCardEvent } from '../wechat/inbound';
import { readJson, withKvLock } from './card-registry';

/** How many event keys a card's record remembers for de-duplication. */
export const SEEN_KEPT = 500;

/** The events counted as card activity. */
export type CardActivityEvent = UserPayFromPayCellEvent | UpdateMemberCardEvent | UserViewCardEvent | UserEnterSessionFromCardEvent;

/** A card's activity figures (money in fen; points and balance as WeChat reports the changes). */
export interface CardActivityFigures {
  /** Quick-pay payments: how many, `Fee` (paid) and `OriginalFee` (before the card's discount) summed. */
  payments: { count: number; fee: number; originalFee: number };
  /** `update_member_card` events, and their `ModifyBonus` / `ModifyBalance` summed (negative: spent). */
  memberUpdates: { count: number; bonus: number; balance: number };
  views: number;
  sessions: number;
}

/** The stored record: the figures and the keys of the events applied (the last {@link SEEN_KEPT}). */
interface ActivityRecord extends CardActivityFigures {
  cardId: string;
  seen: string[];
}

const activityKey = (cardId: string) => `cards:activity:${cardId}`;

/** An amount WeChat sent as decimal digits (optionally negative); anything else counts as 0. */
function amountOf(raw: string | undefined, signed: boolean): number {
  const s = (raw ?? '').trim();
  return (signed ? /^-?\d{1,15}$/ : /^\d{1,15}$/).test(s) ? Number(s) : 0;
}

/** Each figure of `a` plus the same figure of `b`. */
function added<T extends Record<string, number>>(a: T, b: T): T {
  return Object.fromEntries(Object.keys(b).map((k) => [k, (a[k] ?? 0) + b[k]!])) as T;
}

function emptyFigures(): CardActivityFigures {
  return { payments: { count: 0, fee: 0, originalFee: 0 }, memberUpdates: { count: 0, bonus: 0, balance: 0 }, views: 0, sessions: 0 };
}

/** The key a card activity event is de-duplicated by: a payment's TransId, else the event's dedupe key. */
function keyOf(event: CardActivityEvent, eventKey: string): string {
  const transId = event.Event === 'user_pay_from_pay_cell' ? (event.TransId ?? '').trim() : '';
  return transId ? `pay:${transId}` : eventKey;
}

/**
 * Adds one event to its card's activity, once (a redelivery is reported as `duplicate`).
 *
 * @example await recordCardActivity(kv, event, dedupeKey(event))
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Coupons_Vouchers_and_Cards_Event_Push_Messages.html
 */
export async function recordCardActivity(kv: KeyValueStore, event: CardActivityEvent, eventKey: string): Promise<{ duplicate: boolean; activity: CardActivityFigures }> {
  const cardId = event.CardId;
  if (!cardId) throw new TypeError(`card event ${event.Event} without CardId`);
  return withKvLock(kv, `${activityKey(cardId)}:lock`, async () => {
    const rec: ActivityRecord = (await readJson<ActivityRecord>(kv, activityKey(cardId))) ?? { cardId, ...emptyFigures(), seen: [] };
    const key = keyOf(event, eventKey);
    if (rec.seen.includes(key)) return { duplicate: true, activity: figuresOf(rec) };
    switch (event.Event) {
      case 'user_pay_from_pay_cell':
        rec.payments = added(rec.payments, { count: 1, fee: amountOf(event.Fee, false), originalFee: amountOf(event.OriginalFee, false) });
        break;
      case 'update_member_card':
        rec.memberUpdates = added(rec.memberUpdates, { count: 1, bonus: amountOf(event.ModifyBonus, true), balance: amountOf(event.ModifyBalance, true) });
        break;
      case 'user_view_card':
        rec.views += 1;
        break;
      case 'user_enter_session_from_card':
        rec.sessions += 1;
        break;
    }
    rec.seen = [...rec.seen, key].slice(-SEEN_KEPT);
    await kv.set(activityKey(cardId), JSON.stringify(rec));
    return { duplicate: false, activity: figuresOf(rec) };
  });
}

/**
 * A card's activity figures (undefined when none of its activity events has come in).
 *
 * @example (await cardActivity(kv, cardId))?.payments.fee // 1800
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Coupons_Vouchers_and_Cards_Event_Push_Messages.html
 */
export async function cardActivity(kv: KeyValueStore, cardId: string): Promise<CardActivityFigures | undefined> {
  const rec = await readJson<ActivityRecord>(kv, activityKey(cardId));
  return rec ? figuresOf(rec) : undefined;
}

function figuresOf(rec: ActivityRecord): CardActivityFigures {
  const e = emptyFigures();
  return {
    payments: { ...e.payments, ...rec.payments },
    memberUpdates: { ...e.memberUpdates, ...rec.memberUpdates },
    views: rec.views ?? 0,
    sessions: rec.sessions ?? 0,
  };
}
