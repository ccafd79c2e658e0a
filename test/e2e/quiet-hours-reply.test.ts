/**
 * A follow during the red-packet quiet hours (00:00–08:00 Beijing time): the packet is recorded and
 * deferred, and the follower is told when it will be sent — not that it is "on its way".
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createBot, type Bot } from '../../src/bot/create-bot';
import { loadSettings } from '../../src/config/settings';
import { fixedClock, shanghaiToEpoch } from '../../src/lib/clock';
import { silentLogger } from '../../src/lib/logger';
import { parseXml } from '../../src/wechat/xml';
import { subscribeXml } from '../helpers/inbound';
import { signedQuery, toQueryString } from '../helpers/signed-query';

const ROOT = path.join(__dirname, '..', '..');

describe('createBot in quiet hours (sample config)', () => {
  let dir: string;
  let bot: Bot;
  const clock = fixedClock(shanghaiToEpoch(2026, 11, 24, 3, 0, 0));

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wechat-bot-quiet-'));
    const settings = loadSettings({ BOT_CONFIG_DIR: path.join(ROOT, 'config'), BOT_DATA_DIR: path.join(dir, 'data'), BOT_VIEWS_DIR: path.join(ROOT, 'views') }, dir);
    bot = await createBot({ settings, clock, log: silentLogger(), workers: false, watchConfig: false });
  });
  afterAll(async () => {
    await bot?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('should say the packet will be sent after 08:00, and send nothing before then', async () => {
    const follower = 'oNightOwl00000000000000001';
    const res = await request(bot.app.callback())
      .post(`/wechat?${toQueryString(signedQuery(bot.settings.wechat.token, { timestamp: Math.floor(clock.now() / 1000) }))}`)
      .set('content-type', 'text/xml')
      .send(subscribeXml(undefined, { from: follower, createTime: Math.floor(clock.now() / 1000) }));
    expect(String(parseXml(res.text).Content)).toMatch(/welcome red packet will be sent after 08:00 Beijing time/);
    expect(String(parseXml(res.text).Content)).not.toMatch(/on its way/);
    const [grant] = (await bot.ledger.listAll()).filter((g) => g.openId === follower);
    expect(grant?.status).toBe('DEFERRED');
    await bot.worker.runOnce();
    expect(bot.sandbox!.pay.paymentsTo(follower)).toHaveLength(0);
  });
});
