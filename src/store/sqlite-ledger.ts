/**
 * The ledger on SQLite (the default store). Every write runs in a `BEGIN IMMEDIATE` transaction, which
 * takes the database's single write lock before reading, so the check-then-reserve steps of
 * `recordGrant` are serialised across threads AND processes sharing the file. A lock held by another
 * process never stalls the event loop: every step waits a few ms in SQLite, then on timers
 * (`runWhenUnlocked`) until the lock is free or `StoreBusyError` (nothing applied). WAL +
 * `synchronous=FULL` (see `openSqlite`) make a commit survive a crash.
 *
 * @example
 * const store = SqliteStore.open('data/bot.sqlite');
 * const ledger = SqliteLedger.create(store.db, { tags: ledgerTagRules() });
 * @see https://www.sqlite.org/lang_transaction.html
 */
import type { LedgerTagRules } from '../rewards/bill-no';
import type {
  ActivityBucket,
  ActivityWindow,
  CampaignPause,
  GrantEvent,
  GrantFilter,
  GrantPage,
  GrantStatus,
  LedgerGrant,
  LedgerSummaryRow,
  Usage,
} from '../rewards/ledger';
import type { LedgerTx, SyncLedgerStorage } from '../rewards/ledger-plans';
import { clip } from '../lib/clip';
import {
  activityBucketCount,
  activityBuckets,
  type ActivityRow,
  activitySql,
  changeValues,
  grantRow,
  grantValues,
  insertGrantSql,
  ledgerMigrations,
  rowToGrant,
  rowToPause,
  rowToSummary,
  rowToUsage,
  updateGrantSql,
  type GrantRow,
} from './ledger-rows';
import { eventValues, GRANT_EVENTS_WIRE_CODES_MIGRATION, grantEventsMigration, insertEventSql, rowToEvent, type GrantEventRow } from './grant-event-rows';
import { grantCountSql, grantSearchSql } from './grant-search-sql';
import { GroupCommit, type WriteOutcome } from './group-commit';
import { isSqliteBusy, runWhenUnlocked, withBusyTimeout } from './run-when-unlocked';
import { migrate, MIGRATION_BUSY_TIMEOUT_MS, type Database } from './sqlite-migrate';

/** Schema steps of the `ledger` component on SQLite (append-only), in its types. */
export const SQLITE_LEDGER_MIGRATIONS: readonly string[] = [
  ...ledgerMigrations({ bigint: 'INTEGER', grantId: 'INTEGER PRIMARY KEY AUTOINCREMENT' }),
  // The grants' history (append-only) and the search indexes of the console.
  grantEventsMigration('sqlite'),
  GRANT_EVENTS_WIRE_CODES_MIGRATION,
];

/**
 * Ledger adapter over a better-sqlite3 connection (share `SqliteStore.db`, or `openSqlite(file)`).
 *
 * @example const ledger = SqliteLedger.create(openSqlite('data/bot.sqlite'), { tags: ledgerTagRules() });
 * @see https://github.com/WiseLibs/better-sqlite3/blob/master/docs/api.md#transactionfunction---function
 */
export class SqliteLedger implements SyncLedgerStorage {
  private readonly q;
  /** Runs a function as a nested transaction (a savepoint inside the batch). */
  private readonly savepoint: (fn: () => unknown) => unknown;

