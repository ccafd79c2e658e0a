/**
 * Every command that talks to WeChat or a store first says which account and store it uses
 * (src/cli/context.ts `targetLine`), never a password.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createCliContext, targetLine } from '../../src/cli/context';
import { createRewardsCliContext } from '../../src/cli/commands/rewards';
import { loadSettings } from '../../src/config/settings';

const REAL = {
  WECHAT_APPID: 'wx1234567890abcdef',
  WECHAT_APPSECRET: 'secret-secret-secret-secret-0000',
  WECHAT_TOKEN: 'tok123',
};

describe('targetLine', () => {
  it('should name the sandbox account and the SQLite file', () => {
    const s = loadSettings({ BOT_DATA_DIR: '/srv/bot/data' });
    expect(targetLine(s)).toBe('account wx0000sandbox0000 (sandbox), merchant 1900000109; store SQLite /srv/bot/data/wechat-bot.sqlite');
  });

  it('should name a real account and the shared stores without their passwords', () => {
    const s = loadSettings({
      ...REAL,
      DATABASE_URL: 'postgres://bot:hunter2@db.internal:6543/wechat',
      BOT_PG_SCHEMA: 'staging',
      REDIS_URL: 'redis://:pa55@cache.internal',
      BOT_REDIS_PREFIX: 'stg:',
    });
    const line = targetLine(s);
    expect(line).toBe('account wx1234567890abcdef; store Redis cache.internal:6379 prefix stg: + PostgreSQL db.internal:6543/wechat schema staging');
    expect(line).not.toMatch(/hunter2|pa55/);
  });
});

describe('command contexts', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'target-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('should say which account and store before opening them', async () => {
    const notes: string[] = [];
    const env = { ...REAL, BOT_DATA_DIR: dir, WECHAT_API_BASE: 'http://127.0.0.1:9' };
    const ctx = await createCliContext(env, { note: (l) => notes.push(l) });
    await ctx.close();
    const rewards = await createRewardsCliContext(env, undefined, (l) => notes.push(l));
    await rewards.close();
    expect(notes).toEqual([
      `account wx1234567890abcdef; store SQLite ${path.join(dir, 'wechat-bot.sqlite')}`,
      `account wx1234567890abcdef; store SQLite ${path.join(dir, 'wechat-bot.sqlite')}`,
    ]);
  });
});
