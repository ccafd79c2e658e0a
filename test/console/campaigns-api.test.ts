/**
 * The Campaigns page's actions, the CLI's operations: pause / resume (then `campaign list` shows it),
 * cancel a pending grant, reissue a failed one; bad input is 400, a refusal 409; each is audited.
 */
import request from 'supertest';
import { consoleAudit } from '../../src/console/audit';
import { fixedClock } from '../../src/lib/clock';
import { silentLogger } from '../../src/lib/logger';
import { campaignList } from './cli-campaign-list';
import { type ConsoleSessionCookies, type ConsoleTestBot, csrfOf, startConsoleTestBot } from './console-bot';
import { seedLedger } from './seed-ledger';

const T0 = Date.parse('2026-12-04T04:30:00Z');

describe('console campaigns', () => {
  let cb: ConsoleTestBot;
  let s: ConsoleSessionCookies;
  beforeAll(async () => {
    cb = await startConsoleTestBot({ clock: fixedClock(T0) });
    await seedLedger(cb.bot, T0);
    s = await cb.login();
  });
  afterAll(() => cb.close());

  const post = (action: string, body: Record<string, string>) =>
    request(cb.app).post(`/console/api/campaigns/${action}`).set('cookie', s.cookie).set('x-csrf-token', s.csrf).send(body);
  const sessionId = async () => (await consoleAudit({ kv: cb.bot.store.kv, counters: cb.bot.store.counters, log: silentLogger() }).recent(1))[0]!.session;

  test('pause and resume: the ledger and the CLI see it; a typo is refused with the closest name', async () => {
    const paused = await post('pause', { campaign: 'welcome-packet', reason: 'budget review' }).expect(200);
    expect(paused.body).toEqual({ ok: true, message: 'campaign welcome-packet paused' });
    const id = await sessionId();
    expect(await cb.bot.ledger.pausedCampaigns()).toEqual([
      expect.objectContaining({ campaign: 'welcome-packet', reason: `budget review (console:${id})`, by: 'operator' }),
    ]);
    expect(await campaignList(cb.dir)).toMatch(/welcome-packet .*paused \(budget review \(console:[0-9a-f]{12}\)\)/);
    const page = await request(cb.app).get('/console/campaigns').set('cookie', s.cookie).expect(200);
    expect(page.text).toMatch(/<tr data-campaign="welcome-packet" data-state="paused">/);
    expect(page.text).toContain('data-action="resume"');
    expect((await post('resume', { campaign: 'welcome-packet' }).expect(200)).body.message).toBe('campaign welcome-packet resumed');
    expect(await cb.bot.ledger.pausedCampaigns()).toEqual([]);
    expect(await campaignList(cb.dir)).toMatch(/welcome-packet .*active/);
    expect((await post('resume', { campaign: 'welcome-packet' }).expect(409)).body.message).toBe('campaign welcome-packet was not paused: nothing changed');
    expect((await post('pause', { campaign: 'welcom-packet' }).expect(409)).body.message).toMatch(/did you mean "welcome-packet"/);
    await post('pause', { campaign: '' }).expect(400);
    await post('pause', { campaign: 'welcome-packet', reason: 'two\nlines' }).expect(400);
  });

  test('the pause form posts and shows the page again with the result', async () => {
    const page = await request(cb.app).get('/console/campaigns').set('cookie', s.cookie).expect(200);
    const res = await request(cb.app)
      .post('/console/campaigns/pause')
      .set('cookie', s.cookie)
      .type('form')
      .send({ _csrf: csrfOf(page.text), campaign: 'spend-packet', reason: '' })
      .expect(200);
    expect(res.text).toContain('Done: campaign spend-packet paused');
    expect((await cb.bot.ledger.pausedCampaigns()).map((p) => p.campaign)).toEqual(['spend-packet']);
    await post('resume', { campaign: 'spend-packet' }).expect(200);
  });

  test('cancel a pending grant and reissue a failed one, as redpack cancel / reissue do', async () => {
    const pending = (await cb.bot.ledger.findByKey('seed-5', 'seed'))!;
    await post('cancel', { billNo: pending.billNo!, reason: '' }).expect(400);
    const cancelled = await post('cancel', { billNo: pending.billNo!, reason: 'wrong follower' }).expect(200);
    expect(cancelled.body.message).toBe(`cancelled ${pending.billNo}`);
    const id = await sessionId();
    expect(await cb.bot.ledger.findByBillNo(pending.billNo!)).toMatchObject({
      status: 'CANCELLED',
      operatorAction: { action: 'cancelled', by: `console:${id}`, reason: 'wrong follower' },
    });
    expect((await post('cancel', { billNo: pending.billNo!, reason: 'again' }).expect(409)).body.ok).toBe(false);

    const failed = await cb.bot.rewards.record({ campaign: 'welcome-packet', openId: 'oFailed', dedupeKey: 'failed-1', ruleId: 'seed', now: T0 });
    const g = (await cb.bot.ledger.findByBillNo(failed.billNo!))!;
    await cb.bot.ledger.settle(g.id, { status: 'FAILED', now: T0, reason: 'NO_AUTH', release: ['budget', 'per_user', 'follower_daily', 'merchant_daily'] });
    const reissued = await post('reissue', { billNo: g.billNo!, reason: 'NO_AUTH lifted' }).expect(200);
    const old = (await cb.bot.ledger.findByBillNo(g.billNo!))!;
    expect(old.reissuedAs).toMatch(/^\d{28}$/);
    expect(reissued.body.message).toBe(`reissued ${g.billNo} as ${old.reissuedAs}`);
    expect(await cb.bot.ledger.findByBillNo(old.reissuedAs!)).toMatchObject({ status: 'PENDING', reissueOf: g.billNo, openId: 'oFailed' });
    await post('reissue', { billNo: g.billNo!, reason: 'twice' }).expect(409);
    await post('reissue', { billNo: 'not a bill', reason: 'x' }).expect(400);
  });

  test('the audit is readable in the console: the page lists the latest actions, the API gives the records', async () => {
    const page = await request(cb.app).get('/console/campaigns').set('cookie', s.cookie).expect(200);
    expect(page.text).toMatch(/<td>campaign\.pause<\/td><td>welcome-packet<\/td><td>campaign welcome-packet paused<\/td>/);
    const api = await request(cb.app).get('/console/api/audit?limit=3').set('cookie', s.cookie).expect(200);
    expect(api.body.records).toHaveLength(3);
    expect(api.body.records[0].seq).toBeGreaterThan(api.body.records[1].seq);
    await request(cb.app).get('/console/api/audit').expect(401);
  });

  test('every action is in the audit with its outcome', async () => {
    const recent = await consoleAudit({ kv: cb.bot.store.kv, counters: cb.bot.store.counters, log: silentLogger() }).recent(100);
    const actions = recent.filter((r) => r.action.startsWith('campaign.'));
    expect(actions.map((r) => `${r.action} ${r.target} ${(r.detail as { ok: boolean }).ok}`)).toEqual(
      expect.arrayContaining([
        'campaign.pause welcome-packet true',
        'campaign.resume welcome-packet false',
        'campaign.cancel ' + actions.find((a) => a.action === 'campaign.cancel')!.target + ' true',
      ]),
    );
  });
});
