/**
 * Browser e2e of console-pages' pages in chromium: the rule tester shows the rule for "hello" (the
 * sample config answers it), and the sandbox panel plays a follow through the webhook and shows the
 * welcome reply, which leaves the welcome packet's grant in the ledger.
 */
import type { Browser, Page } from 'playwright-core';
import { type ConsoleBrowserBot, describeBrowser, launchBrowser, login, startConsoleBot } from './browser';

describeBrowser('console pages in a browser', () => {
  let bot: ConsoleBrowserBot;
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    bot = await startConsoleBot({ seed: false });
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
});
