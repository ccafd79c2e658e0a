/**
 * Invariant 6: a signed request is bound to its body. The same (timestamp, nonce, signature) with
 * another body is refused, for the whole window and across instances; an account that pays can
 * require safe mode. Driven end to end on the bot `npm start` builds (sample config, sandbox, SQLite),
 * and across two instances on one SQLite file and on Redis.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import request from 'supertest';
import { createBot, type Bot } from '../../src/bot/create-bot';
import { loadSettings } from '../../src/config/settings';
import { fixedClock, shanghaiToEpoch, type ManualClock } from '../../src/lib/clock';
import { createLogger } from '../../src/lib/logger';
import { createMessageCrypto } from '../../src/wechat/crypto';
import { parseXml } from '../../src/wechat/xml';
import { subscribeXml } from '../helpers/inbound';
import { signedQuery, toQueryString } from '../helpers/signed-query';
import { describeService } from '../store/service-probe';

const ROOT = path.join(__dirname, '..', '..');
const AES_KEY = 'kT9sQ2vX7mB4nR1pL6wZ3yC8dF5gH0jK2aE4uI7oP1s';
const REDIS_URL = process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const follower = (i: number) => `oAttacker${String(i).padStart(18, '0')}`;

interface Running {
  bot: Bot;
  lines: string[];
}

/** A temp folder with the shipped config, removed after the file's tests. */
const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wechat-bot-bound-'));
  fs.cpSync(path.join(ROOT, 'config'), path.join(dir, 'config'), { recursive: true });
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function startBot(dir: string, clock: ManualClock, env: Record<string, string> = {}): Promise<Running> {
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', destination: { write: (l: string) => void lines.push(l) } });
  const settings = loadSettings({ BOT_CONFIG_DIR: path.join(dir, 'config'), BOT_DATA_DIR: path.join(dir, 'data'), BOT_VIEWS_DIR: path.join(ROOT, 'views'), ...env }, dir);
  const bot = await createBot({ settings, clock, log, workers: false, watchConfig: false });
  return { bot, lines };
}

function post(bot: Bot, query: Record<string, string>, body: string) {
  return request(bot.app.callback())
    .post(`/wechat?${toQueryString(query)}`)
    .set('content-type', 'text/xml')
    .send(body);
}

/** One captured signed URL: the query of a request WeChat really sent. */
function capturedQuery(bot: Bot, clock: ManualClock, encrypt?: string): Record<string, string> {
  return signedQuery(bot.settings.wechat.token, { timestamp: Math.floor(clock.now() / 1000), nonce: '1514711492', encrypt });
}

async function grantsTo(bot: Bot, prefix: string) {
  return (await bot.ledger.listAll()).filter((g) => g.openId.startsWith(prefix));
}

const warnLines = (lines: string[]) => lines.filter((l) => l.includes('"level":40') && l.includes('signed request reused'));