  private constructor(
    /** The connection (shared; `close()` does not close it unless `ownsDb`). */
    readonly db: Database,
    private readonly ownsDb: boolean,
    readonly billTag: string,
  ) {
    const p = <T = unknown>(sql: string) => db.prepare<unknown[], T>(sql);
    this.q = {
      byKey: p<GrantRow>('SELECT * FROM ledger_grants WHERE dedupe_key = ? AND rule_id = ?'),
      byId: p<GrantRow>('SELECT * FROM ledger_grants WHERE id = ?'),
      byBill: p<GrantRow>('SELECT * FROM ledger_grants WHERE bill_no = ?'),
      usage: p<{ count: number; amount_fen: number }>('SELECT count, amount_fen FROM ledger_usage WHERE key = ?'),
      addUsage: p(
        `INSERT INTO ledger_usage (key, count, amount_fen) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET count = count + excluded.count, amount_fen = amount_fen + excluded.amount_fen`,
      ),
      nextSeq: p<{ last: number }>(
        `INSERT INTO ledger_bill_seq (prefix, last) VALUES (?, 1)
         ON CONFLICT (prefix) DO UPDATE SET last = last + 1 RETURNING last`,
      ),
      insert: p(insertGrantSql(() => '?')),
      update: p(updateGrantSql(() => '?')),
      insertOutbox: p('INSERT INTO ledger_outbox (grant_id, campaign, due_at) VALUES (?, ?, ?)'),
      due: p<{ grant_id: number }>(
        `SELECT grant_id FROM ledger_outbox
         WHERE due_at <= @now AND (lease_until IS NULL OR lease_until <= @now)
           AND campaign NOT IN (SELECT campaign FROM ledger_campaign_pause)
         ORDER BY due_at, grant_id LIMIT @limit`,
      ),
      lease: p('UPDATE ledger_outbox SET lease_owner = ?, lease_until = ? WHERE grant_id = ?'),
      markSending: p<{ attempts: number }>(
        `UPDATE ledger_grants SET status = 'SENDING', attempts = attempts + 1, updated_at = @now
         WHERE id = @id AND status IN ('PENDING', 'DEFERRED', 'SENDING')
           AND EXISTS (SELECT 1 FROM ledger_outbox WHERE grant_id = @id AND lease_owner = @owner AND lease_until > @now)
         RETURNING attempts`,
      ),
      reschedule: p(
        `UPDATE ledger_outbox SET due_at = @dueAt, lease_owner = NULL, lease_until = NULL
         WHERE grant_id = @id AND lease_owner = @owner`,
      ),
      rescheduleGrant: p<{ status: string }>(
        `UPDATE ledger_grants SET next_attempt_at = @dueAt, last_error = COALESCE(@lastError, last_error), updated_at = @now
         WHERE id = @id RETURNING status`,
      ),
      insertEvent: p(insertEventSql(() => '?')),
      events: p<GrantEventRow>('SELECT * FROM ledger_grant_events WHERE grant_id = ? ORDER BY id'),
      deleteOutbox: p('DELETE FROM ledger_outbox WHERE grant_id = ?'),
      checked: p('UPDATE ledger_grants SET checked_at = ? WHERE id = ?'),
      summary: p<{ campaign: string; status: string; count: number; amount_fen: number }>(
        `SELECT campaign, status, COUNT(*) AS count, COALESCE(SUM(amount_fen), 0) AS amount_fen
         FROM ledger_grants GROUP BY campaign, status ORDER BY campaign, status`,
      ),
      openCount: p<{ n: number }>('SELECT COUNT(*) AS n FROM ledger_outbox'),
      activity: p<ActivityRow>(activitySql('sqlite')),
      pause: p(
        `INSERT INTO ledger_campaign_pause (campaign, reason, paused_by, paused_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (campaign) DO NOTHING`,
      ),
      resume: p('DELETE FROM ledger_campaign_pause WHERE campaign = ?'),
      paused: p<{ campaign: string; reason: string; paused_by: string; paused_at: number }>('SELECT * FROM ledger_campaign_pause ORDER BY campaign'),
    };
    this.savepoint = db.transaction((fn: () => unknown) => fn());
    this.steps = this.storageSteps();
  }

  /** The plans' storage steps on this connection (run inside the batch transaction, which holds the write lock). */
  private readonly steps: LedgerTx;

  private storageSteps(): LedgerTx {
    const q = this.q;
    const grant = (row: GrantRow | undefined) => (row ? rowToGrant(row) : undefined);
    const insert = (g: Omit<LedgerGrant, 'id'>): LedgerGrant => {
      const row = grantRow(g);
      return rowToGrant({ id: Number(q.insert.run(...grantValues(row)).lastInsertRowid), ...row });
    };
    const addUsage: LedgerTx['addUsage'] = (deltas) => {
      for (const d of deltas) q.addUsage.run(d.key, d.count, d.amountFen);
    };
    return {
      findByKey: (dedupeKey, ruleId) => grant(q.byKey.get(dedupeKey, ruleId)),
      lockByBill: (billNo) => grant(q.byBill.get(billNo)),
      lockById: (id) => grant(q.byId.get(id)),
      lockUsage: (keys) => new Map(keys.map((k) => [k, this.usageOf(k)])),
      insert,
      insertGranted: ({ grant: g, seqPrefix, billNoOf, usage, dueAt }) => {
        const seq = q.nextSeq.get(seqPrefix)!.last;
        const inserted = insert({ ...g, billNo: billNoOf(seq) });
        addUsage(usage);
        q.insertOutbox.run(inserted.id, inserted.campaign, dueAt);
        return { grant: inserted, seq };
      },
      update: (id, from, change) => q.update.run(...changeValues(change), id, from).changes === 1,
      dequeue: (id) => void q.deleteOutbox.run(id),
      addUsage,
      markAttempt: (id, owner, now) => q.markSending.get({ id, owner, now })?.attempts,
      moveDue: (id, { owner, dueAt, now, lastError }) => {
        if (q.reschedule.run({ id, owner, dueAt }).changes !== 1) return undefined;
        return q.rescheduleGrant.get({ id, dueAt, now, lastError })?.status as GrantStatus | undefined;
      },
      appendEvents: (events) => {
        for (const e of events) q.insertEvent.run(...eventValues(e));
      },
    };
  }

