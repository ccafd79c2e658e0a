/**
 * The ledger on PostgreSQL, for many instances behind a load balancer. Transactions run at READ
 * COMMITTED with explicit row locks, always taken in one order (usage rows sorted by key → grant row →
 * outbox row), so they cannot deadlock in normal operation; a deadlock or serialization failure is
 * still retried. `recordGrant` locks every reservation row it checks (`SELECT … FOR UPDATE`) before
 * reading the totals, so two instances can never both take the last unit of a budget; the grant
 * insert is `ON CONFLICT (dedupe_key, rule_id) DO NOTHING`, so a concurrent retry returns the first
 * grant. The outbox is claimed with `FOR UPDATE SKIP LOCKED` plus a lease.
 *
 * @example
 * const ledger = await PostgresLedger.create(new Pool({ connectionString: process.env.DATABASE_URL }), { tags: ledgerTagRules() });
 * @see https://www.postgresql.org/docs/current/sql-select.html#SQL-FOR-UPDATE-SHARE
 */
import type { Pool, PoolClient } from 'pg';
import type { LedgerTagRules, OtherLedgers } from '../rewards/bill-no';
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
import type { AsyncLedgerStorage, AsyncLedgerTx } from '../rewards/ledger-plans';
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
import { eventColumns, GRANT_EVENTS_WIRE_CODES_MIGRATION, grantEventsMigration, PG_INSERT_EVENTS_SQL, rowToEvent, type GrantEventRow } from './grant-event-rows';
import { grantCountSql, grantSearchSql } from './grant-search-sql';
import { migratePg } from './pg-migrate';

/** Schema steps of the `ledger` component on PostgreSQL (append-only), in its types. */
export const PG_LEDGER_MIGRATIONS: readonly string[] = [
  ...ledgerMigrations({ bigint: 'BIGINT', grantId: 'BIGSERIAL PRIMARY KEY' }),
  // The grants' history (append-only) and the search indexes of the console.
  grantEventsMigration('pg'),
  GRANT_EVENTS_WIRE_CODES_MIGRATION,
];

const RETRYABLE = new Set(['40001', '40P01']); // serialization_failure, deadlock_detected
const UNIQUE_VIOLATION = '23505';
/** The unique index on `reissue_of` (`operatorColumnsMigration`). */
const REISSUE_OF_UNIQUE = 'ledger_grants_reissue_of';

const INSERT_GRANT = insertGrantSql((i) => `$${i}`, 'ON CONFLICT (dedupe_key, rule_id) DO NOTHING RETURNING *');
const UPDATE_GRANT = updateGrantSql((i) => `$${i}`);

/**
 * A granted grant in one statement (run with the usage rows already locked): the next bill sequence
 * of the prefix ($7), the grant row with its bill number, the usage added (only when the grant row was
 * inserted), the outbox row. Returns the grant row plus `bill_seq`, or no row when `(dedupe_key,
 * rule_id)` already exists. A sequence past the prefix's digits gets no bill number (lpad would cut it
 * to another grant's), so the plan's check throws BillNoError and the transaction rolls back.
 */
const RECORD_GRANTED = `WITH seq AS (
    INSERT INTO ledger_bill_seq (prefix, last) VALUES ($7, 1)
    ON CONFLICT (prefix) DO UPDATE SET last = ledger_bill_seq.last + 1 RETURNING last
  ), g AS (
    INSERT INTO ledger_grants (dedupe_key, rule_id, kind, campaign, open_id, amount_fen, bill_no, status, outcome,
      reason, next_attempt_at, payload, reservations, created_at, updated_at, settled_at, reissue_of)
    SELECT $1, $2, $3, $4, $5, $6, CASE WHEN length(seq.last::text) <= $14::int THEN $7 || lpad(seq.last::text, $14::int, '0') END, $8, $19::text, $9, $10, $11, $12, $13, $13, NULL, $20::text
    FROM seq
    ON CONFLICT (dedupe_key, rule_id) DO NOTHING
    RETURNING *
  ), used AS (
    UPDATE ledger_usage AS u SET count = u.count + r.count, amount_fen = u.amount_fen + r.amount_fen
    FROM unnest($15::text[], $16::bigint[], $17::bigint[]) AS r (key, count, amount_fen)
    WHERE u.key = r.key AND EXISTS (SELECT 1 FROM g)
  ), queued AS (
    INSERT INTO ledger_outbox (grant_id, campaign, due_at) SELECT id, campaign, $18::bigint FROM g
  )
  SELECT g.*, seq.last AS bill_seq FROM g, seq`;

