/**
 * The grants' history in the SQL ledger adapters: the `ledger_grant_events` table (ledger schema
 * step 5, with the index the console's search by follower uses), the insert of the plans' `appendEvents` step
 * and the row mapping. The table is append-only: nothing updates or deletes its rows. Grants recorded
 * before step 5 keep reading as they did, with an empty history.
 *
 * @example db.prepare(INSERT_EVENT_SQL_SQLITE).run(...eventValues(event))
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import type { GrantEvent, GrantEventType, GrantStatus, NewGrantEvent, PayAnswer } from '../rewards/ledger';

/**
 * Schema step 5 of the ledger (both SQL adapters): the grants' history, and an index for searching
 * by follower (step 4's `ledger_grants_created_at` serves the date range). `grant_id` has no foreign key: the rows are written in the grant's own
 * transaction, and a key would only make tools that empty `ledger_grants` (TRUNCATE) refuse.
 */
export function grantEventsMigration(dialect: 'sqlite' | 'pg'): string {
  const [id, time] = dialect === 'pg' ? ['BIGSERIAL PRIMARY KEY', 'BIGINT'] : ['INTEGER PRIMARY KEY AUTOINCREMENT', 'INTEGER'];
  return `CREATE TABLE ledger_grant_events (
     id          ${id},
     grant_id    ${time} NOT NULL,
     at          ${time} NOT NULL,
     type        TEXT NOT NULL,
     status      TEXT NOT NULL,
     detail      TEXT,
     pay_call    TEXT,
     pay_outcome TEXT,
     pay_code    TEXT,
     pay_message TEXT,
     pay_detail  TEXT
   );
   CREATE INDEX ledger_grant_events_grant ON ledger_grant_events (grant_id, id);
   CREATE INDEX ledger_grants_open_id ON ledger_grants (open_id, id)`;
}

/**
 * Schema step 6 of the ledger (both SQL adapters): WeChat Pay's raw `return_code` / `result_code` of
 * an answer beside its classification. Rows written before keep NULL there (the history shows none).
 */
export const GRANT_EVENTS_WIRE_CODES_MIGRATION = `ALTER TABLE ledger_grant_events ADD COLUMN pay_return_code TEXT;
   ALTER TABLE ledger_grant_events ADD COLUMN pay_result_code TEXT`;

const COLUMNS = [
  'grant_id',
  'at',
  'type',
  'status',
  'detail',
  'pay_call',
  'pay_outcome',
  'pay_code',
  'pay_message',
  'pay_detail',
  'pay_return_code',
  'pay_result_code',
] as const;

/** `INSERT INTO ledger_grant_events (…) VALUES (…)` with the driver's placeholders. */
export function insertEventSql(mark: (i: number) => string): string {
  return `INSERT INTO ledger_grant_events (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((_, i) => mark(i + 1)).join(', ')})`;
}

/**
 * PostgreSQL: every event of one `appendEvents` step in one statement (one round trip).
 * Parameters: one array per column, in the order of {@link eventColumns}.
 */
export const PG_INSERT_EVENTS_SQL = `INSERT INTO ledger_grant_events (${COLUMNS.join(', ')})
  SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])`;

/** An event's values in column order. */
export function eventValues(e: NewGrantEvent): unknown[] {
  const a = e.answer;
  return [
    ...[e.grantId, e.at, e.type, e.status, e.detail],
    ...[a?.call ?? null, a?.outcome ?? null, a?.code ?? null, a?.message ?? null, a?.detail ?? null, a?.returnCode ?? null, a?.resultCode ?? null],
  ];
}

/** Events as one array per column (the parameters of {@link PG_INSERT_EVENTS_SQL}). */
export function eventColumns(events: readonly NewGrantEvent[]): unknown[][] {
  const rows = events.map(eventValues);
  return COLUMNS.map((_, i) => rows.map((r) => r[i]));
}

/** A `ledger_grant_events` row as a driver returns it (PostgreSQL BIGINTs arrive as strings). */
export interface GrantEventRow {
  id: number | string;
  grant_id: number | string;
  at: number | string;
  type: string;
  status: string;
  detail: string | null;
  pay_call: string | null;
  pay_outcome: string | null;
  pay_code: string | null;
  pay_message: string | null;
  pay_detail: string | null;
  /** Step 6; NULL for rows written before. */
  pay_return_code?: string | null;
  pay_result_code?: string | null;
}

/** Converts a row into the port's {@link GrantEvent}. */
export function rowToEvent(r: GrantEventRow): GrantEvent {
  return {
    id: Number(r.id),
    grantId: Number(r.grant_id),
    at: Number(r.at),
    type: r.type as GrantEventType,
    status: r.status as GrantStatus,
    detail: r.detail,
    answer: r.pay_call === null ? null : rowToAnswer(r, r.pay_call),
  };
}

function rowToAnswer(r: GrantEventRow, call: string): PayAnswer {
  const answer: PayAnswer = { call, outcome: r.pay_outcome ?? '', code: r.pay_code, message: r.pay_message, detail: r.pay_detail };
  if (r.pay_return_code) answer.returnCode = r.pay_return_code;
  if (r.pay_result_code) answer.resultCode = r.pay_result_code;
  return answer;
}
