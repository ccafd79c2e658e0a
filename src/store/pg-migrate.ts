/**
 * Versioned schema migrations for PostgreSQL, the twin of `migrate()` in `sqlite-migrate.ts`.
 *
 * @example
 * const pool = new Pool({ connectionString: process.env.DATABASE_URL });
 * await migratePg(pool, 'ledger', ['CREATE TABLE ledger (id BIGSERIAL PRIMARY KEY, bill_no TEXT UNIQUE NOT NULL)']);
 *
 * @see https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS
 */
import type { Pool, PoolClient } from 'pg';
import { StoreMigrationError } from './sqlite-migrate';

export { StoreMigrationError };

/**
 * Session-level advisory lock key shared by every wechat-bot migration in a database (one
 * 64-bit key; computed once from a fixed string so every instance agrees on it).
 */
const MIGRATION_LOCK_SQL = "SELECT pg_advisory_lock(hashtext('wechat-bot:schema_migrations'))";
const MIGRATION_UNLOCK_SQL = "SELECT pg_advisory_unlock(hashtext('wechat-bot:schema_migrations'))";

/**
 * Applies the steps of one component that the database has not seen yet. Step `i` is version `i + 1`,
 * recorded in `schema_migrations(component, version)` (created in the first schema of the pool's
 * `search_path`). A session advisory lock serialises every migrating instance, so N instances
 * starting at once migrate exactly once; each step runs in its own transaction (PostgreSQL DDL is
 * transactional, so a failed step leaves nothing behind). The lock is released on return, and by
 * PostgreSQL itself if the process dies. Steps are append-only; a step may hold several statements.
 *
 * @example await migratePg(pool, 'store', ['CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT NOT NULL)']);
 * @throws StoreMigrationError when a step fails (that step is rolled back).
 * @see https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-ADVISORY-LOCKS
 */
export async function migratePg(pool: Pool, component: string, steps: readonly string[]): Promise<void> {
  if (typeof component !== 'string' || component.length === 0) throw new TypeError('migratePg: component must be a non-empty string');
  if (!Array.isArray(steps)) throw new TypeError('migratePg: steps must be an array of SQL strings');

  const client: PoolClient = await pool.connect();
  let locked = false;
  try {
    await client.query(MIGRATION_LOCK_SQL);
    locked = true;
    await client.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         component  TEXT        NOT NULL,
         version    INTEGER     NOT NULL,
         applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
         PRIMARY KEY (component, version)
       )`,
    );
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations WHERE component = $1', [component]);
    const applied = new Set(rows.map((r) => Number(r.version)));
    for (let index = 0; index < steps.length; index++) {
      const version = index + 1;
      if (applied.has(version)) continue;
      try {
        await client.query('BEGIN');
        await client.query(steps[index]);
        await client.query('INSERT INTO schema_migrations (component, version) VALUES ($1, $2)', [component, version]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw new StoreMigrationError(component, version, error);
      }
    }
  } finally {
    if (locked) await client.query(MIGRATION_UNLOCK_SQL).catch(() => undefined);
    client.release();
  }
}

/**
 * `CREATE SCHEMA IF NOT EXISTS`, safe when several instances start at once: PostgreSQL's IF NOT
 * EXISTS is not atomic, so two concurrent creations can fail with a unique violation on
 * `pg_namespace` (23505) or `duplicate_schema` (42P06) — both mean the schema is there now.
 *
 * @example await createSchemaIfMissing(pool, 'bot');
 * @see https://www.postgresql.org/docs/current/sql-createschema.html
 */
export async function createSchemaIfMissing(pool: Pick<Pool, 'query'>, schema: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new TypeError('createSchemaIfMissing: schema must be a plain lower-case identifier');
  try {
    await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== '23505' && code !== '42P06') throw error;
  }
}

/**
 * The highest applied version of a component (0 when none).
 *
 * @example await schemaVersionPg(pool, 'store') // → 1
 * @see https://www.postgresql.org/docs/current/sql-select.html
 */
export async function schemaVersionPg(pool: Pool, component: string): Promise<number> {
  const { rows } = await pool.query<{ exists: string | null }>("SELECT to_regclass('schema_migrations')::text AS exists");
  if (!rows[0]?.exists) return 0;
  const r = await pool.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations WHERE component = $1', [component]);
  return Number(r.rows[0]?.v ?? 0);
}

/**
 * Opens a pool on `url` whose connections use `schema` first on the search_path (created when
 * missing), for components that open their own connection (CLI commands, the order store). The
 * driver loads here, only when PostgreSQL is configured. Closes the pool again if preparing fails.
 *
 * @example const pool = await openPgPool(settings.store.databaseUrl!, settings.store.postgresSchema);
 * @see https://node-postgres.com/apis/pool
 */
export async function openPgPool(url: string, schema: string | undefined, caller: string): Promise<Pool> {
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new TypeError(`${caller}: postgresSchema must be a plain identifier`);
  const { Pool: PgPool } = require('pg') as typeof import('pg');
  const pool = new PgPool({ connectionString: url, ...(schema ? { options: `-c search_path=${schema}` } : {}) });
  try {
    if (schema) await createSchemaIfMissing(pool, schema);
    return pool;
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
}
