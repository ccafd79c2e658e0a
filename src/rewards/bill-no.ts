/**
 * `mch_billno`: the merchant's order number of one red packet, 28 characters, derived when the grant is
 * recorded: `mch_id + yyyymmdd (Beijing date of recording) + the ledger's tag + a per-day sequence`,
 * zero-padded to fill 28 characters (3 + 7 digits for the usual 10-digit mch_id). The same grant keeps
 * it for its whole life, so every retry is re-entrant on WeChat's side and can never pay twice.
 *
 * The tag (3 digits, drawn when the ledger is created or set with BOT_BILLNO_TAG, see
 * {@link withLedgerTag} and {@link ledgerTagRules}) keeps two ledgers on one mch_id apart — staging beside production, or a ledger wiped and started again the same day.
 * Without it both would number their first bill of the day alike, and WeChat, re-entrant by bill
 * number, would answer the second with the first one's result: a grant silently never paid.
 *
 * @example billNo('1900000109', Date.parse('2026-01-02T10:00:00+08:00'), 7) // → '1900000109202601020000000007'
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import { randomInt } from 'node:crypto';
import { shanghaiParts } from '../lib/clock';

/** Length of a bill number, as WeChat Pay documents (String(28)). */
export const BILL_NO_LENGTH = 28;

/** Thrown for a bad mch_id, a sequence out of range, or a malformed bill number. */
export class BillNoError extends Error {
  override readonly name = 'BillNoError';
}

/**
 * The part shared by every bill of one merchant and one Beijing day: `mch_id + yyyymmdd`. The ledger
 * keeps one sequence per prefix.
 *
 * @example billNoPrefix('1900000109', now) // → '190000010920260102'
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function billNoPrefix(mchId: string, nowMs: number): string {
  if (!/^\d{1,18}$/.test(mchId)) throw new BillNoError(`mch_id must be 1–18 digits to leave room for a sequence (got ${mchId.length} characters)`);
  const digits = BILL_NO_LENGTH - mchId.length - 8;
  if (digits < 2) throw new BillNoError('mch_id is too long for a 28-character bill number');
  return `${mchId}${shanghaiParts(nowMs).ymd}`;
}

/**
 * The prefix of a coupon (card) grant's reference: `CARD + yyyymmdd` (Beijing date). A card grant is
 * never sent to WeChat Pay, so it must not take a `mch_billno` — WeChat Pay documents that number as
 * `mch_id + yyyymmdd + 10 digits unique that day`, and a number spent on a coupon is a gap in the
 * merchant's red-packet sequence (the day's first red packet would be sequence 2). The ledger keeps a
 * separate per-day sequence under this prefix (same tag, same 28 characters), and the letters keep a
 * card reference from ever looking like (or colliding with) a bill number: {@link isBillNo} is false.
 *
 * @example cardGrantRefPrefix(Date.parse('2026-01-02T10:00:00+08:00')) // → 'CARD20260102'
 * @see https://pay.weixin.qq.com/doc/v2/merchant/4011974053
 */
export function cardGrantRefPrefix(nowMs: number): string {
  return `${CARD_REF_MARK}${shanghaiParts(nowMs).ymd}`;
}

/** The letters that open every card grant reference (see {@link cardGrantRefPrefix}). */
export const CARD_REF_MARK = 'CARD';

/**
 * The reference prefix of a member-card points grant: `PNTS` + the Beijing day, its own sequence (a
 * points grant never takes a red-packet bill number or a coupon reference).
 *
 * @example pointsGrantRefPrefix(Date.parse('2026-01-02T10:00:00+08:00')) // → 'PNTS20260102'
 */
export function pointsGrantRefPrefix(nowMs: number): string {
  return `${POINTS_REF_MARK}${shanghaiParts(nowMs).ymd}`;
}

/** The letters that open every points grant reference (see {@link pointsGrantRefPrefix}). */
export const POINTS_REF_MARK = 'PNTS';

/** How many sequence numbers one prefix allows per day (10^10 − 1 for a 10-digit mch_id). */
export function billNoCapacity(prefix: string): number {
  return 10 ** (BILL_NO_LENGTH - prefix.length) - 1;
}

