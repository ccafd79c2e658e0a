/**
 * End to end in sandbox mode: createBot (SQLite under a temp data folder, the in-process API and Pay
 * sandboxes), the sandbox notifier paying as WeChat Pay (v2 and v3) over loopback, the outbox worker
 * sending the red packet to the pay sandbox — which pays it once, however often the notification comes.
 */
import path from 'node:path';
import { createBot, type Bot } from '../../src/bot/create-bot';
import { loadSettings } from '../../src/config/settings';
import { silentLogger } from '../../src/lib/logger';
import { runSandboxPay } from '../../src/cli/commands/spend';
import { tempDir } from './helpers';
import { writeSpendConfig } from './write-spend-config';
import { SPEND_YAML } from './helpers';

const REPO = path.resolve(__dirname, '../..');

async function until<T>(fn: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('spend-and-get through createBot (sandbox mode)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let bot: Bot;
  let url: string;
  let env: Record<string, string>;
  const io = { out: (_: string) => undefined, err: (_: string) => undefined };

  beforeAll(async () => {
    tmp = tempDir('spend-e2e-');
    const configDir = writeSpendConfig(tmp.dir, SPEND_YAML);
    env = { BOT_CONFIG_DIR: configDir, BOT_DATA_DIR: path.join(tmp.dir, 'data'), BOT_VIEWS_DIR: path.join(REPO, 'views'), PORT: '0' };
    bot = await createBot({ settings: loadSettings(env, tmp.dir), log: silentLogger(), watchConfig: false });
    const server = await bot.listen(0, '127.0.0.1');
    const port = (server.address() as { port: number }).port;
    url = `http://127.0.0.1:${port}/wechat/pay/notify`;
  });
  afterAll(async () => {
    await bot?.close();
    tmp?.remove();
  });

  it.each([
    ['v2', false, 'o-e2e-payer-v2', '120.00', 1000],
    ['v3', true, 'o-e2e-payer-v3', '300.00', 3000],
  ])('should pay the %s payer one red packet for an order over the threshold, however often it is notified', async (_p, isV3, openid, amount, packet) => {
    const tx = `42000020260302${isV3 ? '3' : '2'}000000000000`;
    for (let i = 0; i < 3; i++) {
      const code = await runSandboxPay({ openid, amount, v3: isV3, url, transactionId: tx }, io, { env: { ...env }, schedule: [] });
      expect(code).toBe(0);
    }
    const payments = await until(() => {
      const p = bot.sandbox!.pay.paymentsTo(openid);
      return p.length > 0 && p;
    });
    expect(payments).toHaveLength(1);
    expect(payments[0]).toMatchObject({ amountFen: packet, timesPaid: 1 });
    expect(bot.sandbox!.pay.timesPaidTo(openid)).toBe(1);
    const order = await bot.orders.findOrder(tx);
    expect(order).toMatchObject({ paid: true, openId: openid, grant: { outcome: 'granted', amountFen: packet, billNo: payments[0].billNo } });
    const g = await bot.ledger.findByKey(tx, 'spend:spend-100');
    expect(g?.billNo).toBe(payments[0].billNo);
    // The worker settles it SENT; a fourth notification still pays nothing new.
    await until(() => bot.sandbox!.pay.paymentsTo(openid)[0]?.status === 'SENT' || undefined);
    expect(await runSandboxPay({ openid, amount, v3: isV3, url, transactionId: tx }, io, { env: { ...env }, schedule: [] })).toBe(0);
    expect(bot.sandbox!.pay.paymentsTo(openid)).toHaveLength(1);
    expect(bot.sandbox!.pay.callsTo('sendredpack').filter((c) => c.fields.re_openid === openid && c.paid)).toHaveLength(1);
  });

  it('should pay nothing for an order below the threshold or a failed payment', async () => {
    expect(await runSandboxPay({ openid: 'o-e2e-small', amount: '99.99', url }, io, { env: { ...env }, schedule: [] })).toBe(0);
    expect(await runSandboxPay({ openid: 'o-e2e-failed', amount: '500.00', url, failed: true }, io, { env: { ...env }, schedule: [] })).toBe(0);
    const orders = await bot.orders.listOrders();
    expect(orders.find((o) => o.openId === 'o-e2e-small')).toMatchObject({ decision: null, grant: null });
    expect(orders.find((o) => o.openId === 'o-e2e-failed')).toMatchObject({ paid: false, decision: null });
    expect(bot.sandbox!.pay.paymentsTo('o-e2e-small')).toEqual([]);
    expect(bot.sandbox!.pay.paymentsTo('o-e2e-failed')).toEqual([]);
  });
});