/**
 * The plans' storage steps on one client inside its transaction. Row locks are taken in one order
 * (usage rows sorted by key, then the grant row, then the outbox row).
 */
function pgSteps(c: PoolClient): AsyncLedgerTx {
  const grant = async (sql: string, params: unknown[]) => {
    const { rows } = await c.query<GrantRow>(sql, params);
    return rows[0] ? rowToGrant(rows[0]) : undefined;
  };
  return {
    findByKey: (dedupeKey, ruleId) => grant('SELECT * FROM ledger_grants WHERE dedupe_key = $1 AND rule_id = $2', [dedupeKey, ruleId]),
    lockByBill: (billNo) => grant('SELECT * FROM ledger_grants WHERE bill_no = $1 FOR UPDATE', [billNo]),
    lockById: (id) => grant('SELECT * FROM ledger_grants WHERE id = $1 FOR UPDATE', [id]),
    async lockUsage(keys) {
      if (keys.length === 0) return new Map();
      await c.query(
        `INSERT INTO ledger_usage (key, count, amount_fen)
         SELECT k, 0, 0 FROM unnest($1::text[]) AS k ORDER BY k ON CONFLICT (key) DO NOTHING`,
        [keys],
      );
      const locked = await c.query<{ key: string; count: string; amount_fen: string }>(
        'SELECT key, count, amount_fen FROM ledger_usage WHERE key = ANY($1::text[]) ORDER BY key FOR UPDATE',
        [keys],
      );
      return new Map(locked.rows.map((r) => [r.key, rowToUsage(r)]));
    },
    insert: (g) => grant(INSERT_GRANT, grantValues(grantRow(g))),
    async insertGranted({ grant: g, seqPrefix, seqDigits, usage, dueAt }) {
      // `reissue_of` taken by a concurrent commit (`(dedupe_key, rule_id)` answers no row): "taken",
      // and the plan runs again in a new transaction. Any other unique key (a bill number another
      // grant has) is an error, as on SQLite.
      const { rows } = await c
        .query<GrantRow & { bill_seq: string }>(RECORD_GRANTED, [
          ...[g.dedupeKey, g.ruleId, g.kind, g.campaign, g.openId, g.amountFen],
          seqPrefix,
          g.status,
          g.reason,
          g.nextAttemptAt,
          JSON.stringify(g.payload),
          JSON.stringify(g.reservations),
          g.createdAt,
          seqDigits,
          usage.map((u) => u.key),
          usage.map((u) => u.count),
          usage.map((u) => u.amountFen),
          dueAt,
          g.outcome,
          g.reissueOf,
        ])
        .catch((error: unknown) => {
          const { code, constraint } = error as { code?: string; constraint?: string };
          if (code === UNIQUE_VIOLATION && constraint === REISSUE_OF_UNIQUE) return { rows: [] };
          throw error;
        });
      return rows[0] ? { grant: rowToGrant(rows[0]), seq: Number(rows[0].bill_seq) } : undefined;
    },
    update: async (id, from, change) => (await c.query(UPDATE_GRANT, [...changeValues(change), id, from])).rowCount === 1,
    dequeue: async (id) => void (await c.query('DELETE FROM ledger_outbox WHERE grant_id = $1', [id])),
    async addUsage(deltas) {
      for (const d of deltas) await c.query('UPDATE ledger_usage SET count = count + $2, amount_fen = amount_fen + $3 WHERE key = $1', [d.key, d.count, d.amountFen]);
    },
    async markAttempt(id, owner, now) {
      // The lease is read under the outbox row's lock (grant row first: the lock order): a claim of
      // this grant by another worker that is being committed is waited for, never read as it was.
      await c.query('SELECT 1 FROM ledger_grants WHERE id = $1 FOR UPDATE', [id]);
      await c.query('SELECT 1 FROM ledger_outbox WHERE grant_id = $1 FOR UPDATE', [id]);
      const { rows } = await c.query<{ attempts: number }>(
        `UPDATE ledger_grants SET status = 'SENDING', attempts = attempts + 1, updated_at = $3
         WHERE id = $1 AND status IN ('PENDING', 'DEFERRED', 'SENDING')
           AND EXISTS (SELECT 1 FROM ledger_outbox WHERE grant_id = $1 AND lease_owner = $2 AND lease_until > $3)
         RETURNING attempts`,
        [id, owner, now],
      );
      return rows[0] ? Number(rows[0].attempts) : undefined;
    },
    async moveDue(id, { owner, dueAt, now, lastError }) {
      // The grant row first (the lock order), then the outbox row.
      await c.query('SELECT 1 FROM ledger_grants WHERE id = $1 FOR UPDATE', [id]);
      const moved = await c.query('UPDATE ledger_outbox SET due_at = $3, lease_owner = NULL, lease_until = NULL WHERE grant_id = $1 AND lease_owner = $2', [
        id,
        owner,
        dueAt,
      ]);
      if (moved.rowCount !== 1) return undefined;
      const { rows } = await c.query<{ status: GrantStatus }>(
        'UPDATE ledger_grants SET next_attempt_at = $2, last_error = COALESCE($3, last_error), updated_at = $4 WHERE id = $1 RETURNING status',
        [id, dueAt, lastError, now],
      );
      return rows[0]?.status;
    },
    async appendEvents(events) {
      if (events.length > 0) await c.query(PG_INSERT_EVENTS_SQL, eventColumns(events));
    },
  };
}

