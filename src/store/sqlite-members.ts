/**
 * The member store on SQLite (default): tables `card_members` and `card_member_numbers` in the bot's
 * database file, migrated as component `card-members` (beside the ledger, on its `synchronous=FULL`
 * connection). `upsert` runs in one `BEGIN IMMEDIATE` transaction and `nextNumber` is one
 * `INSERT … ON CONFLICT DO UPDATE … RETURNING`, so processes sharing the file never get one number twice.
 * A lock held by another process never stalls the event loop (`runWhenUnlocked`).
 *
 * @example const members = SqliteMemberStore.create(openSqlite('data/wechat-bot.sqlite'));
 * @see https://www.sqlite.org/lang_upsert.html
 */
import type { Member, MemberStoreWithNumbers } from '../cards/member-store';
import { MemberStoreError } from '../lib/store-error';
import { MEMBER_COLUMNS, memberTablesMigration, memberValues, rowToMember, type MemberRow } from './member-rows';
import { runWhenUnlocked } from './run-when-unlocked';
import { migrate, type Database } from './sqlite-migrate';

/** Schema steps of the `card-members` component (append-only). */
export const SQLITE_MEMBER_MIGRATIONS: readonly string[] = [memberTablesMigration('sqlite')];

/**
 * Member store over a better-sqlite3 connection.
 *
 * @example const members = SqliteMemberStore.create(db);
 * @see https://github.com/WiseLibs/better-sqlite3/blob/master/docs/api.md#transactionfunction---function
 */
export class SqliteMemberStore implements MemberStoreWithNumbers {
  private readonly upsertTx: (m: Member) => Promise<{ created: boolean }>;

  private constructor(readonly db: Database) {
    const insert = db.prepare(`INSERT INTO card_members (${MEMBER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (card_id, code) DO NOTHING`);
    const refresh = db.prepare(
      'UPDATE card_members SET open_id = ?, fields = ?, initial_bonus = ?, initial_balance = ? WHERE card_id = ? AND code = ? AND activated_at IS NULL',
    );
    const tx = db.transaction((m: Member) => {
      if (insert.run(...memberValues(m)).changes === 1) return { created: true };
      refresh.run(m.openId, JSON.stringify(m.fields), m.initialBonus, m.initialBalance, m.cardId, m.code);
      return { created: false };
    });
    this.upsertTx = (m) => runWhenUnlocked(db, () => tx.immediate(m));
  }

  /**
   * Migrates and wraps a connection (closed by its owner).
   *
   * @example SqliteMemberStore.create(openSqlite(file))
   */
  static create(db: Database): SqliteMemberStore {
    migrate(db, 'card-members', SQLITE_MEMBER_MIGRATIONS);
    return new SqliteMemberStore(db);
  }

  async upsert(m: Member): Promise<{ created: boolean }> {
    try {
      return await this.upsertTx(m);
    } catch (error) {
      throw new MemberStoreError('the member could not be recorded', error);
    }
  }

  async findByCode(cardId: string, code: string): Promise<Member | undefined> {
    const row = await this.read(() => this.db.prepare<[string, string], MemberRow>('SELECT * FROM card_members WHERE card_id = ? AND code = ?').get(cardId, code));
    return row ? rowToMember(row) : undefined;
  }

  async findByOpenId(openId: string, cardId?: string): Promise<Member[]> {
    const rows = await this.read(() =>
      this.db
        .prepare<[string, string | null, string | null], MemberRow>('SELECT * FROM card_members WHERE open_id = ? AND (? IS NULL OR card_id = ?) ORDER BY id')
        .all(openId, cardId ?? null, cardId ?? null),
    );
    return rows.map(rowToMember);
  }

  async list(opts: { cardId?: string; limit: number; offset: number }): Promise<Member[]> {
    const c = opts.cardId ?? null;
    const rows = await this.read(() =>
      this.db
        .prepare<[string | null, string | null, number, number], MemberRow>('SELECT * FROM card_members WHERE (? IS NULL OR card_id = ?) ORDER BY id LIMIT ? OFFSET ?')
        .all(c, c, opts.limit, opts.offset),
    );
    return rows.map(rowToMember);
  }

  async markActivated(cardId: string, code: string, at: number): Promise<boolean> {
    const r = await this.write('the activation could not be recorded', () =>
      this.db.prepare('UPDATE card_members SET activated_at = ? WHERE card_id = ? AND code = ? AND activated_at IS NULL').run(at, cardId, code),
    );
    return r.changes === 1;
  }

  async nextNumber(cardId: string): Promise<number> {
    const row = await this.write('no membership number could be taken', () =>
      this.db
        .prepare<[string], { last: number }>(
          'INSERT INTO card_member_numbers (card_id, last) VALUES (?, 1) ON CONFLICT (card_id) DO UPDATE SET last = last + 1 RETURNING last',
        )
        .get(cardId),
    );
    return Number(row!.last);
  }

  private read<T>(step: () => T): Promise<T> {
    return this.write('the members could not be read', step);
  }

  private async write<T>(what: string, step: () => T): Promise<T> {
    try {
      return await runWhenUnlocked(this.db, step);
    } catch (error) {
      throw new MemberStoreError(what, error);
    }
  }
}
