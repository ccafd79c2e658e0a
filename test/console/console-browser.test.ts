/**
 * The console end to end in a real headless chromium (playwright-core, /usr/bin/chromium): a page
 * without a session goes to the login; the login form signs in; the overview chart is drawn with the
 * seeded ledger's data points (read from the chart.js instance in the page, not a screenshot), for 24 h
 * and 7 days; pausing a campaign in the console makes a follow (a signed webhook POST) get the paused
 * reply and the CLI's `campaign list` show it paused; logging out sends every page back to the login.
 */
import type { Browser, Page } from 'playwright-core';
import { subscribeXml } from '../helpers/inbound';
import { type ConsoleBrowserBot, describeBrowser, launchBrowser, login, startConsoleBot } from './browser';
import { campaignList } from './cli-campaign-list';
import { SEEDED } from './seed-ledger';

/** The chart's labels and each dataset's sum, as chart.js holds them in the page. */
function chartData(page: Page): Promise<{ labels: number; sums: Record<string, number> }> {
  return page.evaluate(() => {
    // Runs in the page (no DOM types in this project's TypeScript config).
    type ChartLike = { data: { labels: unknown[]; datasets: { key: string; data: number[] }[] } };
    const page = globalThis as unknown as { document: { getElementById(id: string): unknown }; Chart: { getChart(canvas: unknown): ChartLike } };
    const chart = page.Chart.getChart(page.document.getElementById('activity-chart'));
    const sums: Record<string, number> = {};
    for (const d of chart.data.datasets) sums[d.key] = d.data.reduce((a, b) => a + b, 0);
    return { labels: chart.data.labels.length, sums };
  });
}

describeBrowser('the operator console in a browser', () => {
  let bot: ConsoleBrowserBot;
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    bot = await startConsoleBot();
    browser = await launchBrowser();
    page = await browser.newPage();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await bot?.close();
  });

  test('a page without a session redirects to the login; the form signs in', async () => {
    await page.goto(`${bot.url}/console/campaigns`);
    expect(new URL(page.url()).pathname).toBe('/console/login');
    await login(page, bot);
    expect(await page.textContent('h1')).toBe('Overview');
  });

  test('the overview chart is drawn with the seeded data points, for 24 h and 7 days', async () => {
    await page.waitForSelector('#activity-chart[data-drawn="24h"]');
    const expected = { grants: SEEDED.grants, sends: SEEDED.sends, claims: SEEDED.claims, refunds: SEEDED.refunds };
    expect(await chartData(page)).toEqual({ labels: 24, sums: expected });
    await page.click('a[data-range="7d"]');
    await page.waitForSelector('#activity-chart[data-drawn="7d"]');
    expect(await chartData(page)).toEqual({ labels: 168, sums: expected });
  });

  test('pausing a campaign in the console: a follow gets the paused reply, the CLI shows it paused', async () => {
    await page.click('nav a[href="/console/campaigns"]');
    await page.fill('tr[data-campaign="welcome-packet"] input[name="reason"]', 'budget review');
    await Promise.all([page.waitForURL(`${bot.url}/console/campaigns/pause`), page.click('tr[data-campaign="welcome-packet"] button[data-action="pause"]')]);
    expect(await page.textContent('#result')).toBe('Done: campaign welcome-packet paused');
    expect(await page.getAttribute('tr[data-campaign="welcome-packet"]', 'data-state')).toBe('paused');

    const reply = await bot.post(subscribeXml('store-pudong', { from: 'oBrowserFollower' })).expect(200);
    expect(reply.text).toContain('Sorry, this campaign has ended.');
    expect(await campaignList(bot.dir)).toMatch(/welcome-packet .*paused \(budget review/);
  });

  test('after logout every page goes back to the login', async () => {
    await Promise.all([page.waitForURL(`${bot.url}/console/login`), page.click('form.logout button')]);
    for (const path of ['/console', '/console/campaigns']) {
      await page.goto(`${bot.url}${path}`);
      expect(new URL(page.url()).pathname).toBe('/console/login');
    }
    const api = await page.evaluate(async () => (await fetch('/console/api/overview')).status);
    expect(api).toBe(401);
  });
});
