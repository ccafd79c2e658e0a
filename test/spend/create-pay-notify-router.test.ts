import path from 'node:path';
import request from 'supertest';
import { createLogger, silentLogger } from '../../src/lib/logger';
import { createTestWebhook } from '../helpers/test-webhook';
import { createRewards } from '../../src/rewards/rewards';
import type { Ledger } from '../../src/rewards/ledger';
import type { OrderStore } from '../../src/spend/order-store';
import { parseXml } from '../../src/wechat/xml';
import { SqliteLedger } from '../../src/store/sqlite-ledger';
import { SqliteOrderStore } from '../../src/store/sqlite-orders';
import { openSqlite } from '../../src/store/sqlite-migrate';
import { MCH_ID, payStack, rewardsConfig, ROGUE_KEY_PEM, spendConfig, T0, tempDir, v2, v3, type PayStack } from './helpers';
import { withLedgerRules } from '../../src/rewards/ledger-plans';
import { ledgerTagRules } from '../../src/rewards/bill-no';

const PATH = '/wechat/pay/notify';
const TX = '4200002026030200000000000001';

function postV2(app: PayStack['app'], body: string) {
  return request(app.callback()).post(PATH).set('content-type', 'text/xml').send(body);
}
function postV3(app: PayStack['app'], n: { body: string; headers: Record<string, string> }) {
  return request(app.callback()).post(PATH).set(n.headers).send(n.body);
}
const returnCode = (text: string) => (parseXml(text) as { return_code: string }).return_code;
async function grantsOf(ledger: Ledger) {
  return (await ledger.listAll()).filter((g) => g.ruleId.startsWith('spend:'));
}