/**
 * The bill number of the `seq`-th grant (1-based) recorded under `prefix`.
 *
 * @example formatBillNo('190000010920260102', 7) // → '1900000109202601020000000007'
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function formatBillNo(prefix: string, seq: number): string {
  if (!Number.isSafeInteger(seq) || seq < 1 || seq > billNoCapacity(prefix)) throw new BillNoError(`bill sequence ${seq} is out of range for prefix ${prefix}`);
  return prefix + String(seq).padStart(BILL_NO_LENGTH - prefix.length, '0');
}

/**
 * `mch_id + yyyymmdd + sequence`, 28 characters.
 *
 * @example billNo('1900000109', now, 1) // → '1900000109202601020000000001'
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function billNo(mchId: string, nowMs: number, seq: number): string {
  return formatBillNo(billNoPrefix(mchId, nowMs), seq);
}

/** Digits of a ledger's tag inside its bill numbers. */
export const LEDGER_TAG_DIGITS = 3;
/** Sequence digits a prefix must leave for the tag to be used (else the bare prefix is). */
const MIN_SEQUENCE_DIGITS = 4;
const LEDGER_TAG = /^[1-9]\d{2}$/;

/**
 * A new ledger's tag: three random digits, 100–999, other than `taken` (the tags of the other ledgers
 * this one can see) while one is free. No leading zero, so a tagged number never equals one that a
 * ledger of an earlier version (without a tag) gave the same day: those carry a 10-digit sequence
 * whose first digit is 0 until the billionth bill of a day.
 *
 * @example newLedgerTag() // → '417'
 * @example newLedgerTag(new Set(['417'])) // → any tag but '417'
 */
export function newLedgerTag(taken: ReadonlySet<string> = new Set()): string {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const tag = String(randomInt(100, 1000));
    if (!taken.has(tag)) return tag;
  }
  throw new BillNoError('every bill tag 100–999 is taken by another ledger this one can see');
}

/**
 * The tag a ledger opens with: the one it keeps (`stored`, checked), which must equal `wanted`
 * (BOT_BILLNO_TAG) when one is asked for. A mismatch refuses to open rather than adopt: bill numbers
 * are fixed when a grant is recorded, so switching tags never renumbers a recorded grant, but it must
 * be the operator's decision (the new tag may be another environment's).
 *
 * @example ledgerTagFor('417', undefined) // → '417'
 * @example ledgerTagFor('417', '555') // throws BillNoError naming both
 */
export function ledgerTagFor(stored: unknown, wanted: string | undefined): string {
  const tag = checkedLedgerTag(stored);
  if (wanted === undefined || wanted === tag) return tag;
  throw new BillNoError(
    `BOT_BILLNO_TAG is ${wanted} but this ledger numbers its bills with tag ${tag} (ledger_meta 'bill_tag'); refusing to open. ` +
      `Set BOT_BILLNO_TAG=${tag} (or unset it) to keep this ledger's tag, or, to move this ledger to ${wanted}, stop every bot on it and run ` +
      `UPDATE ledger_meta SET value = '${wanted}' WHERE key = 'bill_tag' — grants already recorded keep their bill numbers, new ones use the new tag`,
  );
}

/**
 * Checks a tag asked for by the operator (BOT_BILLNO_TAG) before it is used; undefined passes.
 *
 * @example wantedLedgerTag('555') // → '555';  wantedLedgerTag('055') // throws
 */
export function wantedLedgerTag(value: string | undefined): string | undefined {
  if (value === undefined || isLedgerTag(value)) return value;
  throw new BillNoError(`the bill tag asked for (BOT_BILLNO_TAG) must be three digits, 100–999 (got ${JSON.stringify(value)})`);
}

/** True for a well-formed ledger tag (three digits, 100–999). */
export function isLedgerTag(value: unknown): value is string {
  return typeof value === 'string' && LEDGER_TAG.test(value);
}

/**
 * The tag a ledger read back from its own table, checked: a missing or hand-edited value stops the
 * ledger from opening (its bill numbers would be wrong) with what to do about it.
 */
export function checkedLedgerTag(value: unknown): string {
  if (isLedgerTag(value)) return value;
  throw new BillNoError(
    `the ledger's bill tag (ledger_meta 'bill_tag') is ${value === undefined ? 'missing' : `malformed: ${JSON.stringify(value)}`}; ` +
      'it must be three digits, 100–999. Delete the row and the next start draws a new one (bills already recorded keep their numbers)',
  );
}

