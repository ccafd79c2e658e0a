/**
 * Browser e2e of console-pages' pages in chromium: the rule tester shows the rule for "hello" (the
 * sample config answers it), and the sandbox panel plays a follow through the webhook and shows the
 * welcome reply, which leaves the welcome packet's grant in the ledger; and the whole loop at once: a
 * follow, "send due grants now", "mark received", "reconcile now", and the Ledger shows RECEIVED.
 */
import type { Browser, Page } from 'playwright-core';
import { beijingNoonClock, type ConsoleBrowserBot, describeBrowser, launchBrowser, login, startConsoleBot } from './browser';

describeBrowser('console pages in a browser', () => {
  let bot: ConsoleBrowserBot;
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    // Daytime in Beijing: the follow's packet is due at once, not deferred to 08:00 (quiet hours).
    bot = await startConsoleBot({ seed: false, clock: beijingNoonClock() });
    browser = await launchBrowser();
    page = await browser.newPage();
    await login(page, bot);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await bot?.close();
  });

  test('the rule tester shows the rule for "hello", where it is written, and the reply', async () => {
    await page.goto(`${bot.url}/console/rules`);
    await page.check('input[name="kind"][value="text"]');
    await page.fill('input[name="text"]', 'hello');
    await Promise.all([page.waitForSelector('#rule-result'), page.click('#rule-tester button[type="submit"]')]);
    expect(await page.textContent('#rule-result .match[data-rule="hello"] h3')).toBe('Rule "hello" matches');
    expect(await page.textContent('#rule-result .where')).toMatch(/rules\.yaml:\d+$/);
    expect(await page.textContent('#rule-reply')).toMatch(/^text\n {2}(Hello!|Hi there)/);
  });

  test('the rule tester shows only the fields of the chosen kind', async () => {
    await page.goto(`${bot.url}/console/rules`);
    await page.check('input[name="kind"][value="order"]');
    expect(await page.isVisible('input[name="amount"]')).toBe(true);
    expect(await page.isVisible('input[name="text"]')).toBe(false);
  });

  test('the sandbox panel plays a follow through the webhook and shows the welcome reply', async () => {
    await page.goto(`${bot.url}/console/sandbox`);
    await page.fill('#sandbox-play input[name="openid"]', 'o-browser-newcomer');
    await page.check('#sandbox-play input[name="kind"][value="follow"]');
    await Promise.all([page.waitForSelector('#sandbox-result'), page.click('#sandbox-play button[type="submit"]')]);
    expect(await page.textContent('#sandbox-reply')).toMatch(/^reply: text\n/);
    expect(await bot.bot.ledger.listAll({ campaign: 'welcome-packet' })).toEqual([expect.objectContaining({ openId: 'o-browser-newcomer', outcome: 'granted' })]);
  });

  test('the sandbox panel shows the whole loop at once: follow → send now → mark received → reconcile now → RECEIVED in the Ledger', async () => {
    const openid = 'o-browser-whole-loop';
    await page.goto(`${bot.url}/console/sandbox`);
    await page.fill('#sandbox-play input[name="openid"]', openid);
    await page.check('#sandbox-play input[name="kind"][value="follow"]');
    await Promise.all([page.waitForSelector('#sandbox-result[data-action="play"]'), page.click('#sandbox-play button[type="submit"]')]);
    await Promise.all([page.waitForSelector('#sandbox-result[data-action="send-due"]'), page.click('#sandbox-send-due button[type="submit"]')]);
    expect(await page.textContent('#sandbox-pass')).toMatch(/[1-9]\d* sent/);
    const row = page.locator('#sandbox-packets tbody tr', { hasText: openid });
    expect(await row.locator('td').nth(3).textContent()).toBe('SENT');
    await Promise.all([page.waitForSelector('#sandbox-result[data-action="receive"]'), row.locator('button[type="submit"]').click()]);
    await Promise.all([page.waitForSelector('#sandbox-result[data-action="reconcile"]'), page.click('#sandbox-reconcile button[type="submit"]')]);
    expect(await page.textContent('#sandbox-reconciled')).toMatch(/[1-9]\d* received/);
    await page.goto(`${bot.url}/console/ledger?openid=${openid}`);
    expect(await page.$$eval('#ledger-results tbody tr .badge', (els) => els.map((e) => e.textContent))).toEqual(['RECEIVED']);
  });
});