  /**
   * Migrates the `ledger` tables on `db` and returns the adapter. Pass `{ ownsDb: true }` when
   * `close()` should close the connection too; `tags` (`ledgerTagRules(BOT_BILLNO_TAG)`, from the
   * store factory) gives a new ledger its tag and checks the tag of an existing one.
   *
   * @example const ledger = SqliteLedger.create(store.db, { tags: ledgerTagRules('555') });
   * @see https://www.sqlite.org/lang_createtable.html
   */
  static create(db: Database, options: { ownsDb?: boolean; tags: LedgerTagRules }): SqliteLedger {
    if (!db || typeof db.prepare !== 'function') throw new TypeError('SqliteLedger.create: db must be a better-sqlite3 Database');
    const { tags } = options;
    migrate(db, 'ledger', SQLITE_LEDGER_MIGRATIONS);
    // The first process to open a new ledger sets its tag; every later one (and every restart) reads it.
    // At startup, like the migrations: this write may wait in SQLite for another process's lock.
    const row = withBusyTimeout(db, MIGRATION_BUSY_TIMEOUT_MS, () => {
      db.prepare("INSERT INTO ledger_meta (key, value) VALUES ('bill_tag', ?) ON CONFLICT (key) DO NOTHING").run(tags.forNewLedger());
      return db.prepare<[], { value: string }>("SELECT value FROM ledger_meta WHERE key = 'bill_tag'").get();
    });
    return new SqliteLedger(db, options.ownsDb ?? false, tags.opening(row?.value));
  }

  private grantById(id: number): LedgerGrant | undefined {
    const row = this.q.byId.get(id);
    return row ? rowToGrant(row) : undefined;
  }

  private usageOf = (key: string): Usage => rowToUsage(this.q.usage.get(key));

  /**
   * Group commit ({@link GroupCommit}): every write (grants, leases, attempts, settlements) asked for
   * in the same tick runs in ONE `BEGIN IMMEDIATE` transaction, each write in its own savepoint (its
   * failure undoes only itself), so the fsync of `synchronous=FULL` is paid once per batch instead of
   * once per write. Every promise resolves only after its batch has committed, so a grant acknowledged
   * to a follower, or a SENDING mark made before a call to WeChat Pay, is durable. Atomicity and
   * isolation are unchanged: the batch holds the database's write lock from its first read to its commit.
   *
   * A batch that finds the database locked by another process is rolled back and retried as a whole
   * on timers (`runWhenUnlocked`), or fails as a whole with `StoreBusyError`.
   */
  private write<T>(fn: () => T): Promise<T> {
    return this.writes.add(fn) as Promise<T>;
  }

  private readonly writes = new GroupCommit<() => unknown, unknown>((batch) => {
    if (!this.db.open) return Promise.reject(new Error('ledger: the database is closed'));
    return runWhenUnlocked(this.db, () => this.writeBatch(batch));
  }, 256);

  /** One attempt at a batch: every write in its savepoint, all in one `BEGIN IMMEDIATE` transaction. */
  private writeBatch(batch: readonly (() => unknown)[]): WriteOutcome<unknown>[] {
    const results: WriteOutcome<unknown>[] = [];
    this.db
      .transaction(() => {
        for (const run of batch) {
          try {
            results.push({ ok: true, value: this.savepoint(run) });
          } catch (error) {
            // A lock held elsewhere is no failure of this write: the whole batch is retried.
            if (isSqliteBusy(error)) throw error;
            results.push({ ok: false, error });
          }
        }
      })
      .immediate();
    return results;
  }

  /** Runs `fn` on this ledger's steps as one write of the batch (its own savepoint; see `write`). */
  async transact<T>(fn: (tx: LedgerTx) => T): Promise<T> {
    return this.write(() => fn(this.steps));
  }

