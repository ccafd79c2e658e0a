import request from 'supertest';
import { fixedClock, shanghaiToEpoch } from '../../src/lib/clock';
import { startConsoleTestBot, type ConsoleTestBot } from './console-bot';

describe('rule tester page', () => {
  let cb: ConsoleTestBot;
  beforeAll(async () => {
    cb = await startConsoleTestBot({ clock: fixedClock(shanghaiToEpoch(2026, 12, 4, 12, 0, 0)) });
  });
  afterAll(async () => {
    await cb?.close();
  });

  it('should answer 401 with no data, and send a page to the login, without a session', async () => {
    const api = await request(cb.app).get('/console/api/rules/explain?kind=text&text=hello').expect(401);
    expect(api.body).toEqual({ ok: false, message: 'log in first' });
    await request(cb.app).get('/console/rules?kind=text&text=hello').expect(302).expect('location', '/console/login');
  });

  it('should explain "hello": the rule, where it is written, the reply, no reward', async () => {
    const s = await cb.login();
    const res = await request(cb.app).get('/console/api/rules/explain').query({ kind: 'text', text: 'hello' }).set('cookie', s.cookie).expect(200);
    expect(res.body.result).toMatchObject({ kind: 'message', matched: [{ ruleId: 'hello', where: expect.stringMatching(/rules\.yaml:\d+$/) }], grants: [] });
    const page = await request(cb.app).get('/console/rules').query({ kind: 'text', text: 'hello' }).set('cookie', s.cookie).expect(200);
    expect(page.text).toContain('Rule &#34;hello&#34; matches');
    expect(page.text).toMatch(/rules\.yaml:\d+<\/code>/);
  });

  it('should show a follower text escaped, never as markup', async () => {
    const s = await cb.login();
    const page = await request(cb.app).get('/console/rules').query({ kind: 'text', text: '<img src=x onerror=alert(1)>' }).set('cookie', s.cookie).expect(200);
    expect(page.text).not.toContain('<img src=x');
    expect(page.text).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('should preview the welcome packet of a follow and grant nothing', async () => {
    const s = await cb.login();
    const before = await cb.bot.ledger.listAll();
    const res = await request(cb.app).get('/console/api/rules/explain').query({ kind: 'follow' }).set('cookie', s.cookie).expect(200);
    expect(res.body.result.grants).toEqual([expect.objectContaining({ campaign: 'welcome-packet', amountYuan: '1.00–2.88', outcome: 'granted' })]);
    expect(await cb.bot.ledger.listAll()).toEqual(before);
  });

  it('should tell the spend tier of an order', async () => {
    const s = await cb.login();
    const res = await request(cb.app).get('/console/api/rules/explain').query({ kind: 'order', amount: '150' }).set('cookie', s.cookie).expect(200);
    expect(res.body.result.reward).toEqual({ campaign: 'spend-packet', amountYuan: '10.00' });
  });

  it('should answer 400 with a clear message on bad input (API and page)', async () => {
    const s = await cb.login();
    const res = await request(cb.app).get('/console/api/rules/explain').query({ kind: 'click', key: 'NOPE' }).set('cookie', s.cookie).expect(400);
    expect(res.body).toEqual({ ok: false, message: expect.stringContaining('pick a menu key of config/menu.yaml: MENU_TODAY') });
    const long = await request(cb.app)
      .get('/console/api/rules/explain')
      .query({ kind: 'text', text: 'x'.repeat(601) })
      .set('cookie', s.cookie)
      .expect(400);
    expect(long.body.message).toBe('the text is longer than 600 characters');
    const page = await request(cb.app).get('/console/rules').query({ kind: 'order', amount: 'lots' }).set('cookie', s.cookie).expect(400);
    expect(page.text).toContain('the order amount must be yuan with at most 2 decimals');
  });

  it('should speak Chinese when asked', async () => {
    const s = await cb.login();
    const page = await request(cb.app).get('/console/rules').query({ kind: 'text', text: 'hello', lang: 'zh-CN' }).set('cookie', s.cookie).expect(200);
    expect(page.text).toContain('规则 &#34;hello&#34; 匹配');
    const bad = await request(cb.app).get('/console/api/rules/explain').query({ kind: 'text', text: '', lang: 'zh-CN' }).set('cookie', s.cookie).expect(400);
    expect(bad.body.message).toBe('请输入粉丝发送的文字');
  });
});
