/**
 * The member tables (`card_members`, `card_member_numbers`), written once for the SQLite and the
 * PostgreSQL adapter, and the row mapping both use. The dialects differ in the row id and the integer
 * (PostgreSQL's BIGINT comes back as a string, so every number is read through `Number`).
 *
 * - `card_members`: one row per (card_id, code); a membership number is unique per card.
 * - `card_member_numbers`: the last number handed out per card (`UPDATE … RETURNING`, atomic).
 *
 * @example migrate(db, 'card-members', [memberTablesMigration('sqlite')]);
 * @see https://www.postgresql.org/docs/current/sql-insert.html#SQL-ON-CONFLICT
 */
import type { Member } from '../cards/member-store';

/** The SQL dialect of a step. */
export type MemberDialect = 'sqlite' | 'pg';

/** Schema step 1 of the `card-members` component. */
export function memberTablesMigration(dialect: MemberDialect): string {
  const id = dialect === 'pg' ? 'BIGSERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT';
  const int = dialect === 'pg' ? 'BIGINT' : 'INTEGER';
  return `CREATE TABLE card_members (
     id                INTEGER_ID,
     card_id           TEXT   NOT NULL,
     code              TEXT   NOT NULL,
     open_id           TEXT   NOT NULL,
     membership_number TEXT   NOT NULL,
     activated_at      ${int},         -- epoch ms; NULL until membercard/activate succeeded
     fields            TEXT   NOT NULL,  -- JSON object of the form's answers
     initial_bonus     ${int} NOT NULL,
     initial_balance   ${int} NOT NULL,  -- fen
     UNIQUE (card_id, code),
     UNIQUE (card_id, membership_number)
   );
   CREATE INDEX card_members_open_id ON card_members (open_id);
   CREATE TABLE card_member_numbers (
     card_id TEXT PRIMARY KEY,
     last    ${int} NOT NULL
   );`.replace('INTEGER_ID', id);
}

/** The columns written by an upsert, in the order of {@link memberValues}. */
export const MEMBER_COLUMNS = 'card_id, code, open_id, membership_number, activated_at, fields, initial_bonus, initial_balance';

/** A `card_members` row as the drivers return it. */
export interface MemberRow {
  card_id: string;
  code: string;
  open_id: string;
  membership_number: string;
  activated_at: number | string | null;
  fields: string;
  initial_bonus: number | string;
  initial_balance: number | string;
}

/**
 * The values of {@link MEMBER_COLUMNS} for a member.
 *
 * @example db.prepare(`INSERT INTO card_members (${MEMBER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run(...memberValues(m))
 */
export function memberValues(m: Member): [string, string, string, string, number | null, string, number, number] {
  return [m.cardId, m.code, m.openId, m.membershipNumber, m.activatedAt ?? null, JSON.stringify(m.fields), m.initialBonus, m.initialBalance];
}

/**
 * A row as a {@link Member}.
 *
 * @example rowToMember(db.prepare('SELECT * FROM card_members WHERE id = 1').get())
 */
export function rowToMember(r: MemberRow): Member {
  const m: Member = {
    cardId: r.card_id,
    code: r.code,
    openId: r.open_id,
    membershipNumber: r.membership_number,
    fields: JSON.parse(r.fields) as Record<string, string>,
    initialBonus: Number(r.initial_bonus),
    initialBalance: Number(r.initial_balance),
  };
  if (r.activated_at !== null) m.activatedAt = Number(r.activated_at);
  return m;
}
