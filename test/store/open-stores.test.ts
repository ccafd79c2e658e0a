import path from 'node:path';
import { Pool } from 'pg';
import { fixedClock } from '../../src/lib/clock';
import { createMemoryStore } from '../../src/store/memory';
import { durableHomeOf, openDurableStores, openStores, withDurable } from '../../src/store/open-stores';
import { grantInput } from '../rewards/ledger-contract';
import { DATABASE_URL, T0, tempDir } from '../rewards/helpers';
import { order } from '../spend/order-store-contract';
import { describeService } from './service-probe';

const RUN = `wbt_os_${process.pid}_${Date.now().toString(36)}`;

describe('openStores', () => {
  it('should put kv, the ledger and the orders in the SQLite file, where a command finds them (openDurableStores)', async () => {
    const tmp = tempDir('open-stores-');
    const sqlitePath = path.join(tmp.dir, 'bot.sqlite');
    const bot = await openStores({ sqlitePath, clock: fixedClock(T0) });
    try {
      expect(bot.driver).toBe('sqlite');
      expect(durableHomeOf(bot, sqlitePath)).toEqual({ kind: 'sqlite', file: sqlitePath });
      const { grant } = await bot.ledger.recordGrant(grantInput());
      await bot.orders.recordOrder(order(), { decision: null, skipReason: 's', now: T0 });
      await bot.kv.set('k', 'v');
      const cli = await openDurableStores({ sqlitePath });
      try {
        expect((await cli.ledger.findByBillNo(grant!.billNo!))?.id).toBe(grant!.id);
        expect(await cli.orders.findOrder(order().transactionId)).toMatchObject({ transactionId: order().transactionId });
        expect(cli.ledger.billTag).toBe(bot.ledger.billTag);
      } finally {
        await cli.close();
      }
    } finally {
      await bot.close();
      tmp.remove();
    }
  });

  it('should keep the money in memory beside a memory store, and close an injected store only when it owns it', async () => {
    const store = createMemoryStore();
    const stores = await withDurable(store, { sqlitePath: '/nonexistent/never-opened.sqlite', ownsStore: false });
    expect(durableHomeOf(store, 'x')).toEqual({ kind: 'memory' });
    await stores.ledger.recordGrant(grantInput());
    expect((await stores.ledger.listAll({ limit: 10 })).length).toBe(1);
    await stores.close();
    await expect(store.kv.set('still', 'open')).resolves.toBeUndefined();
    await store.close();
  });

  it('should refuse a ledger of another bill tag, closing what it opened', async () => {
    const tmp = tempDir('open-stores-');
    const sqlitePath = path.join(tmp.dir, 'bot.sqlite');
    const first = await openStores({ sqlitePath, billNoTag: '417' });
    await first.close();
    await expect(openStores({ sqlitePath, billNoTag: '555' })).rejects.toThrow(/BOT_BILLNO_TAG is 555/);
    await expect(openDurableStores({ sqlitePath, billNoTag: '555' })).rejects.toThrow(/BOT_BILLNO_TAG is 555/);
    tmp.remove();
  });
});

describeService('openStores on PostgreSQL', [[DATABASE_URL, 5432]], () => {
  afterAll(async () => {
    const admin = new Pool({ connectionString: DATABASE_URL, max: 1 });
    try {
      await admin.query(`DROP SCHEMA IF EXISTS ${RUN} CASCADE`);
    } finally {
      await admin.end();
    }
  });

  it("should put the ledger and orders on the store's pool, where a command with DATABASE_URL finds them", async () => {
    const tmp = tempDir('open-stores-');
    const options = { sqlitePath: path.join(tmp.dir, 'unused.sqlite'), databaseUrl: DATABASE_URL, postgresSchema: RUN };
    const bot = await openStores(options);
    try {
      expect(bot.driver).toBe('postgres');
      expect(durableHomeOf(bot, options.sqlitePath)).toMatchObject({ kind: 'postgres', ownsPool: false });
      const { grant } = await bot.ledger.recordGrant(grantInput());
      await bot.orders.recordOrder(order(), { decision: null, skipReason: 's', now: T0 });
      const cli = await openDurableStores(options);
      try {
        expect((await cli.ledger.findByBillNo(grant!.billNo!))?.id).toBe(grant!.id);
        expect(await cli.orders.findOrder(order().transactionId)).toMatchObject({ transactionId: order().transactionId });
      } finally {
        await cli.close();
      }
    } finally {
      await bot.close();
      tmp.remove();
    }
  });
});
