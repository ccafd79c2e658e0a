import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { fixedClock, shanghaiToEpoch } from '../../src/lib/clock';
import { startConsoleTestBot, type ConsoleTestBot } from './console-bot';

describe('config, orders and cards pages', () => {
  let cb: ConsoleTestBot;
  beforeAll(async () => {
    cb = await startConsoleTestBot({ clock: fixedClock(shanghaiToEpoch(2026, 12, 4, 12, 0, 0)) });
  });
  afterAll(async () => {
    await cb?.close();
  });

  it.each(['/console/api/config', '/console/api/orders', '/console/api/cards'])('should answer %s with 401 and no data without a session', async (url) => {
    expect((await request(cb.app).get(url).expect(401)).body).toEqual({ ok: false, message: 'log in first' });
  });

  it.each(['/console/config', '/console/orders', '/console/cards'])('should send %s to the login without a session', async (url) => {
    await request(cb.app).get(url).expect(302).expect('location', '/console/login');
  });

  it('should show the config version, and the last refused edit with its errors at file:line:path', async () => {
    const s = await cb.login();
    const version = cb.bot.config.current().version;
    const ok = await request(cb.app).get('/console/api/config').set('cookie', s.cookie).expect(200);
    expect(ok.body.status).toMatchObject({ version, ok: true, loadedAt: expect.any(Number) });
    expect(ok.body.status.lastRefused).toBeUndefined();
    const rules = path.join(cb.dir, 'config', 'rules.yaml');
    const good = fs.readFileSync(rules, 'utf8');
    fs.writeFileSync(rules, 'rules:\n  - id: hello\n    match: { event: subscrib }\n    actions: []\n');
    try {
      expect(cb.bot.config.reload().ok).toBe(false);
      const bad = await request(cb.app).get('/console/api/config').set('cookie', s.cookie).expect(200);
      expect(bad.body.status).toMatchObject({ version, ok: false, lastAttemptOk: false });
      expect(bad.body.status.lastRefused.errors).toEqual(
        expect.arrayContaining([expect.objectContaining({ where: expect.stringMatching(/rules\.yaml:3$/), path: 'rules[0] (id "hello").match.event' })]),
      );
      const page = await request(cb.app).get('/console/config').set('cookie', s.cookie).expect(200);
      expect(page.text).toMatch(/rules\.yaml:3<\/code>/);
      expect(page.text).toMatch(/\d{4}-\d{2}-\d{2} 12:00 \(UTC\+8\)/);
    } finally {
      fs.writeFileSync(rules, good);
      cb.bot.config.reload();
    }
  });

  it('should list orders (none yet) and refuse a bad page with 400', async () => {
    const s = await cb.login();
    expect((await request(cb.app).get('/console/api/orders').set('cookie', s.cookie).expect(200)).body).toEqual({ ok: true, rows: [] });
    expect((await request(cb.app).get('/console/orders').set('cookie', s.cookie).expect(200)).text).toContain('No orders recorded yet.');
    const bad = await request(cb.app).get('/console/api/orders?limit=abc').set('cookie', s.cookie).expect(400);
    expect(bad.body).toEqual({ ok: false, message: 'limit must be a whole number ≥ 1' });
    expect((await request(cb.app).get('/console/api/orders?limit=100000').set('cookie', s.cookie).expect(400)).body.message).toBe('limit is at most 200');
  });

  it("should show every card's review state and report figures, and the sub-merchants", async () => {
    const s = await cb.login();
    const res = await request(cb.app).get('/console/api/cards').set('cookie', s.cookie).expect(200);
    expect(res.body.cards).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'coffee-cash', status: expect.any(String), report: expect.objectContaining({ issued: 0 }) })]),
    );
    expect(res.body.submerchants.length).toBeGreaterThan(0);
    // A member card also carries the member figures of `cards report` (members, points granted).
    expect(res.body.cards.find((c: { name: string }) => c.name === 'corner-member').report.member).toEqual({
      members: { activated: 0, notActivated: 0 },
      points: { sent: { grants: 0, points: 0 }, open: { grants: 0, points: 0 }, failed: { grants: 0, points: 0 } },
    });
    const page = await request(cb.app).get('/console/cards').set('cookie', s.cookie).expect(200);
    expect(page.text).toContain('data-card="coffee-cash"');
    expect(page.text).toContain('data-member-card="corner-member"');
  });

  it("should show a card's quick pays, member updates, views and sessions on the cards page", async () => {
    const s = await cb.login();
    const cardId = (await cb.bot.cards.sync({ only: ['corner-member'] })).find((r) => r.name === 'corner-member')!.cardId!;
    const ev = (CreateTime: number, fields: Record<string, string>) =>
      ({ ToUserName: 'gh_x', FromUserName: 'oMember1', CreateTime, MsgType: 'event', CardId: cardId, UserCardCode: '100000000001', ...fields }) as never;
    const pay = ev(1772420000, { Event: 'user_pay_from_pay_cell', TransId: '4200000001', Fee: '1800', OriginalFee: '2000' });
    for (const e of [pay, pay, ev(1772420100, { Event: 'user_enter_session_from_card' })]) await cb.bot.cards.handleEvent(e);
    const res = await request(cb.app).get('/console/api/cards').set('cookie', s.cookie).expect(200);
    expect(res.body.cards.find((c: { name: string }) => c.name === 'corner-member').report.activity).toEqual({
      payments: { count: 1, fee: 1800, originalFee: 2000 },
      memberUpdates: { count: 0, bonus: 0, balance: 0 },
      views: 0,
      sessions: 1,
    });
    const page = await request(cb.app).get('/console/cards').set('cookie', s.cookie).expect(200);
    expect(page.text).toMatch(
      /data-activity-card="corner-member">\s*<td>corner-member<\/td>\s*<td class="num">1<\/td><td class="num">1800<\/td><td class="num">2000<\/td>/,
    );
  });
});
