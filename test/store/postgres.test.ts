import { Pool } from 'pg';
import { fixedClock } from '../../src/lib/clock';
import { migratePg, schemaVersionPg, StoreMigrationError } from '../../src/store/pg-migrate';
import { PG_STORE_MIGRATIONS, PostgresStore } from '../../src/store/postgres';
import { runStoreContract } from './contract';
import { describeService } from './service-probe';

const DATABASE_URL = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** One schema per run (and per purpose), dropped at the end, so parallel runs never meet. */
const RUN = `wbt_${process.pid}_${Date.now().toString(36)}`;
const CONTRACT_SCHEMA = `${RUN}_contract`;

async function withAdmin<T>(fn: (pool: Pool) => Promise<T>): Promise<T> {
  const pool = new Pool({ connectionString: DATABASE_URL, max: 1 });
  try {
    return await fn(pool);
  } finally {
    await pool.end();
  }
}

async function dropSchemas(): Promise<void> {
  await withAdmin(async (pool) => {
    const { rows } = await pool.query<{ nspname: string }>('SELECT nspname FROM pg_namespace WHERE nspname LIKE $1', [`${RUN}%`]);
    for (const { nspname } of rows) await pool.query(`DROP SCHEMA ${nspname} CASCADE`);
  });
}

describeService('PostgresStore', [[DATABASE_URL, 5432]], () => {
  afterAll(async () => {
    await dropSchemas();
    const left = await withAdmin((pool) => pool.query('SELECT 1 FROM pg_namespace WHERE nspname LIKE $1', [`${RUN}%`]));
    expect(left.rowCount).toBe(0);
  });

  runStoreContract('PostgresStore', async (clock) => PostgresStore.connect(DATABASE_URL, { clock, schema: CONTRACT_SCHEMA }), undefined, {
    clockExpiry: true,
    openPeer: async (_store, clock) => PostgresStore.connect(DATABASE_URL, { clock, schema: CONTRACT_SCHEMA }),
  });

  describe('PostgresStore.connect', () => {
    it('should create its schema, migrate once, and share its pool', async () => {
      const schema = `${RUN}_connect`;
      const stores = await Promise.all([1, 2, 3].map(() => PostgresStore.connect(DATABASE_URL, { schema })));
      expect(await schemaVersionPg(stores[0].pool, 'store')).toBe(PG_STORE_MIGRATIONS.length);
      const { rows } = await stores[0].pool.query('SELECT component, version FROM schema_migrations ORDER BY version');
      expect(rows).toEqual(PG_STORE_MIGRATIONS.map((_, i) => ({ component: 'store', version: i + 1 })));
      expect(stores[0].backends.postgres).toBe(stores[0]);
      expect(stores[0].schema).toBe(schema);
      for (const s of stores) await s.close();
    });

    it('should fail with the host only, never the password, when PostgreSQL cannot be reached', async () => {
      const error = await PostgresStore.connect('postgres://bot:s3cret-pw@127.0.0.1:1/db').catch((e: Error) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toContain('127.0.0.1:1/db');
      expect(`${(error as Error).message} ${String((error as Error).cause)}`).not.toContain('s3cret-pw');
    });

    it('should reject a bad URL or schema name', async () => {
      await expect(PostgresStore.connect('mysql://x')).rejects.toThrow(TypeError);
      await expect(PostgresStore.connect(DATABASE_URL, { schema: 'x; DROP TABLE y' })).rejects.toThrow(TypeError);
    });
  });

  describe('PostgresStore.fromPool', () => {
    it('should use a pool it does not own and leave it open on close', async () => {
      const schema = `${RUN}_frompool`;
      await withAdmin((p) => p.query(`CREATE SCHEMA ${schema}`));
      const pool = new Pool({ connectionString: DATABASE_URL, options: `-c search_path=${schema}` });
      const store = await PostgresStore.fromPool(pool, { clock: fixedClock(0) });
      await store.kv.set('k', 'v');
      await store.close();
      const { rows } = await pool.query('SELECT value FROM store_kv');
      expect(rows).toEqual([{ value: 'v' }]);
      await pool.end();
    });
  });

  describe('PostgresStore.sweepExpired', () => {
    it('should delete only expired rows', async () => {
      const clock = fixedClock(0);
      const store = await PostgresStore.connect(DATABASE_URL, { clock, schema: `${RUN}_sweep` });
      await store.kv.set('short', 'v', 1);
      await store.kv.set('forever', 'v');
      await store.dedupe.claim('m', 1);
      await store.counters.incrementWithin('c', 1, 5, 1);
      await store.counters.incrementWithin('long', 1, 5, 100);
      clock.advance(1_000);
      expect(await store.sweepExpired()).toBe(3);
      const { rows } = await store.pool.query('SELECT (SELECT COUNT(*) FROM store_kv)::int AS kv, (SELECT COUNT(*) FROM store_counters)::int AS c');
      expect(rows[0]).toEqual({ kv: 1, c: 1 });
      await store.close();
    });
  });

  describe('migratePg', () => {
    let pool: Pool;
    const schema = `${RUN}_migrate`;
    beforeAll(async () => {
      await withAdmin((p) => p.query(`CREATE SCHEMA ${schema}`));
      pool = new Pool({ connectionString: DATABASE_URL, options: `-c search_path=${schema}` });
    });
    afterAll(async () => {
      await pool.end();
    });

    it('should apply each step exactly once when five instances start at once', async () => {
      const steps = ['CREATE TABLE t (a INT)', 'ALTER TABLE t ADD COLUMN b TEXT', 'INSERT INTO t (a) VALUES (1)'];
      await Promise.all([1, 2, 3, 4, 5].map(() => migratePg(pool, 'demo', steps)));
      expect(await schemaVersionPg(pool, 'demo')).toBe(3);
      expect((await pool.query('SELECT a, b FROM t')).rows).toEqual([{ a: 1, b: null }]);
    });

    it('should roll a failing step back and report component and version', async () => {
      const steps = ['CREATE TABLE f (a INT)', 'CREATE TABLE g (a INT); INSERT INTO nowhere VALUES (1)'];
      const error = await migratePg(pool, 'failing', steps).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreMigrationError);
      expect(error).toMatchObject({ component: 'failing', version: 2 });
      expect(await schemaVersionPg(pool, 'failing')).toBe(1);
      expect((await pool.query("SELECT to_regclass('g') AS g")).rows[0].g).toBeNull();
    });

    it('should reject an empty component', async () => {
      await expect(migratePg(pool, '', [])).rejects.toThrow(TypeError);
    });
  });
});
