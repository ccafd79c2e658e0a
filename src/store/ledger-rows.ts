/**
 * Row mapping shared by the SQL ledger adapters (SQLite and PostgreSQL use the same column names), and
 * the activity buckets of the console's chart that all three adapters share.
 *
 * @example const grant = rowToGrant(db.prepare('SELECT * FROM ledger_grants WHERE id = ?').get(1));
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import type { GrantOutcome } from '../rewards/rewards-port';
import type { ActivityBucket, ActivityWindow, CampaignPause, GrantStatus, HeldReservation, LedgerGrant, LedgerSummaryRow, Usage } from '../rewards/ledger';
import type { GrantChange, NewGrant } from '../rewards/ledger-plans';

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

// === Writing grants (the columns the plans' `insert` and `update` steps write)

/** Every column of `ledger_grants` but `id`, in the order of {@link grantValues}. */
const GRANT_COLUMNS = [
  'dedupe_key',
  'rule_id',
  'kind',
  'campaign',
  'open_id',
  'amount_fen',
  'bill_no',
  'status',
  'outcome',
  'reason',
  'attempts',
  'next_attempt_at',
  'last_error',
  'send_list_id',
  'payload',
  'reservations',
  'created_at',
  'updated_at',
  'sent_at',
  'settled_at',
  'checked_at',
  'action',
  'action_by',
  'action_reason',
  'action_at',
  'reissue_of',
  'reissued_as',
] as const;

/** The columns a plan changes, in the order of {@link changeValues}. */
const CHANGE_COLUMNS = [
  'status',
  'reason',
  'send_list_id',
  'next_attempt_at',
  'updated_at',
  'sent_at',
  'settled_at',
  'action',
  'action_by',
  'action_reason',
  'action_at',
  'reissued_as',
] as const;

/**
 * `INSERT INTO ledger_grants (…every column but id…) VALUES (…)` with the driver's placeholders
 * (`() => '?'` for SQLite, `(i) => '$' + i` for PostgreSQL) and an optional tail (`RETURNING *`).
 *
 * @example db.prepare(insertGrantSql(() => '?')).run(...grantValues(grant))
 */
export function insertGrantSql(mark: (i: number) => string, tail = ''): string {
  return `INSERT INTO ledger_grants (${GRANT_COLUMNS.join(', ')}) VALUES (${GRANT_COLUMNS.map((_, i) => mark(i + 1)).join(', ')}) ${tail}`;
}

/**
 * A grant as the row {@link rowToGrant} reads back (without the id the store assigns).
 *
 * @example const row = grantRow(grant); const id = insert.run(...grantValues(row)).lastInsertRowid;
 */
export function grantRow(g: NewGrant): Omit<GrantRow, 'id'> {
  const [action, action_by, action_reason, action_at] = actionValues(g.operatorAction);
  return {
    dedupe_key: g.dedupeKey,
    rule_id: g.ruleId,
    kind: g.kind,
    campaign: g.campaign,
    open_id: g.openId,
    amount_fen: g.amountFen,
    bill_no: g.billNo,
    status: g.status,
    outcome: g.outcome,
    reason: g.reason,
    attempts: g.attempts,
    next_attempt_at: g.nextAttemptAt,
    last_error: g.lastError,
    send_list_id: g.sendListId,
    payload: JSON.stringify(g.payload),
    reservations: JSON.stringify(g.reservations),
    created_at: g.createdAt,
    updated_at: g.updatedAt,
    sent_at: g.sentAt,
    settled_at: g.settledAt,
    checked_at: g.checkedAt,
    action,
    action_by,
    action_reason,
    action_at,
    reissue_of: g.reissueOf,
    reissued_as: g.reissuedAs,
  };
}

/** The values of {@link insertGrantSql} for a row. */
export function grantValues(row: Omit<GrantRow, 'id'>): unknown[] {
  return GRANT_COLUMNS.map((c) => row[c]);
}

/**
 * `UPDATE ledger_grants SET …changed columns… WHERE id = ? AND status = ?` (the values: {@link changeValues}, id, from).
 *
 * @example db.prepare(updateGrantSql(() => '?')).run(...changeValues(change), id, from)
 */
export function updateGrantSql(mark: (i: number) => string): string {
  const n = CHANGE_COLUMNS.length;
  return `UPDATE ledger_grants SET ${CHANGE_COLUMNS.map((c, i) => `${c} = ${mark(i + 1)}`).join(', ')} WHERE id = ${mark(n + 1)} AND status = ${mark(n + 2)}`;
}

