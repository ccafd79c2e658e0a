/**
 * Row mapping shared by the SQL ledger adapters (SQLite and PostgreSQL use the same column names).
 *
 * @example const grant = rowToGrant(db.prepare('SELECT * FROM ledger_grants WHERE id = ?').get(1));
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import type { GrantOutcome } from '../rewards/rewards-port';
import type { CampaignPause, GrantStatus, HeldReservation, LedgerGrant, LedgerSummaryRow, Reservation, Usage } from '../rewards/ledger';

/** A `ledger_grants` row as a driver returns it (PostgreSQL BIGINTs arrive as strings). */
export interface GrantRow {
  id: number | string;
  dedupe_key: string;
  rule_id: string;
  kind: string;
  campaign: string;
  open_id: string;
  amount_fen: number | string;
  bill_no: string | null;
  status: string;
  outcome: string;
  reason: string | null;
  attempts: number | string;
  next_attempt_at: number | string | null;
  last_error: string | null;
  send_list_id: string | null;
  payload: string;
  reservations: string;
  created_at: number | string;
  updated_at: number | string;
  sent_at: number | string | null;
  settled_at: number | string | null;
  checked_at: number | string | null;
  /** Operator actions (ledger migration 3): `cancelled` / `reissued`, by whom, why, when. */
  action: string | null;
  action_by: string | null;
  action_reason: string | null;
  action_at: number | string | null;
  reissue_of: string | null;
  reissued_as: string | null;
}

const num = (v: number | string): number => (typeof v === 'number' ? v : Number(v));
const numOrNull = (v: number | string | null): number | null => (v === null ? null : num(v));

/** Converts a row into the port's {@link LedgerGrant}. */
export function rowToGrant(row: GrantRow): LedgerGrant {
  return {
    id: num(row.id),
    dedupeKey: row.dedupe_key,
    ruleId: row.rule_id,
    kind: row.kind,
    campaign: row.campaign,
    openId: row.open_id,
    amountFen: num(row.amount_fen),
    billNo: row.bill_no,
    status: row.status as GrantStatus,
    outcome: row.outcome as GrantOutcome,
    reason: row.reason,
    attempts: num(row.attempts),
    nextAttemptAt: numOrNull(row.next_attempt_at),
    lastError: row.last_error,
    sendListId: row.send_list_id,
    payload: JSON.parse(row.payload) as Record<string, unknown>,
    reservations: JSON.parse(row.reservations) as HeldReservation[],
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
    sentAt: numOrNull(row.sent_at),
    settledAt: numOrNull(row.settled_at),
    checkedAt: numOrNull(row.checked_at),
    operatorAction:
      row.action === 'cancelled' || row.action === 'reissued'
        ? { action: row.action, by: row.action_by ?? '', reason: row.action_reason ?? '', at: num(row.action_at ?? 0) }
        : null,
    reissueOf: row.reissue_of ?? null,
    reissuedAs: row.reissued_as ?? null,
  };
}

/**
 * Schema step 3 of the ledger (both SQL adapters): operator actions on a grant and the reissue link.
 * `reissue_of` is unique: a failed grant is reissued at most once, whichever process asks.
 */
export function operatorColumnsMigration(timeType: 'INTEGER' | 'BIGINT'): string {
  return `ALTER TABLE ledger_grants ADD COLUMN action TEXT;
   ALTER TABLE ledger_grants ADD COLUMN action_by TEXT;
   ALTER TABLE ledger_grants ADD COLUMN action_reason TEXT;
   ALTER TABLE ledger_grants ADD COLUMN action_at ${timeType};
   ALTER TABLE ledger_grants ADD COLUMN reissue_of TEXT;
   ALTER TABLE ledger_grants ADD COLUMN reissued_as TEXT;
   CREATE UNIQUE INDEX ledger_grants_reissue_of ON ledger_grants (reissue_of)`;
}

/** Every reservation kind (a cancel gives them all back). */
export const ALL_RESERVATION_KINDS = ['budget', 'per_user', 'follower_daily', 'merchant_daily'] as const;

/** Statuses whose outbox entry is removed by `settle` (HELD: never retried automatically). */
export const SETTLED_STATUSES: readonly GrantStatus[] = ['SENT', 'RECEIVED', 'RFUND_ING', 'REFUND', 'FAILED', 'HELD'];

/** Statuses that end a grant's life (`settled_at` is set). */
export const FINAL_STATUSES: readonly GrantStatus[] = ['RECEIVED', 'REFUND', 'FAILED', 'REFUSED'];

/** Truncates an error text stored in `last_error` / `reason`. */
export function clip(text: string | undefined | null, max = 500): string | null {
  if (text === undefined || text === null) return null;
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * The part of each reservation a grant keeps (what `settle` gives back on release); used by every ledger adapter.
 *
 * @example const held = heldReservations(input.reservations);
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function heldReservations(reservations: readonly Reservation[]): HeldReservation[] {
  return reservations.map(({ kind, key, count, amountFen }) => ({ kind, key, count, amountFen }));
}

/**
 * Converts a `ledger_usage` row (or its absence) into a {@link Usage}; no row means nothing used yet.
 *
 * @example const usage = rowToUsage(db.prepare('SELECT count, amount_fen FROM ledger_usage WHERE key = ?').get(key));
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function rowToUsage(row: { count: number | string; amount_fen: number | string } | undefined): Usage {
  return row ? { count: num(row.count), amountFen: num(row.amount_fen) } : { count: 0, amountFen: 0 };
}

/**
 * Converts a row of the per-campaign, per-status summary query into a {@link LedgerSummaryRow}.
 *
 * @example const rows = (await pool.query(SUMMARY)).rows.map(rowToSummary);
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function rowToSummary(row: { campaign: string; status: string; count: number | string; amount_fen: number | string }): LedgerSummaryRow {
  return { campaign: row.campaign, status: row.status as GrantStatus, count: num(row.count), amountFen: num(row.amount_fen) };
}

/**
 * Converts a `ledger_campaign_pause` row into a {@link CampaignPause}.
 *
 * @example const pauses = db.prepare('SELECT * FROM ledger_campaign_pause').all().map(rowToPause);
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function rowToPause(row: { campaign: string; reason: string; paused_by: string; paused_at: number | string }): CampaignPause {
  return { campaign: row.campaign, reason: row.reason, by: row.paused_by as CampaignPause['by'], pausedAt: num(row.paused_at) };
}