  async claimDue(opts: { owner: string; now: number; leaseMs: number; limit: number }): Promise<LedgerGrant[]> {
    return this.write(() => {
      const ids = this.q.due.all({ now: opts.now, limit: opts.limit }).map((r) => r.grant_id);
      for (const id of ids) this.q.lease.run(opts.owner, opts.now + opts.leaseMs, id);
      return ids.map((id) => this.grantById(id)!);
    });
  }

  async markChecked(id: number, now: number): Promise<void> {
    await this.write(() => this.q.checked.run(now, id));
  }

  /** A read, retried on timers while another process holds a lock that blocks it (see `write`). */
  private read<T>(fn: () => T): Promise<T> {
    return runWhenUnlocked(this.db, fn);
  }

  async getGrant(id: number): Promise<LedgerGrant | undefined> {
    return this.read(() => this.grantById(id));
  }

  async findByBillNo(billNo: string): Promise<LedgerGrant | undefined> {
    const row = await this.read(() => this.q.byBill.get(billNo));
    return row ? rowToGrant(row) : undefined;
  }

  async findByKey(dedupeKey: string, ruleId: string): Promise<LedgerGrant | undefined> {
    const row = await this.read(() => this.q.byKey.get(dedupeKey, ruleId));
    return row ? rowToGrant(row) : undefined;
  }

  async listByStatus(statuses: readonly GrantStatus[], opts: { limit?: number; sentBefore?: number; kind?: string } = {}): Promise<LedgerGrant[]> {
    if (statuses.length === 0) return [];
    const marks = statuses.map(() => '?').join(', ');
    const rows = await this.read(() =>
      this.db
        .prepare<unknown[], GrantRow>(
          `SELECT * FROM ledger_grants WHERE status IN (${marks})
             AND (? IS NULL OR COALESCE(sent_at, created_at) <= ?)
             AND (? IS NULL OR kind = ?)
           ORDER BY COALESCE(checked_at, -1), id LIMIT ?`,
        )
        .all(...statuses, opts.sentBefore ?? null, opts.sentBefore ?? null, opts.kind ?? null, opts.kind ?? null, opts.limit ?? -1),
    );
    return rows.map(rowToGrant);
  }

  async listAll(opts: { campaign?: string; limit?: number; afterId?: number } = {}): Promise<LedgerGrant[]> {
    const rows = await this.read(() =>
      this.db
        .prepare<unknown[], GrantRow>('SELECT * FROM ledger_grants WHERE (? IS NULL OR campaign = ?) AND id > ? ORDER BY id LIMIT ?')
        .all(opts.campaign ?? null, opts.campaign ?? null, opts.afterId ?? 0, opts.limit ?? -1),
    );
    return rows.map(rowToGrant);
  }

  async findGrants(filter: GrantFilter, page: GrantPage): Promise<LedgerGrant[]> {
    const { sql, params } = grantSearchSql('sqlite', filter, page);
    return (await this.read(() => this.db.prepare<unknown[], GrantRow>(sql).all(...params))).map(rowToGrant);
  }

  async countGrants(filter: GrantFilter): Promise<number> {
    const { sql, params } = grantCountSql('sqlite', filter);
    return (await this.read(() => this.db.prepare<unknown[], { n: number }>(sql).get(...params)!)).n;
  }

  async grantEvents(grantId: number): Promise<GrantEvent[]> {
    return (await this.read(() => this.q.events.all(grantId))).map(rowToEvent);
  }

  async summary(): Promise<LedgerSummaryRow[]> {
    return (await this.read(() => this.q.summary.all())).map(rowToSummary);
  }

  async openCount(): Promise<number> {
    return (await this.read(() => this.q.openCount.get()!)).n;
  }

  async activity(window: ActivityWindow): Promise<ActivityBucket[]> {
    activityBucketCount(window);
    const params = { since: window.since, until: window.until, bucket: window.bucketMs, campaign: window.campaign ?? null };
    return activityBuckets(window, await this.read(() => this.q.activity.all(params)));
  }

  async usage(key: string): Promise<Usage> {
    return this.read(() => this.usageOf(key));
  }

  async pauseCampaign(campaign: string, opts: { reason: string; by: CampaignPause['by']; now: number }): Promise<void> {
    await this.write(() => this.q.pause.run(campaign, clip(opts.reason), opts.by, opts.now));
  }

  async resumeCampaign(campaign: string): Promise<boolean> {
    return this.write(() => this.q.resume.run(campaign).changes === 1);
  }

  async pausedCampaigns(): Promise<CampaignPause[]> {
    return (await this.read(() => this.q.paused.all())).map(rowToPause);
  }

  async close(): Promise<void> {
    if (this.ownsDb && this.db.open) this.db.close();
  }
}
