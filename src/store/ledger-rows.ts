/**
 * Row mapping and schema shared by the SQL ledger adapters (SQLite and PostgreSQL use the same column
 * names; the schema steps take the dialect's types).
 *
 * @example const grant = rowToGrant(db.prepare('SELECT * FROM ledger_grants WHERE id = ?').get(1));
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import type { GrantOutcome } from '../rewards/rewards-port';
import type { CampaignPause, GrantStatus, HeldReservation, LedgerGrant, LedgerSummaryRow, Usage } from '../rewards/ledger';
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

// === The schema (both SQL adapters; the dialect names its types)

/**
 * The types a SQL dialect writes the ledger's columns in: the integer of amounts, counts, times and
 * ids (SQLite's INTEGER is 64-bit already; PostgreSQL needs BIGINT) and the grant id that numbers itself.
 */
export interface LedgerSqlTypes {
  readonly bigint: 'INTEGER' | 'BIGINT';
  readonly grantId: 'INTEGER PRIMARY KEY AUTOINCREMENT' | 'BIGSERIAL PRIMARY KEY';
}

/**
 * Schema step 1 of the ledger: the grants, the outbox, the usage of every limit, the per-day bill
 * sequences and the campaign pauses, in the dialect's `types`.
 *
 * @example migrate(db, 'ledger', [ledgerTablesMigration({ bigint: 'INTEGER', grantId: 'INTEGER PRIMARY KEY AUTOINCREMENT' }), …])
 * @see https://www.sqlite.org/lang_createtable.html
 */
export function ledgerTablesMigration(types: LedgerSqlTypes): string {
  const int = types.bigint;
  return `CREATE TABLE ledger_grants (
     id              ${types.grantId},
     dedupe_key      TEXT    NOT NULL,
     rule_id         TEXT    NOT NULL,
     kind            TEXT    NOT NULL,
     campaign        TEXT    NOT NULL,
     open_id         TEXT    NOT NULL,
     amount_fen      ${int} NOT NULL,
     bill_no         TEXT    UNIQUE,
     status          TEXT    NOT NULL,
     outcome         TEXT    NOT NULL,
     reason          TEXT,
     attempts        INTEGER NOT NULL DEFAULT 0,
     next_attempt_at ${int},
     last_error      TEXT,
     send_list_id    TEXT,
     payload         TEXT    NOT NULL,
     reservations    TEXT    NOT NULL,
     created_at      ${int} NOT NULL,
     updated_at      ${int} NOT NULL,
     sent_at         ${int},
     settled_at      ${int},
     checked_at      ${int},
     UNIQUE (dedupe_key, rule_id)
   );
   CREATE INDEX ledger_grants_status ON ledger_grants (status, checked_at);
   CREATE INDEX ledger_grants_campaign ON ledger_grants (campaign, status);
   CREATE TABLE ledger_outbox (
     grant_id    ${int} PRIMARY KEY REFERENCES ledger_grants (id),
     campaign    TEXT    NOT NULL,
     due_at      ${int} NOT NULL,
     lease_owner TEXT,
     lease_until ${int}
   );
   CREATE INDEX ledger_outbox_due ON ledger_outbox (due_at);
   CREATE TABLE ledger_usage (
     key        TEXT    PRIMARY KEY,
     count      ${int} NOT NULL,
     amount_fen ${int} NOT NULL
   );
   CREATE TABLE ledger_bill_seq (
     prefix TEXT    PRIMARY KEY,
     last   ${int} NOT NULL
   );
   CREATE TABLE ledger_campaign_pause (
     campaign  TEXT    PRIMARY KEY,
     reason    TEXT    NOT NULL,
     paused_by TEXT    NOT NULL,
     paused_at ${int} NOT NULL
   )`;
}

/** Schema step 2 of the ledger: the ledger's tag inside its bill numbers (see `withLedgerTag`); the row is written when the ledger opens. */
export const LEDGER_META_MIGRATION = `CREATE TABLE ledger_meta (
     key   TEXT PRIMARY KEY,
     value TEXT NOT NULL
   )`;

/**
 * Schema step 3 of the ledger (both SQL adapters): operator actions on a grant and the reissue link.
 * `reissue_of` is unique: a failed grant is reissued at most once, whichever process asks.
 */
export function operatorColumnsMigration(timeType: LedgerSqlTypes['bigint']): string {
  return `ALTER TABLE ledger_grants ADD COLUMN action TEXT;
   ALTER TABLE ledger_grants ADD COLUMN action_by TEXT;
   ALTER TABLE ledger_grants ADD COLUMN action_reason TEXT;
   ALTER TABLE ledger_grants ADD COLUMN action_at ${timeType};
   ALTER TABLE ledger_grants ADD COLUMN reissue_of TEXT;
   ALTER TABLE ledger_grants ADD COLUMN reissued_as TEXT;
   CREATE UNIQUE INDEX ledger_grants_reissue_of ON ledger_grants (reissue_of)`;
}

/**
 * Every schema step of the ledger in the dialect's `types` (append-only: add steps, never edit one).
 * Both SQL adapters share the history: the tables, the bill tag's `ledger_meta`, the operator columns.
 *
 * @example migrate(db, 'ledger', ledgerMigrations({ bigint: 'INTEGER', grantId: 'INTEGER PRIMARY KEY AUTOINCREMENT' }))
 */
export function ledgerMigrations(types: LedgerSqlTypes): readonly string[] {
  return [
    ledgerTablesMigration(types),
    LEDGER_META_MIGRATION,
    // Operator actions (redpack cancel / reissue) and the reissue link.
    operatorColumnsMigration(types.bigint),
  ];
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
