/**
 * Browser e2e: the login form in chromium signs in and lands on the overview; without a session the
 * console redirects to the login.
 */
import type { Browser } from 'playwright-core';
import { type ConsoleBrowserBot, describeBrowser, launchBrowser, login, startConsoleBot } from './browser';

describeBrowser('console login in a browser', () => {
  let bot: ConsoleBrowserBot;
  let browser: Browser;
  beforeAll(async () => {
    bot = await startConsoleBot();
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await bot?.close();
  });

  test('a page without a session redirects to the login; the form signs in', async () => {
    const page = await browser.newPage();
    await page.goto(`${bot.url}/console`);
    expect(new URL(page.url()).pathname).toBe('/console/login');
    await login(page, bot);
    expect(new URL(page.url()).pathname).toBe('/console');
    await page.close();
  });
});
