import path from 'node:path';
import { Pool } from 'pg';
import { createMemoryMemberStore } from '../../src/store/memory-members';
import { openDurableStores } from '../../src/store/open-stores';
import { PostgresMemberStore } from '../../src/store/postgres-members';
import { SqliteMemberStore } from '../../src/store/sqlite-members';
import { openSqlite } from '../../src/store/sqlite-migrate';
import { describeService } from '../store/service-probe';
import { tempDir } from '../spend/helpers';
import { member, memberStoreContract } from './member-store-contract';

const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

describe('createMemoryMemberStore', () => {
  memberStoreContract(async () => ({ store: createMemoryMemberStore(), done: async () => undefined }));
});

describe('SqliteMemberStore', () => {
  memberStoreContract(async () => {
    const tmp = tempDir('members-');
    const db = openSqlite(path.join(tmp.dir, 'm.sqlite'));
    return {
      store: SqliteMemberStore.create(db),
      done: async () => {
        db.close();
        tmp.remove();
      },
    };
  });

  it('should give two processes sharing the file distinct numbers and one member (openDurableStores)', async () => {
    const tmp = tempDir('members-');
    const file = path.join(tmp.dir, 'm.sqlite');
    const [a, b] = [await openDurableStores({ sqlitePath: file }), await openDurableStores({ sqlitePath: file })];
    try {
      const numbers = await Promise.all([0, 1, 2, 3].map((i) => (i % 2 ? a : b).members.nextNumber('A')));
      expect([...numbers].sort()).toEqual([1, 2, 3, 4]);
      const [x, y] = await Promise.all([a.members.upsert(member()), b.members.upsert(member({ membershipNumber: '2' }))]);
      expect([x.created, y.created].sort()).toEqual([false, true]);
      expect(await b.members.findByCode(member().cardId, member().code)).toBeDefined();
    } finally {
      await a.close();
      await b.close();
      tmp.remove();
    }
  });
});

describeService('PostgresMemberStore', [[DATABASE_URL, 5432]], () => {
  const run = `mbr_${process.pid}_${Date.now().toString(36)}`;
  let n = 0;
  async function schemaPools(schema: string, count: number) {
    const admin = new Pool({ connectionString: DATABASE_URL, max: 1 });
    await admin.query(`CREATE SCHEMA ${schema}`);
    const pools = Array.from({ length: count }, () => new Pool({ connectionString: DATABASE_URL, max: 4, options: `-c search_path=${schema}` }));
    const done = async () => {
      await Promise.all(pools.map((p) => p.end()));
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    };
    return { pools, done };
  }

  memberStoreContract(async () => {
    n += 1;
    const { pools, done } = await schemaPools(`${run}_${n}`, 1);
    return { store: await PostgresMemberStore.create(pools[0]!), done };
  });

  it('should give two instances (pools) distinct numbers and one member', async () => {
    const { pools, done } = await schemaPools(`${run}_two`, 2);
    try {
      const stores: PostgresMemberStore[] = [];
      for (const p of pools) stores.push(await PostgresMemberStore.create(p));
      const numbers = await Promise.all(Array.from({ length: 10 }, (_, i) => stores[i % 2]!.nextNumber('A')));
      expect([...numbers].sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => stores[i % 2]!.upsert(member({ membershipNumber: String(i + 1) }))));
      expect(results.filter((r) => r.created)).toHaveLength(1);
    } finally {
      await done();
    }
  });
});
