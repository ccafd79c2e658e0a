/**
 * `wechat-bot sandbox` prints an environment that pastes into `.env` as it is, and a bot started with
 * it alone pays a red packet through the stand-ins (the Pay CA included).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dotenv from 'dotenv';
import request from 'supertest';
import { sandboxEnvText } from '../../src/cli/commands/sandbox';
import { createBot, type Bot } from '../../src/bot/create-bot';
import { loadSettings, SettingsError } from '../../src/config/settings';
import { fixedClock, shanghaiToEpoch } from '../../src/lib/clock';
import { silentLogger } from '../../src/lib/logger';
import { startApiSandbox, type ApiSandbox } from '../../src/sandbox/api-server';
import { startPaySandbox, type PaySandbox } from '../../src/sandbox/pay-server';
import { subscribeXml } from '../helpers/inbound';
import { signedQuery, toQueryString } from '../helpers/signed-query';

const ROOT = path.join(__dirname, '..', '..');
const BOB = 'oBob00000000000000000000002';

describe('sandbox environment text', () => {
  it('should be KEY=value lines and # comments only, naming every setting a bot needs', () => {
    const text = sandboxEnvText('http://127.0.0.1:8081', 'https://127.0.0.1:8082');
    for (const line of text.split('\n').filter(Boolean)) expect(line).toMatch(/^(#.*|[A-Z][A-Z0-9_]*=\S+)$/);
    expect(Object.keys(dotenv.parse(text)).sort()).toEqual(
      [
        'WECHAT_API_BASE',
        'WECHAT_APPID',
        'WECHAT_APPSECRET',
        'WECHAT_MCH_ID',
        'WECHAT_PAY_API_BASE',
        'WECHAT_PAY_CA',
        'WECHAT_PAY_CERT',
        'WECHAT_PAY_KEY',
        'WECHAT_TOKEN',
      ].sort(),
    );
  });

  it('should refuse a WECHAT_PAY_CA that names no readable file', () => {
    expect(() => loadSettings({ WECHAT_PAY_CA: '/nonexistent/ca.pem' })).toThrow(new SettingsError('WECHAT_PAY_CA', 'cannot read the file /nonexistent/ca.pem'));
  });

  describe('a bot started with it', () => {
    let api: ApiSandbox;
    let pay: PaySandbox;
    let bot: Bot;
    let dir: string;
    const clock = fixedClock(shanghaiToEpoch(2026, 11, 24, 10, 0, 0));

    beforeAll(async () => {
      api = await startApiSandbox({ acceptAnyFollower: true });
      pay = await startPaySandbox({});
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-env-'));
      const env = {
        ...dotenv.parse(sandboxEnvText(api.url, pay.url)),
        BOT_CONFIG_DIR: path.join(ROOT, 'config'),
        BOT_VIEWS_DIR: path.join(ROOT, 'views'),
        BOT_DATA_DIR: dir,
      };
      const settings = loadSettings(env, dir);
      expect(settings.sandbox).toBe(false);
      bot = await createBot({ settings, clock, log: silentLogger(), workers: false, watchConfig: false });
    });
    afterAll(async () => {
      await bot?.close();
      await Promise.all([api?.close(), pay?.close()]);
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('should pay the welcome red packet through the Pay stand-in, trusting its CA', async () => {
      const q = toQueryString(signedQuery(bot.settings.wechat.token, { timestamp: Math.floor(clock.now() / 1000) }));
      const res = await request(bot.app.callback())
        .post(`/wechat?${q}`)
        .set('content-type', 'text/xml')
        .send(subscribeXml(undefined, { from: BOB, createTime: Math.floor(clock.now() / 1000) }));
      expect(res.status).toBe(200);
      await bot.worker.runOnce();
      expect(pay.paymentsTo(BOB)).toHaveLength(1);
      const [grant] = (await bot.ledger.listAll()).filter((g) => g.openId === BOB);
      expect(grant?.status).toBe('SENT');
    });
  });
});
