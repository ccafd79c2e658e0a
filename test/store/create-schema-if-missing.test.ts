/**
 * createSchemaIfMissing: several instances starting together on a fresh schema all succeed
 * (PostgreSQL's CREATE SCHEMA IF NOT EXISTS alone fails one of them with a unique violation).
 */
import { Pool } from 'pg';
import { createSchemaIfMissing } from '../../src/store/pg-migrate';
import { describeService } from './service-probe';

const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

describeService('createSchemaIfMissing', [[DATABASE_URL, 5432]], () => {
  let pool: Pool;
  const schemas: string[] = [];
  beforeAll(() => {
    pool = new Pool({ connectionString: DATABASE_URL, max: 12 });
  });
  afterAll(async () => {
    for (const s of schemas) await pool.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await pool.end();
  });

  it('should succeed for every one of many concurrent creators of the same schema', async () => {
    for (let round = 0; round < 10; round++) {
      const schema = `race_${process.pid}_${Date.now().toString(36)}_${round}`;
      schemas.push(schema);
      const results = await Promise.allSettled(Array.from({ length: 6 }, () => createSchemaIfMissing(pool, schema)));
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      const { rows } = await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
      expect(rows).toHaveLength(1);
    }
  });

  it('should refuse a schema name that is not a plain identifier', async () => {
    await expect(createSchemaIfMissing(pool, 'bad; DROP TABLE x')).rejects.toThrow('createSchemaIfMissing: schema must be a plain lower-case identifier');
  });
});
