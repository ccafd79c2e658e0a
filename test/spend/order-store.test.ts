import path from 'node:path';
import { Pool } from 'pg';
import { createMemoryOrderStore } from '../../src/store/memory-orders';
import { openDurableStores } from '../../src/store/open-stores';
import { PostgresOrderStore } from '../../src/store/postgres-orders';
import { SqliteOrderStore } from '../../src/store/sqlite-orders';
import { openSqlite } from '../../src/store/sqlite-migrate';
import { describeService } from '../store/service-probe';
import { order, orderStoreContract } from './order-store-contract';
import { tempDir } from './helpers';

const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

describe('createMemoryOrderStore', () => {
  orderStoreContract(async () => ({ store: createMemoryOrderStore(), done: async () => undefined }));
});

describe('SqliteOrderStore', () => {
  orderStoreContract(async () => {
    const tmp = tempDir();
    const store = SqliteOrderStore.create(openSqlite(path.join(tmp.dir, 'o.sqlite')), { ownsDb: true });
    return {
      store,
      done: async () => {
        await store.close();
        tmp.remove();
      },
    };
  });

  it('should keep a recorded order across connections (another process sharing the file)', async () => {
    const tmp = tempDir();
    const file = path.join(tmp.dir, 'o.sqlite');
    const da = await openDurableStores({ sqlitePath: file });
    const db = await openDurableStores({ sqlitePath: file });
    const [a, b] = [da.orders, db.orders];
    try {
      const [x, y] = await Promise.all([
        a.recordOrder(order(), { decision: null, skipReason: 's', now: 1 }),
        b.recordOrder(order(), { decision: null, skipReason: 's', now: 2 }),
      ]);
      expect([x.duplicate, y.duplicate].sort()).toEqual([false, true]);
      expect(await b.findOrder(order().transactionId)).toMatchObject({ receivedAt: x.duplicate ? 2 : 1 });
    } finally {
      await da.close();
      await db.close();
      tmp.remove();
    }
  });
});

describeService('PostgresOrderStore', [[DATABASE_URL, 5432]], () => {
  const run = `spo_${process.pid}_${Date.now().toString(36)}`;
  let n = 0;
  orderStoreContract(async () => {
    n += 1;
    const schema = `${run}_${n}`;
    const admin = new Pool({ connectionString: DATABASE_URL, max: 1 });
    await admin.query(`CREATE SCHEMA ${schema}`);
    const pool = new Pool({ connectionString: DATABASE_URL, max: 8, options: `-c search_path=${schema}` });
    const store = await PostgresOrderStore.create(pool);
    return {
      store,
      done: async () => {
        await store.close();
        await pool.end();
        await admin.query(`DROP SCHEMA ${schema} CASCADE`);
        await admin.end();
      },
    };
  });

  it('should record one row when two instances (pools) record the same transaction at once', async () => {
    const schema = `${run}_two`;
    const admin = new Pool({ connectionString: DATABASE_URL, max: 1 });
    await admin.query(`CREATE SCHEMA ${schema}`);
    const pools = [0, 1].map(() => new Pool({ connectionString: DATABASE_URL, max: 4, options: `-c search_path=${schema}` }));
    try {
      const stores = await Promise.all(pools.map((p) => PostgresOrderStore.create(p)));
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => stores[i % 2].recordOrder(order(), { decision: null, skipReason: 's', now: i })));
      expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
      expect(await stores[0].listOrders()).toHaveLength(1);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    }
  });
});