/** The values of {@link updateGrantSql} for a change. */
export function changeValues(c: GrantChange): unknown[] {
  return [c.status, c.reason, c.sendListId, c.nextAttemptAt, c.updatedAt, c.sentAt, c.settledAt, ...actionValues(c.operatorAction), c.reissuedAs];
}

function actionValues(a: LedgerGrant['operatorAction']): [string | null, string | null, string | null, number | null] {
  return a ? [a.action, a.by, a.reason, a.at] : [null, null, null, null];
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

// === Activity (the console's chart)

/** What each adapter's activity query counts per bucket: g(rants), s(ends), c(laims), r(efunds). */
export type ActivityWhat = 'g' | 's' | 'c' | 'r';
export interface ActivityRow {
  what: ActivityWhat;
  /** The bucket index from `since` (0 = the first). */
  bucket: number | string;
  n: number | string;
}

/** The largest number of buckets one activity query may ask for (as `MAX_ACTIVITY_BUCKETS`). */
const MAX_BUCKETS = 2000;

/** The number of buckets of a window; throws RangeError on a bad window. */
export function activityBucketCount(w: ActivityWindow): number {
  const ok = [w.since, w.until, w.bucketMs].every(Number.isSafeInteger) && w.bucketMs > 0 && w.until > w.since;
  const count = ok ? Math.ceil((w.until - w.since) / w.bucketMs) : 0;
  if (!ok || count > MAX_BUCKETS) throw new RangeError(`ledger activity: since < until and 1–${MAX_BUCKETS} buckets of a whole number of ms are required`);
  return count;
}

/** Every bucket of the window, the counted rows filled in. */
export function activityBuckets(w: ActivityWindow, rows: readonly ActivityRow[]): ActivityBucket[] {
  const out = Array.from({ length: activityBucketCount(w) }, (_, i) => ({ start: w.since + i * w.bucketMs, grants: 0, sends: 0, claims: 0, refunds: 0 }));
  const field = { g: 'grants', s: 'sends', c: 'claims', r: 'refunds' } as const;
  for (const row of rows) {
    const b = out[Number(row.bucket)];
    if (b) b[field[row.what]] += Number(row.n);
  }
  return out;
}

/**
 * Schema step 4 of the ledger (both SQL adapters): the time columns the console's activity query
 * ranges over, indexed, so a chart never scans the whole ledger (on SQLite that scan would hold the
 * process, webhook included).
 */
export const ACTIVITY_INDEXES_MIGRATION = `CREATE INDEX ledger_grants_created_at ON ledger_grants (created_at);
   CREATE INDEX ledger_grants_sent_at ON ledger_grants (sent_at);
   CREATE INDEX ledger_grants_status_settled_at ON ledger_grants (status, settled_at)`;

/**
 * The activity query (one UNION ALL over the indexed time columns), in SQLite's (`@since`, `CAST`) or
 * PostgreSQL's (`$1::bigint`) dialect. Parameters: since, until, bucket (ms), campaign (or null).
 */
export function activitySql(dialect: 'sqlite' | 'pg'): string {
  const p =
    dialect === 'sqlite'
      ? { since: '@since', until: '@until', bucket: '@bucket', campaign: '@campaign' }
      : { since: '$1::bigint', until: '$2::bigint', bucket: '$3::bigint', campaign: '$4::text' };
  const index = (col: string) => (dialect === 'sqlite' ? `CAST((${col} - ${p.since}) / ${p.bucket} AS INTEGER)` : `(${col} - ${p.since}) / ${p.bucket}`);
  return [
    ['g', 'created_at', "outcome = 'granted'"],
    ['s', 'sent_at', 'TRUE'],
    ['c', 'settled_at', "status = 'RECEIVED'"],
    ['r', 'settled_at', "status = 'REFUND'"],
  ]
    .map(
      ([what, col, cond]) =>
        `SELECT '${what}' AS what, ${index(col!)} AS bucket, COUNT(*) AS n FROM ledger_grants
         WHERE ${col} >= ${p.since} AND ${col} < ${p.until} AND ${cond} AND (${p.campaign} IS NULL OR campaign = ${p.campaign}) GROUP BY 2`,
    )
    .join(' UNION ALL ');
}
