/**
 * The whole bot as `npm start` builds it in sandbox mode — the shipped sample config copied into a
 * temp folder, SQLite under its `data/`, the in-process API and Pay stand-ins — for end-to-end tests
 * that drive it with signed requests over supertest.
 *
 * @example
 * const sample = await startSampleBot({ clock });
 * const res = await sample.post(textXml({ content: 'hello' }));
 * await sample.close();
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createBot, type Bot, type BotOptions } from '../../src/bot/create-bot';
import { loadSettings } from '../../src/config/settings';
import type { Clock } from '../../src/lib/clock';
import { silentLogger } from '../../src/lib/logger';
import { signedQuery, toQueryString } from './signed-query';

const ROOT = path.join(__dirname, '..', '..');

export interface SampleBot {
  bot: Bot;
  /** The temp folder holding `config/` and `data/`. */
  dir: string;
  /** POSTs a signed webhook request (plain mode) with the given XML body. */
  post(xml: string): request.Test;
  /** Closes the bot and removes the temp folder. */
  close(): Promise<void>;
}

/** Builds the sample bot (no workers, no config watcher) on a fresh temp folder; `env` adds settings (e.g. BOT_ADMIN_TOKEN). */
export async function startSampleBot(options: { clock: Clock; env?: Record<string, string> } & Pick<BotOptions, 'deadlineMs' | 'log'>): Promise<SampleBot> {
  const { clock } = options;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wechat-bot-e2e-'));
  fs.cpSync(path.join(ROOT, 'config'), path.join(dir, 'config'), { recursive: true });
  const settings = loadSettings(
    { BOT_CONFIG_DIR: path.join(dir, 'config'), BOT_DATA_DIR: path.join(dir, 'data'), BOT_VIEWS_DIR: path.join(ROOT, 'views'), ...options.env },
    dir,
  );
  expect(settings.sandbox).toBe(true);
  const bot = await createBot({ settings, clock, log: options.log ?? silentLogger(), workers: false, watchConfig: false, deadlineMs: options.deadlineMs });
  return {
    bot,
    dir,
    post: (xml) =>
      request(bot.app.callback())
        .post(`/wechat?${toQueryString(signedQuery(bot.settings.wechat.token, { timestamp: Math.floor(clock.now() / 1000) }))}`)
        .set('content-type', 'text/xml')
        .send(xml),
    async close() {
      await bot.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
