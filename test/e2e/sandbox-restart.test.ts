/**
 * A bot in sandbox mode (`npm start` without credentials) keeps its Pay stand-in's bills in
 * data/sandbox-state.json beside the ledger: after a restart on the same data folder, reconciliation
 * still finds every bill it paid (before, the restarted stand-in answered NOT_FOUND and reconciliation
 * reported "WeChat Pay does not know this bill"). The bot's control endpoint is in data/sandbox.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { runSandboxPayments } from '../../src/cli/commands/sandbox-control';
import { createBot, type Bot } from '../../src/bot/create-bot';
import { rewardsConfigOf } from '../../src/config/config-views';
import { loadSettings } from '../../src/config/settings';
import { fixedClock, shanghaiToEpoch } from '../../src/lib/clock';
import { silentLogger } from '../../src/lib/logger';
import { reconcile } from '../../src/rewards/reconcile';
import { subscribeXml } from '../helpers/inbound';
import { signedQuery, toQueryString } from '../helpers/signed-query';

const ROOT = path.join(__dirname, '..', '..');
const CAROL = 'oCarol0000000000000000000001';

describe('a sandbox-mode bot restarted on the same data folder', () => {
  let dir: string;
  const clock = fixedClock(shanghaiToEpoch(2026, 11, 24, 10, 0, 0));
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wechat-bot-restart-'));
    fs.cpSync(path.join(ROOT, 'config'), path.join(dir, 'config'), { recursive: true });
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function start(): Promise<Bot> {
    const settings = loadSettings({ BOT_CONFIG_DIR: path.join(dir, 'config'), BOT_DATA_DIR: path.join(dir, 'data'), BOT_VIEWS_DIR: path.join(ROOT, 'views') }, dir);
    return createBot({ settings, clock, log: silentLogger(), workers: false, watchConfig: false });
  }

  it('should still know the bill it paid: reconciliation finds it, nothing is paid twice', async () => {
    let bot = await start();
    let billNo: string;
    try {
      const xml = subscribeXml(undefined, { from: CAROL, createTime: Math.floor(clock.now() / 1000) });
      const res = await request(bot.app.callback())
        .post(`/wechat?${toQueryString(signedQuery(bot.settings.wechat.token, { timestamp: Math.floor(clock.now() / 1000) }))}`)
        .set('content-type', 'text/xml')
        .send(xml);
      expect(res.status).toBe(200);
      await bot.worker.runOnce();
      const [grant] = (await bot.ledger.listAll()).filter((g) => g.openId === CAROL);
      billNo = grant.billNo!;
      expect(bot.sandbox!.pay.timesPaidTo(CAROL)).toBe(1);
      expect(bot.sandbox!.control.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await bot.close();
    }
    expect(fs.existsSync(path.join(dir, 'data', 'sandbox-state.json'))).toBe(true);

    bot = await start();
    try {
      expect(bot.sandbox!.pay.payments.get(billNo)).toMatchObject({ openId: CAROL, timesPaid: 1, status: 'SENT' });
      const report = await reconcile({
        ledger: bot.ledger,
        redpack: bot.redpack,
        clock,
        log: silentLogger(),
        config: () => rewardsConfigOf(bot.config.current()),
      });
      expect(report).toMatchObject({ checked: 1, anomalies: 0, unchanged: 1, errors: 0 });
      // The CLI finds the bot's sandbox through data/sandbox.json (mode 0600) and lists the bill.
      await bot.listen(0, '127.0.0.1');
      expect(fs.statSync(path.join(dir, 'data', 'sandbox.json')).mode & 0o777).toBe(0o600);
      const out: string[] = [];
      expect(await runSandboxPayments({ json: true }, { out: (l) => out.push(l), err: () => undefined }, { dataDir: path.join(dir, 'data') })).toBe(0);
      expect(JSON.parse(out[0])).toEqual([expect.objectContaining({ billNo, openId: CAROL, timesPaid: 1, status: 'SENT' })]);
      bot.sandbox!.pay.receive(billNo);
      expect(
        await reconcile({ ledger: bot.ledger, redpack: bot.redpack, clock, log: silentLogger(), config: () => rewardsConfigOf(bot.config.current()) }),
      ).toMatchObject({ received: 1 });
      expect(bot.sandbox!.pay.timesPaidTo(CAROL)).toBe(1);
    } finally {
      await bot.close();
    }
  });
});