/**
 * The other ledgers a ledger can see as it opens, which must not share its tag: on PostgreSQL the
 * ledgers of the other schemas of the same database (BOT_PG_SCHEMA: staging beside production).
 */
export interface OtherLedgers {
  /** Where this ledger is (its schema). */
  readonly here: string;
  /** Where each other ledger is (its schema) → the tag it stores, as read (malformed ones are ignored). */
  readonly tags: ReadonlyMap<string, unknown>;
}

/**
 * The tag rules a ledger adapter applies as it opens, so the adapter only reads and writes its
 * `ledger_meta` row and the choice stays here. Built by the store factory from BOT_BILLNO_TAG
 * ({@link ledgerTagRules}) and passed to the adapter.
 */
export interface LedgerTagRules {
  /**
   * The tag to store in a ledger that has none yet: the one asked for, else one drawn that none of
   * `others` uses. Throws when another ledger uses the tag asked for.
   */
  forNewLedger(others?: OtherLedgers): string;
  /**
   * The tag a ledger opens with, from the value it stores: checked ({@link checkedLedgerTag}), equal
   * to the one asked for ({@link ledgerTagFor}), used by none of `others`.
   */
  opening(stored: unknown, others?: OtherLedgers): string;
}

/**
 * The {@link LedgerTagRules} for BOT_BILLNO_TAG (`wanted`, checked now: a malformed one throws before
 * any ledger is touched), or for no tag asked for (a new ledger draws one).
 *
 * @example SqliteLedger.create(db, { tags: ledgerTagRules(settings.store.billNoTag) })
 * @example ledgerTagRules('555').opening('417') // throws BillNoError naming both
 */
export function ledgerTagRules(wanted?: string): LedgerTagRules {
  const asked = wantedLedgerTag(wanted);
  return {
    forNewLedger(others) {
      const tag = asked ?? newLedgerTag(new Set(tagsOf(others).values()));
      refuseSharedTag(tag, others);
      return tag;
    },
    opening(stored, others) {
      const tag = ledgerTagFor(stored, asked);
      refuseSharedTag(tag, others);
      return tag;
    },
  };
}

/** The well-formed tags of `others`, by where each ledger is. */
function tagsOf(others: OtherLedgers | undefined): Map<string, string> {
  const tags = new Map<string, string>();
  for (const [where, tag] of others?.tags ?? []) if (isLedgerTag(tag)) tags.set(where, tag);
  return tags;
}

/** Throws when a ledger of `others` uses `tag`, naming where each is. */
function refuseSharedTag(tag: string, others: OtherLedgers | undefined): void {
  const shared = [...tagsOf(others)].filter(([, t]) => t === tag).map(([where]) => where);
  if (others && shared.length > 0) {
    throw new BillNoError(
      `the ledger in schema ${others.here} and the ledger in schema ${shared.join(', ')} of the same database both use bill tag ${tag}; ` +
        "refusing to open: on one mch_id WeChat Pay would answer the second one's bills with the first one's packets. " +
        `Give each environment its own BOT_BILLNO_TAG (100–999) — for this ledger: stop its bots, UPDATE ledger_meta SET value = '<new tag>' ` +
        "WHERE key = 'bill_tag' in this schema and set BOT_BILLNO_TAG to it (grants already recorded keep their bill numbers)",
    );
  }
}

/**
 * The prefix a ledger draws its sequence under: `billNoPrefix + tag`, or the prefix as it is when the
 * mch_id is so long that the tag would leave fewer than four sequence digits (a 10-digit mch_id leaves
 * seven: 9,999,999 bills per ledger per day).
 *
 * @example withLedgerTag('190000010920260102', '417') // → '190000010920260102417'
 */
export function withLedgerTag(prefix: string, tag: string): string {
  if (!isLedgerTag(tag)) throw new BillNoError(`ledger tag must be three digits, 100–999 (got ${JSON.stringify(tag)})`);
  return BILL_NO_LENGTH - prefix.length - LEDGER_TAG_DIGITS >= MIN_SEQUENCE_DIGITS ? prefix + tag : prefix;
}

/** True when `value` has the shape of a bill number (28 digits). */
export function isBillNo(value: string): boolean {
  return /^\d{28}$/.test(value);
}