describe('a signed request is bound to its first body (invariant 6)', () => {
  // 10:00 Beijing time: outside the red-packet quiet hours.
  const clock = fixedClock(shanghaiToEpoch(2026, 11, 24, 10, 0, 0));
  let running: Running;
  beforeEach(async () => {
    clock.set(shanghaiToEpoch(2026, 11, 24, 10, 0, 0));
    running = await startBot(tempDir(), clock);
  });
  afterEach(async () => {
    await running.bot.close();
  });

  it('should refuse 19 of 20 subscribe bodies posted under one signed URL, granting one packet, counted and logged without the body', async () => {
    const { bot, lines } = running;
    const query = capturedQuery(bot, clock);
    const createTime = Math.floor(clock.now() / 1000);
    const replies = [];
    for (let i = 0; i < 20; i++) replies.push(await post(bot, query, subscribeXml(undefined, { from: follower(i), createTime })));

    expect(replies[0].status).toBe(200);
    expect(parseXml(replies[0].text).Content).toMatch(/red packet/i);
    expect(replies.slice(1).map((r) => r.status)).toEqual(Array(19).fill(403));
    expect(replies.slice(1).every((r) => r.text === 'Forbidden')).toBe(true);
    expect(await grantsTo(bot, 'oAttacker')).toHaveLength(1);

    const metrics = (await request(bot.app.callback()).get('/metrics')).text;
    expect(metrics).toMatch(/^wechat_requests_total\{outcome="signature_reused"\} 19$/m);
    const warned = warnLines(lines);
    expect(warned).toHaveLength(19);
    for (const line of warned) {
      expect(line).not.toContain('oAttacker');
      expect(line).not.toContain('<xml');
      expect(line).toContain('"nonce":"1514711492"');
    }
  });

  it('should answer genuine retries (same URL and body, or a new URL and the same body) with the first reply and grant once', async () => {
    const { bot } = running;
    const xml = subscribeXml(undefined, { from: 'oRetry0000000000000000000001', createTime: Math.floor(clock.now() / 1000) });
    const query = capturedQuery(bot, clock);
    const same = await Promise.all([post(bot, query, xml), post(bot, query, xml), post(bot, query, xml)]);
    clock.advance(5_000);
    const fresh = await post(bot, signedQuery(bot.settings.wechat.token, { timestamp: Math.floor(clock.now() / 1000) }), xml);
    const all = [...same, fresh];
    expect(all.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(new Set(all.map((r) => r.text)).size).toBe(1);
    expect(parseXml(all[0].text).Content).toMatch(/red packet/i);
    expect(await grantsTo(bot, 'oRetry')).toHaveLength(1);
  });

  it('should refuse another body for the whole window (both sides of it) and forget the URL only after the timestamp left it', async () => {
    const { bot } = running;
    const window = bot.settings.wechat.timestampWindowSeconds;
    // A timestamp at the far future edge of the window: accepted for 2 × window from now.
    const ts = Math.floor(clock.now() / 1000) + window;
    const query = signedQuery(bot.settings.wechat.token, { timestamp: ts, nonce: '777' });
    expect((await post(bot, query, subscribeXml(undefined, { from: follower(100), createTime: ts }))).status).toBe(200);
    clock.advance(2 * window * 1000); // now = ts + window: the last second the timestamp is accepted
    expect((await post(bot, query, subscribeXml(undefined, { from: follower(101), createTime: ts }))).status).toBe(403);
    clock.advance(1000); // the timestamp has left the window: the signature check refuses it on its own
    expect((await post(bot, query, subscribeXml(undefined, { from: follower(102), createTime: ts }))).status).toBe(401);
    expect(await grantsTo(bot, 'oAttacker')).toHaveLength(1);
  });
});

describe('safe mode required (WECHAT_SAFE_MODE_ONLY)', () => {
  const clock = fixedClock(shanghaiToEpoch(2026, 11, 24, 10, 0, 0));
  let running: Running;
  afterEach(async () => {
    await running.bot.close();
  });

  /** A genuine safe-mode request: its URL (with encrypt_type and msg_signature) and its body. */
  function safeRequest(bot: Bot, xml: string) {
    const crypto = createMessageCrypto({ encodingAESKey: AES_KEY, appId: bot.settings.wechat.appId });
    const encrypt = crypto.encrypt(xml);
    const body = `<xml><ToUserName><![CDATA[gh_sample]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`;
    return { query: capturedQuery(bot, clock, encrypt), body };
  }
  /** The downgrade: the captured safe-mode URL without encrypt_type and msg_signature. */
  const downgraded = (q: Record<string, string>) => {
    const { encrypt_type: _e, msg_signature: _m, ...plain } = q;
    return plain;
  };

  it('should be on by default with an AES key, and refuse a plain body posted under a stripped safe-mode URL', async () => {
    running = await startBot(tempDir(), clock, { WECHAT_ENCODING_AES_KEY: AES_KEY });
    const { bot, lines } = running;
    expect(bot.settings.wechat.safeModeOnly).toBe(true);
    const genuine = safeRequest(bot, subscribeXml(undefined, { from: 'oGenuine000000000000000000001', createTime: Math.floor(clock.now() / 1000) }));
    const ok = await post(bot, genuine.query, genuine.body);
    expect(ok.status).toBe(200);
    expect(parseXml(ok.text).Encrypt).toBeDefined();

    // Fresh URL too: safe-mode-only refuses plain outright, before the body is read.
    for (const query of [downgraded(genuine.query), signedQuery(bot.settings.wechat.token, { timestamp: Math.floor(clock.now() / 1000) })]) {
      const res = await post(bot, query, subscribeXml(undefined, { from: follower(1), createTime: Math.floor(clock.now() / 1000) }));
      expect(res.status).toBe(403);
    }
    expect(await grantsTo(bot, 'oAttacker')).toHaveLength(0);
    expect(await grantsTo(bot, 'oGenuine')).toHaveLength(1);
    const metrics = (await request(bot.app.callback()).get('/metrics')).text;
    expect(metrics).toMatch(/^wechat_requests_total\{outcome="plain_refused"\} 2$/m);
    expect(lines.filter((l) => l.includes('plain-mode request refused'))).toHaveLength(2);
  });

  it('should still refuse the downgrade by the binding when safe-mode-only is turned off (migration)', async () => {
    running = await startBot(tempDir(), clock, { WECHAT_ENCODING_AES_KEY: AES_KEY, WECHAT_SAFE_MODE_ONLY: '0' });
    const { bot } = running;
    const genuine = safeRequest(bot, subscribeXml(undefined, { from: 'oGenuine000000000000000000001', createTime: Math.floor(clock.now() / 1000) }));
    expect((await post(bot, genuine.query, genuine.body)).status).toBe(200);
    const res = await post(bot, downgraded(genuine.query), subscribeXml(undefined, { from: follower(1), createTime: Math.floor(clock.now() / 1000) }));
    expect(res.status).toBe(403);
    expect(await grantsTo(bot, 'oAttacker')).toHaveLength(0);
    // …while plain requests of their own are still handled during the switch.
    const plain = await post(
      bot,
      signedQuery(bot.settings.wechat.token, { timestamp: Math.floor(clock.now() / 1000) }),
      subscribeXml(undefined, { from: 'oPlain0000000000000000000001', createTime: Math.floor(clock.now() / 1000) }),
    );
    expect(plain.status).toBe(200);
  });
});

describe('a campaign with require_safe_mode', () => {
  const clock = fixedClock(shanghaiToEpoch(2026, 11, 24, 10, 0, 0));

  it('should record a refusal with its reason for a plain follow and grant an encrypted one', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'config', 'campaigns.yaml');
    const yaml = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, yaml.replace('  welcome-packet:                # referenced by config/rules.yaml (grant on follow)\n', '$&    require_safe_mode: true\n'));
    expect(fs.readFileSync(file, 'utf8')).toMatch(/welcome-packet:.*\n {4}require_safe_mode: true/);
    const { bot } = await startBot(dir, clock, { WECHAT_ENCODING_AES_KEY: AES_KEY, WECHAT_SAFE_MODE_ONLY: '0' });
    try {
      const createTime = Math.floor(clock.now() / 1000);
      const plain = await post(
        bot,
        signedQuery(bot.settings.wechat.token, { timestamp: createTime }),
        subscribeXml(undefined, { from: 'oPlain0000000000000000000001', createTime }),
      );
      expect(plain.status).toBe(200);
      expect(parseXml(plain.text).Content).not.toMatch(/red packet/i);
      const refused = await grantsTo(bot, 'oPlain');
      expect(refused.map((g) => [g.campaign, g.status, g.outcome])).toEqual([['welcome-packet', 'REFUSED', 'failed']]);
      expect(refused[0].reason).toMatch(/require_safe_mode.*plain mode/);

      const crypto = createMessageCrypto({ encodingAESKey: AES_KEY, appId: bot.settings.wechat.appId });
      const encrypt = crypto.encrypt(subscribeXml(undefined, { from: 'oSafe00000000000000000000001', createTime }));
      const safe = await post(
        bot,
        signedQuery(bot.settings.wechat.token, { timestamp: createTime, encrypt }),
        `<xml><ToUserName><![CDATA[gh_sample]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`,
      );
      expect(safe.status).toBe(200);
      expect((await grantsTo(bot, 'oSafe')).map((g) => [g.status, g.outcome])).toEqual([['PENDING', 'granted']]);
    } finally {
      await bot.close();
    }
  });
});

