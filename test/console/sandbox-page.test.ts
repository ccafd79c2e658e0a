import request from 'supertest';
import { consoleAudit } from '../../src/console/audit';
import { fixedClock, shanghaiToEpoch } from '../../src/lib/clock';
import { silentLogger } from '../../src/lib/logger';
import { startConsoleTestBot, type ConsoleSessionCookies, type ConsoleTestBot } from './console-bot';

describe('sandbox panel', () => {
  let cb: ConsoleTestBot;
  let s: ConsoleSessionCookies;
  const clock = fixedClock(shanghaiToEpoch(2026, 12, 4, 12, 0, 0));
  beforeAll(async () => {
    cb = await startConsoleTestBot({ clock });
    await cb.bot.listen(0, '127.0.0.1');
    s = await cb.login();
  });
  afterAll(async () => {
    await cb?.close();
  });
  const post = (url: string, body: Record<string, unknown>, csrf: string | null = s.csrf) => {
    const r = request(cb.app).post(url).set('cookie', s.cookie);
    return (csrf === null ? r : r.set('x-csrf-token', csrf)).send(body);
  };
  const audit = () => consoleAudit({ kv: cb.bot.store.kv, counters: cb.bot.store.counters, log: silentLogger(), clock }).recent(50);

  it('should answer 401 without a session', async () => {
    await request(cb.app).post('/console/api/sandbox/play').send({ kind: 'follow' }).expect(401);
    await request(cb.app).get('/console/api/sandbox/packets').expect(401);
  });

  it.each(['play', 'pay', 'receive', 'refund', 'send-due', 'reconcile'])('should refuse POST %s without the CSRF token (403) and change nothing', async (action) => {
    const before = cb.bot.sandbox!.pay.payments.size;
    const res = await post(`/console/api/sandbox/${action}`, { kind: 'follow', amount: '120.00', billNo: 'x' }, null).expect(403);
    expect(res.body.ok).toBe(false);
    await post(`/console/sandbox/${action}`, { kind: 'follow' }, 'wrong-token').expect(403);
    expect(cb.bot.sandbox!.pay.payments.size).toBe(before);
    expect(await cb.bot.orders.listOrders()).toEqual([]);
  });

  it.each([
    ['play', { kind: 'dance' }, 'kind must be one of text, click, follow'],
    ['play', { kind: 'text', text: '' }, 'type a text of 1 to 600 characters'],
    ['play', { kind: 'follow', openid: 'o<script>' }, 'openid must be letters, digits'],
    ['pay', { amount: '12.345' }, 'the order amount must be yuan with at most 2 decimals'],
    ['receive', { billNo: '../../etc' }, 'billNo must be a bill number'],
  ])('should answer 400 with a clear message for a bad %s', async (action, body, message) => {
    const res = await post(`/console/api/sandbox/${action}`, body).expect(400);
    expect(res.body).toEqual({ ok: false, message: expect.stringContaining(message) });
  });

  it('should play a follow through the webhook: the welcome reply, a grant in the ledger, audited', async () => {
    const res = await post('/console/api/sandbox/play', { kind: 'follow', openid: 'o-newcomer' }).expect(200);
    expect(res.body.result.lines[0]).toBe('reply: text');
    const grants = await cb.bot.ledger.listAll({ campaign: 'welcome-packet' });
    expect(grants).toEqual([expect.objectContaining({ openId: 'o-newcomer', status: 'PENDING' })]);
    expect(await audit()).toEqual(expect.arrayContaining([expect.objectContaining({ action: 'sandbox.play', target: 'o-newcomer', session: expect.any(String) })]));
  });

  it('should mark a sent packet received once (then 409), and 404 an unknown one', async () => {
    await cb.bot.worker.runOnce();
    const packets = (await request(cb.app).get('/console/api/sandbox/packets').set('cookie', s.cookie).expect(200)).body.packets;
    const mine = packets.find((p: { openId: string }) => p.openId === 'o-newcomer');
    expect(mine).toMatchObject({ status: 'SENT', amountYuan: expect.stringMatching(/^\d+\.\d{2}$/) });
    const r = await post('/console/api/sandbox/receive', { billNo: mine.billNo }).expect(200);
    expect(r.body.result.packet).toMatchObject({ billNo: mine.billNo, status: 'RECEIVED' });
    await post('/console/api/sandbox/receive', { billNo: mine.billNo }).expect(409);
    await post('/console/api/sandbox/receive', { billNo: '1900000109202612049999999999' }).expect(404);
    expect(await audit()).toEqual(expect.arrayContaining([expect.objectContaining({ action: 'sandbox.receive', target: mine.billNo })]));
  });

  it('should pay an order through the notify endpoint: the order is recorded with what it earned', async () => {
    const res = await post('/console/api/sandbox/pay', { openid: 'o-buyer', amount: '150.00' }).expect(200);
    expect(res.body.result).toMatchObject({ delivered: true, totalYuan: '150.00', transactionId: expect.stringMatching(/^\d{28}$/) });
    expect(await audit()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'sandbox.pay', target: res.body.result.transactionId, detail: expect.objectContaining({ totalFen: 15000 }) }),
      ]),
    );
    const orders = (await request(cb.app).get('/console/api/orders').set('cookie', s.cookie).expect(200)).body.rows;
    expect(orders).toEqual([expect.objectContaining({ transactionId: res.body.result.transactionId, amountYuan: '150.00', earnedYuan: '10.00' })]);
  });

  it('should refund the unclaimed packets and show the result on the page (form POST)', async () => {
    await cb.bot.worker.runOnce();
    const page = await request(cb.app).post('/console/sandbox/refund').set('cookie', s.cookie).type('form').send({ _csrf: s.csrf }).expect(200);
    expect(page.text).toMatch(/\d+ packet\(s\) refunded\./);
    expect(await audit()).toEqual(expect.arrayContaining([expect.objectContaining({ action: 'sandbox.refund-unclaimed' })]));
  });

  it("should run the bot's own outbox pass and reconciliation pass on demand: a follow's packet reaches the ledger as RECEIVED, audited", async () => {
    await post('/console/api/sandbox/play', { kind: 'follow', openid: 'o-whole-loop' }).expect(200);
    const grant = async () => (await cb.bot.ledger.listAll({ campaign: 'welcome-packet' })).find((g) => g.openId === 'o-whole-loop')!;
    expect(await grant()).toMatchObject({ status: 'PENDING' });
    const sent = await request(cb.app).post('/console/sandbox/send-due').set('cookie', s.cookie).type('form').send({ _csrf: s.csrf }).expect(200);
    expect(sent.text).toMatch(/Outbox pass: \d+ grant\(s\) handled, [1-9]\d* sent/);
    expect(await grant()).toMatchObject({ status: 'SENT' });
    await post('/console/api/sandbox/receive', { billNo: (await grant()).billNo }).expect(200);
    expect(await grant()).toMatchObject({ status: 'SENT' }); // the stand-in knows; the ledger learns at the next reconciliation
    const r = await post('/console/api/sandbox/reconcile', {}).expect(200);
    expect(r.body.result.report).toMatchObject({ errors: 0 });
    expect(r.body.result.report.received).toBeGreaterThanOrEqual(1); // this one (and the earlier test's)
    expect(await grant()).toMatchObject({ status: 'RECEIVED' });
    const page = await request(cb.app).post('/console/sandbox/reconcile').set('cookie', s.cookie).type('form').send({ _csrf: s.csrf }).expect(200);
    expect(page.text).toMatch(/Reconciliation: \d+ packet\(s\) checked, 0 received/);
    const actions = (await audit()).map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['sandbox.send-due', 'sandbox.reconcile']));
    expect(await audit()).toEqual(
      expect.arrayContaining([expect.objectContaining({ action: 'sandbox.reconcile', detail: expect.objectContaining({ received: r.body.result.report.received }) })]),
    );
  });
});