/**
 * Ledger adapter over a `pg` pool. The pool's `search_path` decides the schema (tests isolate runs
 * with `options: '-c search_path=…'`).
 *
 * @example const ledger = await PostgresLedger.create(pool, { tags: ledgerTagRules() });
 * @see https://node-postgres.com/features/transactions
 */
export class PostgresLedger implements AsyncLedgerStorage {
  private constructor(
    readonly pool: Pool,
    private readonly ownsPool: boolean,
    readonly billTag: string,
  ) {}

  /**
   * Migrates the `ledger` tables and returns the adapter. `{ ownsPool: true }` makes `close()` end the
   * pool; `tags` (`ledgerTagRules(BOT_BILLNO_TAG)`, from the store factory) gives a new ledger its
   * tag and checks the tag of an existing one.
   *
   * Ledgers in other schemas of the same database (BOT_PG_SCHEMA: staging beside production) are
   * looked up under one advisory lock and handed to `tags`: a new ledger draws a tag none of them
   * uses, and a ledger whose tag another one shares refuses to open, naming that schema — on one
   * mch_id, WeChat Pay would answer the second's bills with the first's packets.
   *
   * @example const ledger = await PostgresLedger.create(store.pool, { tags: ledgerTagRules(settings.store.billNoTag) });
   * @see https://www.postgresql.org/docs/current/ddl-schemas.html
   */
  static async create(pool: Pool, options: { ownsPool?: boolean; tags: LedgerTagRules }): Promise<PostgresLedger> {
    if (!pool || typeof pool.connect !== 'function') throw new TypeError('PostgresLedger.create: pool must be a pg Pool');
    await migratePg(pool, 'ledger', PG_LEDGER_MIGRATIONS);
    const client = await pool.connect();
    try {
      await client.query(TAG_LOCK_SQL);
      try {
        return new PostgresLedger(pool, options.ownsPool ?? false, await settleBillTag(client, options.tags));
      } finally {
        await client.query(TAG_UNLOCK_SQL).catch(() => undefined);
      }
    } finally {
      client.release();
    }
  }

