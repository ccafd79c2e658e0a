import path from 'node:path';
import { createCliContext } from '../../src/cli/context';
import { silentLogger } from '../../src/lib/logger';
import { startApiSandbox, type ApiSandbox } from '../../src/sandbox/api-server';
import { createMemoryStore } from '../../src/store/memory';
import { openDurableStores } from '../../src/store/open-stores';
import { grantInput } from '../rewards/ledger-contract';
import { tempDir } from '../rewards/helpers';

describe('createCliContext durable()', () => {
  let sandbox: ApiSandbox;
  beforeAll(async () => {
    sandbox = await startApiSandbox();
  });
  afterAll(() => sandbox.close());

  it('should open the ledger the bot uses (the SQLite file beside the store), once, and close it with the context', async () => {
    const tmp = tempDir('cli-durable-');
    const env = { WECHAT_API_BASE: sandbox.url, BOT_DATA_DIR: tmp.dir };
    const ctx = await createCliContext(env, { log: silentLogger(), note: () => undefined });
    let billNo: string | undefined;
    try {
      const durable = await ctx.durable();
      expect(await ctx.durable()).toBe(durable);
      billNo = (await durable.ledger.recordGrant(grantInput())).grant.billNo ?? undefined;
    } finally {
      await ctx.close();
    }
    const again = await openDurableStores({ sqlitePath: path.join(tmp.dir, 'wechat-bot.sqlite') });
    try {
      expect((await again.ledger.findByBillNo(billNo!))?.billNo).toBe(billNo);
    } finally {
      await again.close();
      tmp.remove();
    }
  });

  it('should keep the money in memory beside a memory store a test passes in', async () => {
    const tmp = tempDir('cli-durable-');
    const store = createMemoryStore();
    const ctx = await createCliContext({ WECHAT_API_BASE: sandbox.url, BOT_DATA_DIR: tmp.dir }, { store, log: silentLogger() });
    try {
      const { ledger } = await ctx.durable();
      await ledger.recordGrant(grantInput());
      expect(await ledger.listAll({ limit: 5 })).toHaveLength(1);
    } finally {
      await ctx.close();
      await store.close();
    }
    const file = await openDurableStores({ sqlitePath: path.join(tmp.dir, 'wechat-bot.sqlite') });
    expect(await file.ledger.listAll({ limit: 5 })).toHaveLength(0);
    await file.close();
    tmp.remove();
  });
});
