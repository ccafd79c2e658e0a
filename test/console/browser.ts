/**
 * The console's browser e2e harness: Debian's chromium (`/usr/bin/chromium`, never downloaded) driven
 * by playwright-core; a suite that skips with a message when chromium is missing and FAILS when `CI` is
 * set; the sandbox bot with the console on, listening on 127.0.0.1:0 with a seeded ledger; a login.
 *
 * @example
 * describeBrowser('console overview', () => {
 *   let bot: ConsoleBrowserBot; let browser: Browser;
 *   beforeAll(async () => { bot = await startConsoleBot(); browser = await launchBrowser(); });
 *   afterAll(async () => { await browser?.close(); await bot?.close(); });
 *   test('log in', async () => { const page = await browser.newPage(); await login(page, bot); });
 * });
 * @see https://playwright.dev/docs/api/class-browsertype#browser-type-launch
 */
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import { type Browser, chromium, type Page } from 'playwright-core';
import { type Clock, shanghaiParts, shanghaiToEpoch, systemClock } from '../../src/lib/clock';
import { ADMIN_TOKEN } from './console-bot';
import { seedLedger } from './seed-ledger';
import { type SampleBot, startSampleBot } from '../helpers/sample-bot';

export const CHROMIUM = '/usr/bin/chromium';

export const hasChromium = (): boolean => fs.existsSync(CHROMIUM);

/** What a browser suite does: run (chromium there), skip with a message, or fail (CI set, no chromium). */
export function browserSuiteMode(chromium: boolean, ci: string | undefined): 'run' | 'skip' | 'fail' {
  return chromium ? 'run' : ci ? 'fail' : 'skip';
}

/** `describe` when chromium is there; otherwise a skip with a message, or (CI set) a failing test. */
export function describeBrowser(name: string, fn: () => void): void {
  const mode = browserSuiteMode(hasChromium(), process.env.CI);
  if (mode === 'run') return describe(name, fn);
  if (mode === 'fail') {
    describe(name, () => {
      test('chromium is installed', () => {
        throw new Error(`${CHROMIUM} is missing: CI must run the browser e2e tests (.ci/run installs chromium)`);
      });
    });
    return;
  }
  console.warn(`skipping browser e2e "${name}": ${CHROMIUM} is not installed (apt-get install chromium)`);
  describe.skip(name, fn);
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}

export interface ConsoleBrowserBot extends SampleBot {
  /** `http://127.0.0.1:<port>` */
  url: string;
  token: string;
}

/**
 * A clock that runs at real speed, but in the daytime of Beijing (12:00 today when created): a grant
 * it records is never deferred to the end of quiet hours (00:00–08:00), whenever the test runs.
 */
export function beijingNoonClock(): Clock {
  const p = shanghaiParts(Date.now());
  const shift = shanghaiToEpoch(p.year, p.month, p.day, 12, 0, 0) - Date.now();
  return { now: () => Date.now() + shift };
}

/** The sandbox bot with BOT_ADMIN_TOKEN on 127.0.0.1:0 (the real clock unless given) and a seeded ledger. */
export async function startConsoleBot(o: { env?: Record<string, string>; seed?: boolean; clock?: Clock } = {}): Promise<ConsoleBrowserBot> {
  const clock = o.clock ?? systemClock;
  const sample = await startSampleBot({ clock, env: { BOT_ADMIN_TOKEN: ADMIN_TOKEN, ...o.env } });
  try {
    if (o.seed !== false) await seedLedger(sample.bot, clock.now());
    const server = await sample.bot.listen(0, '127.0.0.1');
    const { port } = server.address() as AddressInfo;
    return { ...sample, url: `http://127.0.0.1:${port}`, token: ADMIN_TOKEN };
  } catch (err) {
    await sample.close();
    throw err;
  }
}

/** Logs in through the form; the page ends on the overview. */
export async function login(page: Page, bot: Pick<ConsoleBrowserBot, 'url' | 'token'>): Promise<void> {
  await page.goto(`${bot.url}/console/login`);
  await page.fill('input[name="token"]', bot.token);
  await Promise.all([page.waitForURL(`${bot.url}/console`), page.click('button[type="submit"]')]);
}