  /** Runs `fn` in a transaction on one client; retries deadlocks and serialization failures. */
  private async tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        const code = (error as { code?: string }).code;
        if (attempt < 5 && code !== undefined && RETRYABLE.has(code)) continue;
        throw error;
      } finally {
        client.release();
      }
    }
  }

  private async one(sql: string, params: unknown[]): Promise<LedgerGrant | undefined> {
    const { rows } = await this.pool.query<GrantRow>(sql, params);
    return rows[0] ? rowToGrant(rows[0]) : undefined;
  }

  /**
   * Runs `fn` on this client's steps in one transaction (see {@link pgSteps}).
   *
   * Every grant of a campaign locks the same usage rows (campaign budget, merchant day) and the bill
   * sequence row, so grants from all instances pass through those locks one at a time: what matters
   * for throughput is how long they are held. Once the usage rows are locked, the rest of a grant is
   * ONE statement (bill sequence + grant + usage + outbox, {@link RECORD_GRANTED}) and the COMMIT —
   * three round trips under the lock instead of eight or more, which is what keeps busy instances
   * (whose event loops delay every round trip) from queueing for seconds.
   */
  async transactAsync<T>(fn: (tx: AsyncLedgerTx) => Promise<T>): Promise<T> {
    return this.tx((c) => fn(pgSteps(c)));
  }

  async claimDue(opts: { owner: string; now: number; leaseMs: number; limit: number }): Promise<LedgerGrant[]> {
    const { rows } = await this.pool.query<GrantRow>(
      `WITH due AS (
         SELECT grant_id FROM ledger_outbox
         WHERE due_at <= $3 AND (lease_until IS NULL OR lease_until <= $3)
           AND campaign NOT IN (SELECT campaign FROM ledger_campaign_pause)
         ORDER BY due_at, grant_id
         LIMIT $4
         FOR UPDATE SKIP LOCKED
       ), leased AS (
         UPDATE ledger_outbox o SET lease_owner = $1, lease_until = $2
         FROM due WHERE o.grant_id = due.grant_id
         RETURNING o.grant_id, o.due_at
       )
       SELECT g.* FROM ledger_grants g JOIN leased l ON l.grant_id = g.id ORDER BY l.due_at, g.id`,
      [opts.owner, opts.now + opts.leaseMs, opts.now, opts.limit],
    );
    return rows.map(rowToGrant);
  }

  async markChecked(id: number, now: number): Promise<void> {
    await this.pool.query('UPDATE ledger_grants SET checked_at = $2 WHERE id = $1', [id, now]);
  }

  async getGrant(id: number): Promise<LedgerGrant | undefined> {
    return this.one('SELECT * FROM ledger_grants WHERE id = $1', [id]);
  }

  async findByBillNo(billNo: string): Promise<LedgerGrant | undefined> {
    return this.one('SELECT * FROM ledger_grants WHERE bill_no = $1', [billNo]);
  }

  async findByKey(dedupeKey: string, ruleId: string): Promise<LedgerGrant | undefined> {
    return this.one('SELECT * FROM ledger_grants WHERE dedupe_key = $1 AND rule_id = $2', [dedupeKey, ruleId]);
  }

  async listByStatus(statuses: readonly GrantStatus[], opts: { limit?: number; sentBefore?: number; kind?: string } = {}): Promise<LedgerGrant[]> {
    const { rows } = await this.pool.query<GrantRow>(
      `SELECT * FROM ledger_grants WHERE status = ANY($1::text[])
         AND ($2::bigint IS NULL OR COALESCE(sent_at, created_at) <= $2::bigint)
         AND ($4::text IS NULL OR kind = $4::text)
       ORDER BY COALESCE(checked_at, -1), id LIMIT $3`,
      [statuses, opts.sentBefore ?? null, opts.limit ?? null, opts.kind ?? null],
    );
    return rows.map(rowToGrant);
  }

  async listAll(opts: { campaign?: string; limit?: number; afterId?: number } = {}): Promise<LedgerGrant[]> {
    const { rows } = await this.pool.query<GrantRow>(`SELECT * FROM ledger_grants WHERE ($1::text IS NULL OR campaign = $1::text) AND id > $2 ORDER BY id LIMIT $3`, [
      opts.campaign ?? null,
      opts.afterId ?? 0,
      opts.limit ?? null,
    ]);
    return rows.map(rowToGrant);
  }

  async findGrants(filter: GrantFilter, page: GrantPage): Promise<LedgerGrant[]> {
    const { sql, params } = grantSearchSql('pg', filter, page);
    return (await this.pool.query<GrantRow>(sql, params)).rows.map(rowToGrant);
  }

  async countGrants(filter: GrantFilter): Promise<number> {
    const { sql, params } = grantCountSql('pg', filter);
    return Number((await this.pool.query<{ n: string }>(sql, params)).rows[0].n);
  }

  async grantEvents(grantId: number): Promise<GrantEvent[]> {
    return (await this.pool.query<GrantEventRow>('SELECT * FROM ledger_grant_events WHERE grant_id = $1 ORDER BY id', [grantId])).rows.map(rowToEvent);
  }

  async summary(): Promise<LedgerSummaryRow[]> {
    const { rows } = await this.pool.query<{ campaign: string; status: string; count: string; amount_fen: string }>(
      `SELECT campaign, status, COUNT(*) AS count, COALESCE(SUM(amount_fen), 0) AS amount_fen
       FROM ledger_grants GROUP BY campaign, status ORDER BY campaign COLLATE "C", status COLLATE "C"`,
    );
    return rows.map(rowToSummary);
  }

  async openCount(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>('SELECT COUNT(*) AS n FROM ledger_outbox');
    return Number(rows[0].n);
  }

  async activity(window: ActivityWindow): Promise<ActivityBucket[]> {
    activityBucketCount(window);
    const { rows } = await this.pool.query<ActivityRow>(activitySql('pg'), [window.since, window.until, window.bucketMs, window.campaign ?? null]);
    return activityBuckets(window, rows);
  }

  async usage(key: string): Promise<Usage> {
    const { rows } = await this.pool.query<{ count: string; amount_fen: string }>('SELECT count, amount_fen FROM ledger_usage WHERE key = $1', [key]);
    return rowToUsage(rows[0]);
  }

  async pauseCampaign(campaign: string, opts: { reason: string; by: CampaignPause['by']; now: number }): Promise<void> {
    await this.pool.query(
      `INSERT INTO ledger_campaign_pause (campaign, reason, paused_by, paused_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (campaign) DO NOTHING`,
      [campaign, clip(opts.reason), opts.by, opts.now],
    );
  }

  async resumeCampaign(campaign: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM ledger_campaign_pause WHERE campaign = $1', [campaign]);
    return rowCount === 1;
  }

  async pausedCampaigns(): Promise<CampaignPause[]> {
    const { rows } = await this.pool.query<{ campaign: string; reason: string; paused_by: string; paused_at: string }>(
      'SELECT * FROM ledger_campaign_pause ORDER BY campaign COLLATE "C"',
    );
    return rows.map(rowToPause);
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }
}