describe('createPayNotifyRouter', () => {
  it('should record a v2 order, grant its tier to the payer and answer SUCCESS', async () => {
    const s = payStack();
    const res = await postV2(s.app, v2());
    expect(res.status).toBe(200);
    expect(res.text).toBe('<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>');
    const order = await s.orders.findOrder(TX);
    expect(order).toMatchObject({ paid: true, totalFen: 12000, decision: { ruleId: 'spend:spend-100', campaign: 'spend-packet', amountFen: 1000, tierMinFen: 10000 } });
    expect(order?.grant).toMatchObject({ outcome: 'granted', amountFen: 1000 });
    const grants = await grantsOf(s.ledger);
    expect(grants).toHaveLength(1);
    expect(grants[0]).toMatchObject({ dedupeKey: TX, ruleId: 'spend:spend-100', openId: 'o-payer-0001', amountFen: 1000, campaign: 'spend-packet', status: 'PENDING' });
    expect(order?.grant?.billNo).toBe(grants[0].billNo);
  });

  it('should record a v3 order (30 yuan tier at 300.00) and answer 200 {"code":"SUCCESS"}', async () => {
    const s = payStack();
    const res = await postV3(s.app, v3({ totalFen: 30000 }));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ code: 'SUCCESS', message: '成功' });
    expect((await grantsOf(s.ledger)).map((g) => g.amountFen)).toEqual([3000]);
  });

  it.each([
    ['v2 signed with another key', (s: PayStack) => postV2(s.app, v2({}, 'MD5', 'y'.repeat(32)))],
    ['v2 for another appid', (s: PayStack) => postV2(s.app, v2({ appId: 'wx1111111111111111' }))],
    ['v2 for another merchant', (s: PayStack) => postV2(s.app, v2({ mchId: '1900000999' }))],
    ['v2 hostile XML', (s: PayStack) => postV2(s.app, '<!DOCTYPE x [<!ENTITY a "b">]><xml>&a;</xml>')],
  ])('should answer %s with the v2 FAIL XML and record nothing', async (_name, send) => {
    const s = payStack();
    const res = await send(s);
    expect(res.status).toBe(200);
    expect(returnCode(res.text)).toBe('FAIL');
    expect((parseXml(res.text) as { return_msg: string }).return_msg).not.toBe('');
    expect(await s.orders.listOrders()).toEqual([]);
    expect(await s.ledger.listAll()).toEqual([]);
  });

  it.each([
    ['v3 forged signature', 401, () => v3({}, { platformKeyPem: ROGUE_KEY_PEM })],
    ['v3 under another APIv3 key', 400, () => v3({}, { apiV3Key: 'z'.repeat(32) })],
    ['v3 for another appid', 400, () => v3({ appId: 'wx1111111111111111' })],
    ['v3 for another merchant', 400, () => v3({ mchId: '1900000999' })],
    ['v3 with a stale timestamp', 401, () => v3({}, { nowSeconds: Math.floor(T0 / 1000) - 3600 })],
  ])('should answer %s with HTTP %i {"code":"FAIL"} and record nothing', async (_name, status, make) => {
    const s = payStack();
    const res = await postV3(s.app, make());
    expect(res.status).toBe(status);
    expect(res.body.code).toBe('FAIL');
    expect(typeof res.body.message).toBe('string');
    expect(await s.orders.listOrders()).toEqual([]);
    expect(await s.ledger.listAll()).toEqual([]);
  });

  it('should refuse a body over the limit with 413 and record nothing', async () => {
    const s = payStack({ maxBodyBytes: 1024 });
    const res = await postV2(s.app, `<xml><a><![CDATA[${'x'.repeat(4096)}]]></a></xml>`);
    expect(res.status).toBe(413);
    expect(returnCode(res.text)).toBe('FAIL');
    expect(await s.orders.listOrders()).toEqual([]);
  });

  it('should answer 405 to other methods', async () => {
    const s = payStack();
    const res = await request(s.app.callback()).get(PATH);
    expect(res.status).toBe(405);
  });

  it.each([
    ['99.99', 9999, undefined],
    ['100.00', 10000, 1000],
    ['299.99', 29999, 1000],
    ['300.00', 30000, 3000],
  ])('should grant an order of exactly %s yuan the right tier', async (_y, fen, packet) => {
    const s = payStack();
    expect(returnCode((await postV2(s.app, v2({ totalFen: fen }))).text)).toBe('SUCCESS');
    const order = await s.orders.findOrder(TX);
    expect(order?.totalFen).toBe(fen);
    expect((await grantsOf(s.ledger)).map((g) => g.amountFen)).toEqual(packet ? [packet] : []);
    if (!packet) expect(order).toMatchObject({ decision: null, skipReason: 'spend-100: below the lowest tier (100.00 yuan)', grant: null });
  });

  it.each(['v2', 'v3'])('should record a failed %s payment, grant nothing, and answer success', async (p) => {
    const s = payStack();
    const res = p === 'v2' ? await postV2(s.app, v2({ failed: true, totalFen: 50000 })) : await postV3(s.app, v3({ failed: true, totalFen: 50000 }));
    expect(p === 'v2' ? returnCode(res.text) : res.body.code).toBe('SUCCESS');
    expect(await s.orders.findOrder(TX)).toMatchObject({ paid: false, decision: null, skipReason: expect.stringContaining('payment not successful') });
    expect(await s.ledger.listAll()).toEqual([]);
  });

  it('should grant once when a failed payment is followed by its successful notification', async () => {
    const s = payStack();
    await postV2(s.app, v2({ failed: true }));
    await postV2(s.app, v2());
    await postV2(s.app, v2());
    expect(await s.orders.findOrder(TX)).toMatchObject({ paid: true, state: 'SUCCESS' });
    expect(await grantsOf(s.ledger)).toHaveLength(1);
  });

  it('should grant once for the same notification sent 8 times at once (v2 and v3 mixed)', async () => {
    const s = payStack();
    const sends = Array.from({ length: 8 }, (_, i) => (i % 2 ? postV3(s.app, v3()) : postV2(s.app, v2({}, i % 4 ? 'HMAC-SHA256' : 'MD5'))));
    const answers = await Promise.all(sends);
    for (const [i, a] of answers.entries()) expect(i % 2 ? a.body.code : returnCode(a.text)).toBe('SUCCESS');
    expect(await s.orders.listOrders()).toHaveLength(1);
    const grants = await grantsOf(s.ledger);
    expect(grants).toHaveLength(1);
    expect((await s.ledger.usage('budget:spend-packet')).count).toBe(1);
  });

  it('should grant once for the same notification sent 8 times spaced out, and keep the first decision when the config changes', async () => {
    let spend = spendConfig();
    const s = payStack({ spend: () => spend });
    for (let i = 0; i < 8; i++) {
      if (i === 1) spend = spendConfig({ rules: [{ id: 'spend-100', campaign: 'spend-packet', tiers: [{ min: 100, amount: 20 }] }] });
      s.clock.advance(15_000 * (i + 1));
      const res = await postV2(s.app, v2());
      expect(returnCode(res.text)).toBe('SUCCESS');
    }
    expect((await grantsOf(s.ledger)).map((g) => g.amountFen)).toEqual([1000]);
    expect((await s.orders.findOrder(TX))?.receivedAt).toBe(T0 + 15_000);
  });

  it('should answer FAIL while the ledger is unreachable (order kept) and grant once when the re-send finds it back', async () => {
    const s = payStack();
    let down = true;
    const ledger = new Proxy(s.ledger, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => (down ? Promise.reject(new Error('connection refused')) : (v as (...a: unknown[]) => unknown).apply(target, args));
      },
    });
    const rewards = createRewards({ ledger, config: () => rewardsConfig(), clock: s.clock, mchId: MCH_ID, log: silentLogger() });
    const flaky = payStack({ orders: s.orders, ledger: s.ledger, rewards });
    const first = await postV3(flaky.app, v3());
    expect(first.status).toBe(500);
    expect(first.body).toEqual({ code: 'FAIL', message: 'the grant could not be recorded; send it again' });
    expect(await s.orders.findOrder(TX)).toMatchObject({ paid: true, grant: null });
    down = false;
    expect((await postV3(flaky.app, v3())).status).toBe(200);
    expect(await grantsOf(s.ledger)).toHaveLength(1);
    expect((await s.orders.findOrder(TX))?.grant?.outcome).toBe('granted');
  });

  it('should answer FAIL when the order cannot be recorded, and record no grant', async () => {
    const s = payStack();
    const broken: OrderStore = { ...s.orders, recordOrder: async () => Promise.reject(new Error('disk full')) };
    const b = payStack({ orders: broken, ledger: s.ledger });
    const res = await postV2(b.app, v2());
    expect(returnCode(res.text)).toBe('FAIL');
    expect(await s.ledger.listAll()).toEqual([]);
  });
});