describe('across instances', () => {
  const clock = fixedClock(shanghaiToEpoch(2026, 11, 24, 10, 0, 0));

  async function replayAcross(a: Bot, b: Bot): Promise<void> {
    const query = capturedQuery(a, clock);
    const createTime = Math.floor(clock.now() / 1000);
    expect((await post(a, query, subscribeXml(undefined, { from: 'oGenuine000000000000000000001', createTime }))).status).toBe(200);
    const replays = await Promise.all([1, 2, 3].map((i) => post(i % 2 ? b : a, query, subscribeXml(undefined, { from: follower(i), createTime }))));
    expect(replays.map((r) => r.status)).toEqual([403, 403, 403]);
    expect(await grantsTo(a, 'oAttacker')).toHaveLength(0);
    expect(await grantsTo(b, 'oGenuine')).toHaveLength(1);
  }

  it('should refuse on a second instance sharing the SQLite file', async () => {
    const dir = tempDir();
    const a = await startBot(dir, clock);
    const b = await startBot(dir, clock);
    try {
      await replayAcross(a.bot, b.bot);
    } finally {
      await b.bot.close();
      await a.bot.close();
    }
  });

  describeService('on Redis', [[REDIS_URL, 6379]], () => {
    const prefix = `wechat-bot-test:bound:${process.pid}:${Date.now().toString(36)}:`;
    afterAll(async () => {
      const admin = new Redis(REDIS_URL, { retryStrategy: () => null, maxRetriesPerRequest: 0 });
      try {
        const keys = await admin.keys(`${prefix}*`);
        if (keys.length) await admin.del(...keys);
      } finally {
        admin.disconnect();
      }
    });

    it('should refuse on a second instance sharing Redis', async () => {
      const dir = tempDir();
      const env = { REDIS_URL, BOT_REDIS_PREFIX: prefix };
      const a = await startBot(dir, clock, env);
      const b = await startBot(dir, clock, env);
      try {
        expect(a.bot.store.driver).toBe('redis+sqlite');
        await replayAcross(a.bot, b.bot);
      } finally {
        await b.bot.close();
        await a.bot.close();
      }
    });
  });
});
