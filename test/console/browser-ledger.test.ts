/**
 * Browser e2e of the ledger page: log in, filter the ledger with the form (campaign, state, Beijing
 * days), open a grant's history, download the CSV of the filter and find in it exactly the rows the
 * page shows (with the BOM and the Chinese text intact).
 */
import fs from 'node:fs';
import type { Browser } from 'playwright-core';
import { type ConsoleBrowserBot, describeBrowser, launchBrowser, login, startConsoleBot } from './browser';
import { CHINESE_REASON, seedLedgerPage, type SeededLedger } from './ledger-seed';

describeBrowser('console ledger in a browser', () => {
  let bot: ConsoleBrowserBot;
  let browser: Browser;
  let seeded: SeededLedger;
  beforeAll(async () => {
    bot = await startConsoleBot({ seed: false });
    seeded = await seedLedgerPage(bot.bot);
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await bot?.close();
  });

  test('filter the ledger, open a history, download the CSV of exactly the filtered rows', async () => {
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    await login(page, bot);
    await page.goto(`${bot.url}/console/ledger`);
    await page.fill('input[name="campaign"]', 'welcome-packet');
    await page.selectOption('select[name="state"]', 'FAILED');
    await page.fill('input[name="from"]', '2026-12-03');
    await page.fill('input[name="to"]', '2026-12-03');
    await Promise.all([page.waitForURL(/\/console\/ledger\?/), page.click('#ledger-filter button[type="submit"]')]);
    const shown = await page.$$eval('#ledger-results tbody tr td:first-child', (tds) => tds.map((td) => Number(td.textContent)));
    expect(shown).toEqual([seeded.failedId]);
    expect(await page.textContent('#ledger-results')).toContain(CHINESE_REASON);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#ledger-csv')]);
    expect(download.suggestedFilename()).toMatch(/^ledger-\d{8}\.csv$/);
    const bytes = fs.readFileSync((await download.path())!);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const rows = bytes.toString('utf8').slice(1).trim().split('\r\n').slice(1);
    expect(rows.map((r) => Number(JSON.parse(r.split(',')[0]!)))).toEqual(shown);
    expect(rows[0]).toContain(CHINESE_REASON);

    // A wider filter: the page and the CSV still agree row for row.
    await page.goto(`${bot.url}/console/ledger?openid=oLedgerA0001`);
    const wider = await page.$$eval('#ledger-results tbody tr td:first-child', (tds) => tds.map((td) => Number(td.textContent)));
    expect(wider).toEqual([seeded.ids[4], seeded.ids[3], seeded.ids[0]]);
    const [again] = await Promise.all([page.waitForEvent('download'), page.click('#ledger-csv')]);
    const csvIds = fs
      .readFileSync((await again.path())!, 'utf8')
      .slice(1)
      .trim()
      .split('\r\n')
      .slice(1)
      .map((r) => Number(JSON.parse(r.split(',')[0]!)));
    expect(csvIds).toEqual([...wider].reverse());

    await page.click(`#ledger-results a[href="/console/ledger/grants/${seeded.ids[0]}"]`);
    await page.waitForURL(`${bot.url}/console/ledger/grants/${seeded.ids[0]}`);
    const events = await page.$$eval('#grant-history tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-type')));
    expect(events).toEqual(['recorded', 'limits_checked', 'settled']);
    await context.close();
  });
});