// === Bill tags across schemas

/** Serialises tag choices of every ledger in the database (all schemas), like the migration lock. */
const TAG_LOCK_SQL = "SELECT pg_advisory_lock(hashtext('wechat-bot:ledger_bill_tag'))";
const TAG_UNLOCK_SQL = "SELECT pg_advisory_unlock(hashtext('wechat-bot:ledger_bill_tag'))";

/**
 * Other ledgers this connection can read: every `ledger_meta` table outside the current schema whose
 * schema and table it may use, with the bill tag it stores (schemas it cannot read are not visible to it).
 */
async function otherLedgers(client: PoolClient): Promise<OtherLedgers> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await readOtherLedgers(client);
    } catch (error) {
      // A schema dropped between the listing and the read (42P01 undefined_table, 3F000 invalid_schema_name): list again.
      const code = (error as { code?: string }).code;
      if (attempt >= 5 || (code !== '42P01' && code !== '3F000')) throw error;
    }
  }
}

async function readOtherLedgers(client: PoolClient): Promise<OtherLedgers> {
  const { rows: here } = await client.query<{ schema: string }>('SELECT current_schema() AS schema');
  const { rows: tables } = await client.query<{ schema: string }>(
    `SELECT table_schema AS schema FROM information_schema.tables
     WHERE table_name = 'ledger_meta' AND table_schema <> current_schema()
       AND has_schema_privilege(table_schema, 'USAGE')
       AND has_table_privilege(format('%I.%I', table_schema, table_name), 'SELECT')
     ORDER BY table_schema`,
  );
  const tags = new Map<string, string>();
  if (tables.length > 0) {
    const union = tables.map((t, i) => `SELECT $${i + 1}::text AS schema, value FROM ${quoteIdent(t.schema)}.ledger_meta WHERE key = 'bill_tag'`).join(' UNION ALL ');
    const { rows } = await client.query<{ schema: string; value: string }>(
      union,
      tables.map((t) => t.schema),
    );
    for (const r of rows) tags.set(r.schema, r.value);
  }
  return { here: String(here[0]?.schema), tags };
}

/** Sets a new ledger's tag (or reads an existing one), by `rules`, beside the other visible ledgers. */
async function settleBillTag(client: PoolClient, rules: LedgerTagRules): Promise<string> {
  const others = await otherLedgers(client);
  const read = async () => (await client.query<{ value: string }>("SELECT value FROM ledger_meta WHERE key = 'bill_tag'")).rows[0]?.value;
  let stored = await read();
  if (stored === undefined) {
    // The first instance to open a new ledger sets its tag (checked first, so a refusal sets nothing);
    // every later one (and every restart) reads it.
    await client.query("INSERT INTO ledger_meta (key, value) VALUES ('bill_tag', $1) ON CONFLICT (key) DO NOTHING", [rules.forNewLedger(others)]);
    stored = await read();
  }
  return rules.opening(stored, others);
}

/** A PostgreSQL identifier in double quotes. */
function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