describe('createPayNotifyRouter after a crash (SQLite, stores reopened)', () => {
  it.each([
    ['after the order was recorded, before the grant', 'order'],
    ['after the grant was recorded, before answering', 'grant'],
  ])('should grant nothing new when WeChat re-sends: crash %s', async (_name, crashAt) => {
    const tmp = tempDir();
    const file = path.join(tmp.dir, 'bot.sqlite');
    try {
      // First life: crashes at the chosen point (the handler throws; the answer never reaches WeChat as SUCCESS).
      const ledger1 = withLedgerRules(SqliteLedger.create(openSqlite(file), { ownsDb: true, tags: ledgerTagRules() }));
      const orders1 = SqliteOrderStore.create(openSqlite(file), { ownsDb: true });
      const real = createRewards({ ledger: ledger1, config: () => rewardsConfig(), clock: { now: () => T0 }, mchId: MCH_ID, log: silentLogger() });
      const crashing = {
        ...real,
        record: async (req: Parameters<typeof real.record>[0]) => {
          if (crashAt === 'order') throw new Error('SIGKILL');
          await real.record(req);
          throw new Error('SIGKILL');
        },
      };
      const life1 = payStack({ orders: orders1, ledger: ledger1, rewards: crashing as typeof real });
      const first = await postV2(life1.app, v2());
      expect(returnCode(first.text)).toBe('FAIL');
      await orders1.close();
      await ledger1.close();

      // Second life on the same file: WeChat re-sends.
      const ledger2 = withLedgerRules(SqliteLedger.create(openSqlite(file), { ownsDb: true, tags: ledgerTagRules() }));
      const orders2 = SqliteOrderStore.create(openSqlite(file), { ownsDb: true });
      const life2 = payStack({ orders: orders2, ledger: ledger2 });
      for (let i = 0; i < 3; i++) expect(returnCode((await postV2(life2.app, v2())).text)).toBe('SUCCESS');
      const grants = await grantsOf(ledger2);
      expect(grants).toHaveLength(1);
      expect((await ledger2.usage('budget:spend-packet')).count).toBe(1);
      expect(await orders2.listOrders()).toHaveLength(1);
      expect((await orders2.findOrder(TX))?.grant?.billNo).toBe(grants[0].billNo);
      await orders2.close();
      await ledger2.close();
    } finally {
      tmp.remove();
    }
  });
});

describe('createPayNotifyRouter log lines', () => {
  it("should carry the access log's reqId (the response's X-Request-Id) on every line", async () => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });
    const s = payStack({ log });
    const t = createTestWebhook({ routers: [s.router] });
    const post = (body: string) => request(t.callback).post(PATH).set('content-type', 'text/xml').send(body);
    const ids = [(await post(v2())).headers['x-request-id'], (await post(v2({}, 'MD5', 'not-the-key'))).headers['x-request-id']];
    expect(ids.every((id) => typeof id === 'string' && id !== '')).toBe(true);
    const notify = lines.filter((l) => l.module === 'pay-notify');
    expect(notify.map((l) => [l.msg, l.reqId])).toEqual([
      ['payment notification acknowledged', ids[0]],
      ['payment notification rejected', ids[1]],
    ]);
  });
});
