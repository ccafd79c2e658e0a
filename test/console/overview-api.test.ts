/**
 * The Overview page and its APIs on a seeded ledger: campaign states and use, today's totals against
 * the merchant's daily limits, the hourly activity (24 h and 7 days), and the open alerts (a paused
 * campaign, a bill-number collision, a held grant, a failing reconciliation).
 */
import path from 'node:path';
import ejs from 'ejs';
import request from 'supertest';
import { mergeMessages, translator } from '../../src/console/i18n';
import { COMMON_MESSAGES } from '../../src/console/messages';
import { OVERVIEW_MESSAGES } from '../../src/console/overview-messages';
import { consoleViewsDir, fmt } from '../../src/console/render';
import { fixedClock } from '../../src/lib/clock';
import { recordReconcileRun } from '../../src/rewards/reconcile-status';
import { type ConsoleSessionCookies, type ConsoleTestBot, startConsoleTestBot } from './console-bot';
import { SEEDED, seedLedger } from './seed-ledger';

const T0 = Date.parse('2026-12-04T04:30:00Z'); // 12:30 Beijing
const sum = (buckets: Record<string, number>[], key: string) => buckets.reduce((n, b) => n + b[key]!, 0);

describe('console overview', () => {
  let cb: ConsoleTestBot;
  let s: ConsoleSessionCookies;
  const clock = fixedClock(T0);
  beforeAll(async () => {
    cb = await startConsoleTestBot({ clock });
    await seedLedger(cb.bot, T0);
    s = await cb.login();
  });
  afterAll(() => cb.close());

  const get = (path: string) => request(cb.app).get(path).set('cookie', s.cookie);

  test('the activity API counts the seeded grants, sends, claims and refunds per hour over 24 h and 7 days', async () => {
    const day = await get('/console/api/overview/activity?range=24h').expect(200);
    expect(day.body.range).toBe('24h');
    expect(day.body.buckets).toHaveLength(24);
    expect(day.body.buckets[23]).toMatchObject({ start: Date.parse('2026-12-04T04:00:00Z'), label: '12-04 12:00' });
    const week = await get('/console/api/overview/activity?range=7d').expect(200);
    expect(week.body.buckets).toHaveLength(168);
    for (const body of [day.body, week.body])
      expect(['grants', 'sends', 'claims', 'refunds'].map((k) => sum(body.buckets, k))).toEqual([SEEDED.grants, SEEDED.sends, SEEDED.claims, SEEDED.refunds]);
    // One grant per hour, 1–6 h ago.
    expect(day.body.buckets.slice(17, 23).map((b: { grants: number }) => b.grants)).toEqual([1, 1, 1, 1, 1, 1]);
    expect((await get('/console/api/overview/activity?range=1y').expect(200)).body.range).toBe('24h');
  });

  test('the overview API gives each campaign its state and use, and today against the daily limits', async () => {
    const res = await get('/console/api/overview').expect(200);
    const welcome = res.body.campaigns.find((c: { name: string }) => c.name === 'welcome-packet');
    // The refunded packet gave its budget back (restore_budget_on_refund).
    expect(welcome).toMatchObject({
      kind: 'red_packet',
      state: 'active',
      maxCount: 200,
      budgetFen: 50_000,
      sendsToday: SEEDED.sends,
      used: { count: SEEDED.grants - 1 },
    });
    expect(res.body.today).toMatchObject({ day: '2026-12-04', sends: SEEDED.sends, merchant: { used: { count: SEEDED.grants }, maxAmountFen: 100_000_000 } });
    expect(res.body.alerts).toEqual([]);
  });

  test('a card campaign shows its count used against the total of its limits (max_cards), the page says when there is none', async () => {
    const res = await get('/console/api/overview').expect(200);
    expect(res.body.campaigns.find((c: { name: string }) => c.name === 'coffee-coupon')).toMatchObject({ kind: 'card', maxCount: 500, budgetFen: null });
    const page = await get('/console').expect(200);
    expect(page.text).toMatch(/<tr data-campaign="coffee-coupon"[\s\S]*?<td class="num">0 \/ 500<\/td>/);
    const noTotal = { name: 'x', kind: 'points', state: 'active', enabled: true, used: { count: 3, amountFen: 0 }, maxCount: null, budgetFen: null, sendsToday: 0 };
    const data = {
      now: T0,
      campaigns: [noTotal],
      alerts: [],
      today: { day: '2026-12-04', merchant: { used: { count: 0, amountFen: 0 }, maxCount: null, maxAmountFen: 0 }, sends: 0, maxSendsPerDay: null },
    };
    for (const [lang, words] of [
      ['en', 'no limit'],
      ['zh-CN', '不限'],
    ] as const) {
      const html = await ejs.renderFile(path.join(consoleViewsDir(), 'overview.ejs'), {
        title: 'x',
        range: '24h',
        data,
        fmt,
        t: translator(mergeMessages(COMMON_MESSAGES, OVERVIEW_MESSAGES), lang),
      });
      expect(html).toContain(`<td class="num">3 / ${words}</td>`);
    }
  });

  test('the page renders the campaigns with yuan amounts, Beijing times and the chart canvas', async () => {
    const page = await get('/console').expect(200);
    expect(page.text).toMatch(/<tr data-campaign="welcome-packet" data-state="active">/);
    expect(page.text).toMatch(/\d+\.\d\d \/ 500\.00/);
    expect(page.text).toContain('<canvas id="activity-chart"');
    expect(page.text).toContain('<script src="/console/static/vendor/chart.umd.min.js" defer></script>');
    const zh = await get('/console?lang=zh-CN').expect(200);
    expect(zh.text).toContain('每小时活动');
  });

  test('open alerts: a paused campaign, a collision, a held grant, a failing reconciliation', async () => {
    await cb.bot.ledger.pauseCampaign('spend-packet', { reason: 'NOTENOUGH: top up', by: 'worker', now: T0 - 60_000 });
    const pending = (await cb.bot.ledger.findByKey('seed-5', 'seed'))!;
    await cb.bot.ledger.settle(pending.id, { status: 'HELD', now: T0, reason: 'billno_collision: the answer says re_openid oOther' });
    const other = await cb.bot.rewards.record({ campaign: 'welcome-packet', openId: 'oHeld', dedupeKey: 'held-1', ruleId: 'seed', now: T0 });
    const g = (await cb.bot.ledger.findByBillNo(other.billNo!))!;
    await cb.bot.ledger.settle(g.id, { status: 'HELD', now: T0, reason: 'operator review' });
    await recordReconcileRun(cb.bot.store.kv, {
      at: T0,
      report: { checked: 3, received: 0, refunded: 0, refunding: 0, unchanged: 0, anomalies: 1, collisions: 0, errors: 2 },
    });
    const res = await get('/console/api/overview').expect(200);
    expect(res.body.alerts.map((a: { kind: string }) => a.kind)).toEqual(['paused', 'collision', 'held', 'reconcile']);
    expect(res.body.campaigns.find((c: { name: string }) => c.name === 'spend-packet')).toMatchObject({
      state: 'paused',
      paused: { reason: 'NOTENOUGH: top up', by: 'worker' },
    });
    const page = await get('/console').expect(200);
    expect(page.text).toContain('Campaign spend-packet is paused by worker since 2026-12-04 12:29 (UTC+8): NOTENOUGH: top up');
    expect(page.text).toContain(`1 grant(s) held as bill-number collisions: ${pending.billNo}`);
    expect(page.text).toContain('2 query errors, 1 anomalies, 0 collisions');
  });
});
