/**
 * The member store on PostgreSQL (many instances): tables `card_members` and `card_member_numbers`,
 * migrated as component `card-members`. `upsert` is `INSERT … ON CONFLICT (card_id, code) DO NOTHING`
 * then, for a conflict, a conditional refresh (`WHERE activated_at IS NULL`); `nextNumber` is one
 * `INSERT … ON CONFLICT DO UPDATE … RETURNING` — each statement atomic, so any number of instances get
 * distinct numbers and one row per code.
 *
 * @example const members = await PostgresMemberStore.create(pool);
 * @see https://www.postgresql.org/docs/current/sql-insert.html#SQL-ON-CONFLICT
 */
import type { Pool } from 'pg';
import type { Member, MemberStoreWithNumbers } from '../cards/member-store';
import { MemberStoreError } from '../lib/store-error';
import { MEMBER_COLUMNS, memberTablesMigration, memberValues, rowToMember, type MemberRow } from './member-rows';
import { migratePg } from './pg-migrate';

/** Schema steps of the `card-members` component (append-only). */
export const PG_MEMBER_MIGRATIONS: readonly string[] = [memberTablesMigration('pg')];

/**
 * Member store over a `pg` pool (ended by its owner).
 *
 * @example const members = await PostgresMemberStore.create(pool);
 * @see https://node-postgres.com/apis/pool
 */
export class PostgresMemberStore implements MemberStoreWithNumbers {
  private constructor(readonly pool: Pool) {}

  /**
   * Migrates and wraps a pool.
   *
   * @example await PostgresMemberStore.create(pool)
   */
  static async create(pool: Pool): Promise<PostgresMemberStore> {
    await migratePg(pool, 'card-members', PG_MEMBER_MIGRATIONS);
    return new PostgresMemberStore(pool);
  }

  async upsert(m: Member): Promise<{ created: boolean }> {
    return this.run('the member could not be recorded', async () => {
      const ins = await this.pool.query(
        `INSERT INTO card_members (${MEMBER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (card_id, code) DO NOTHING`,
        memberValues(m),
      );
      if (ins.rowCount === 1) return { created: true };
      await this.pool.query(
        'UPDATE card_members SET open_id = $1, fields = $2, initial_bonus = $3, initial_balance = $4 WHERE card_id = $5 AND code = $6 AND activated_at IS NULL',
        [m.openId, JSON.stringify(m.fields), m.initialBonus, m.initialBalance, m.cardId, m.code],
      );
      return { created: false };
    });
  }

  async findByCode(cardId: string, code: string): Promise<Member | undefined> {
    const rows = await this.select('SELECT * FROM card_members WHERE card_id = $1 AND code = $2', [cardId, code]);
    return rows[0];
  }

  findByOpenId(openId: string, cardId?: string): Promise<Member[]> {
    return this.select('SELECT * FROM card_members WHERE open_id = $1 AND ($2::text IS NULL OR card_id = $2) ORDER BY id', [openId, cardId ?? null]);
  }

  list(opts: { cardId?: string; limit: number; offset: number }): Promise<Member[]> {
    return this.select('SELECT * FROM card_members WHERE ($1::text IS NULL OR card_id = $1) ORDER BY id LIMIT $2 OFFSET $3', [
      opts.cardId ?? null,
      opts.limit,
      opts.offset,
    ]);
  }

  async markActivated(cardId: string, code: string, at: number): Promise<boolean> {
    const r = await this.run('the activation could not be recorded', () =>
      this.pool.query('UPDATE card_members SET activated_at = $1 WHERE card_id = $2 AND code = $3 AND activated_at IS NULL', [at, cardId, code]),
    );
    return r.rowCount === 1;
  }

  async nextNumber(cardId: string): Promise<number> {
    const r = await this.run('no membership number could be taken', () =>
      this.pool.query<{ last: string }>(
        'INSERT INTO card_member_numbers (card_id, last) VALUES ($1, 1) ON CONFLICT (card_id) DO UPDATE SET last = card_member_numbers.last + 1 RETURNING last',
        [cardId],
      ),
    );
    return Number(r.rows[0]!.last);
  }

  private async select(sql: string, values: unknown[]): Promise<Member[]> {
    const r = await this.run('the members could not be read', () => this.pool.query<MemberRow>(sql, values));
    return r.rows.map(rowToMember);
  }

  private async run<T>(what: string, step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      throw new MemberStoreError(what, error);
    }
  }
}
