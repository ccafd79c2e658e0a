/**
 * The whole bot as `npm start` builds it in sandbox mode — shipped sample config, SQLite under a temp
 * data folder, the in-process API and Pay stand-ins — driven by signed requests over supertest.
 */
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import type { Bot } from '../../src/bot/create-bot';
import { fixedClock, shanghaiToEpoch } from '../../src/lib/clock';
import { parseXml } from '../../src/wechat/xml';
import { textXml, subscribeXml } from '../helpers/inbound';
import { startSampleBot, type SampleBot } from '../helpers/sample-bot';

const BOB = 'oBob00000000000000000000001';

describe('createBot (sandbox mode, sample config)', () => {
  let dir: string;
  let bot: Bot;
  let post: SampleBot['post'];
  let sample: SampleBot | undefined;
  // 10:00 Beijing time: outside the red-packet quiet hours.
  const clock = fixedClock(shanghaiToEpoch(2026, 11, 24, 10, 0, 0));

  beforeAll(async () => {
    sample = await startSampleBot({ clock });
    ({ bot, dir, post } = sample);
  });

  afterAll(async () => {
    await sample?.close();
  });

  it('should answer a keyword with a text reply addressed back to the follower', async () => {
    const res = await post(textXml({ from: 'oAlice000000000000000000001', to: 'gh_sample', content: 'hello' }));
    expect(res.status).toBe(200);
    const reply = parseXml(res.text);
    expect(reply.MsgType).toBe('text');
    expect(reply.ToUserName).toBe('oAlice000000000000000000001');
    expect(reply.FromUserName).toBe('gh_sample');
    expect(String(reply.Content)).toMatch(/Hello|Hi there/);
  });

  it('should grant the welcome red packet once and pay it once, however often WeChat retries the follow', async () => {
    const xml = subscribeXml(undefined, { from: BOB, createTime: Math.floor(clock.now() / 1000) });
    const replies = await Promise.all([post(xml), post(xml), post(xml)]);
    expect(new Set(replies.map((r) => r.text)).size).toBe(1);
    expect(parseXml(replies[0].text).Content).toMatch(/red packet/i);

    const grants = (await bot.ledger.listAll()).filter((g) => g.openId === BOB);
    expect(grants).toHaveLength(1);
    await bot.worker.runOnce();
    await bot.worker.runOnce();
    const paid = bot.sandbox!.pay.paymentsTo(BOB);
    expect(paid).toHaveLength(1);
    expect(paid[0].timesPaid).toBe(1);
    expect(bot.sandbox!.pay.timesPaidTo(BOB)).toBe(1);
    expect(paid[0].billNo).toBe(grants[0].billNo);
    expect((await bot.ledger.getGrant(grants[0].id))?.status).toBe('SENT');
  });

  it('should serve /healthz and /metrics', async () => {
    const health = await request(bot.app.callback()).get('/healthz');
    expect(health.status).toBe(200);
    // Anonymous callers see only coarse fields (details need BOT_ADMIN_TOKEN: test/e2e/perimeter.test.ts).
    expect(health.body).toEqual({ ok: true, store: 'ok' });
    const metrics = await request(bot.app.callback()).get('/metrics');
    expect(metrics.text).toMatch(/wechat_requests_total\{outcome="reply"\} \d+/);
    expect(metrics.text).toMatch(/wechat_dedupe_hits_total \d+/);
  });

  it('should take an edited rule live, and keep serving the last good config after a bad edit', async () => {
    const rulesFile = path.join(dir, 'config', 'rules.yaml');
    const original = fs.readFileSync(rulesFile, 'utf8');
    fs.writeFileSync(rulesFile, original.replace('keywords: [hello, hi, 你好, 您好]', 'keywords: [bonjour]'));
    expect(bot.config.reload().ok).toBe(true);
    const res = await post(textXml({ from: 'oCarol000000000000000000001', content: 'bonjour' }));
    expect(parseXml(res.text).Content).toMatch(/Hello|Hi there/);

    fs.writeFileSync(rulesFile, 'rules:\n  - id: broken\n    match: { event: subscrib }\n    actions: []\n');
    const refused = bot.config.reload();
    expect(refused.ok).toBe(false);
    const again = await post(textXml({ from: 'oCarol000000000000000000001', content: 'bonjour' }));
    expect(parseXml(again.text).Content).toMatch(/Hello|Hi there/);
    const health = await request(bot.app.callback()).get('/healthz');
    expect(health.body).toEqual({ ok: true, store: 'ok' });
    expect(health.text).not.toMatch(/rules\.yaml|subscrib/);
    fs.writeFileSync(rulesFile, original);
    expect(bot.config.reload().ok).toBe(true);
  });
});
