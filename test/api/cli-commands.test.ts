/**
 * The operator commands of src/cli/commands/api.ts, run through commander against a standalone API
 * sandbox (WECHAT_API_BASE), with a shared memory store so the token cache outlives each command.
 * (Lives under test/api because test/cli belongs to another engineer; move it to test/cli/commands/api.test.ts.)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import type { Menu } from '../../src/api/menu';
import { normalizeMenu } from '../../src/api/menu';
import { register, parseScene, type ApiCommandDeps } from '../../src/cli/commands/api';
import { createCliContext } from '../../src/cli/context';
import { loadConfig } from '../../src/config/load-config';
import { toWeChatMenu } from '../../src/config/to-wechat-menu';
import { createMemoryStore } from '../../src/store/memory';
import type { Store } from '../../src/store/ports';
import { startApiSandbox, type ApiSandbox } from '../../src/sandbox/api-server';
import { captureLog } from './helpers/api-harness';

const REPO = path.join(__dirname, '..', '..');
const MENU: Menu = {
  button: [
    { type: 'click', name: '今日推荐', key: 'MENU_TODAY' },
    { name: '更多', sub_button: [{ type: 'view', name: '官网', url: 'https://example.com/' }] },
  ],
};

describe('api commands', () => {
  let sandbox: ApiSandbox;
  let store: Store;
  let dataDir: string;
  let output: string[];
  const log = captureLog();

  beforeEach(async () => {
    sandbox = await startApiSandbox();
    store = createMemoryStore();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wechat-bot-cli-'));
    output = [];
  });
  afterEach(async () => {
    await sandbox.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const env = () => ({ WECHAT_API_BASE: sandbox.url, BOT_DATA_DIR: dataDir, BOT_CONFIG_DIR: path.join(REPO, 'config'), BOT_VIEWS_DIR: path.join(REPO, 'views') });

  async function run(args: string[], deps: ApiCommandDeps = {}): Promise<string> {
    const program = new Command().exitOverride();
    register(program, {
      createContext: () => createCliContext(env(), { store, cwd: REPO, log: log.logger }),
      out: (t) => void output.push(t),
      note: () => undefined,
      isInteractive: () => false,
      loadMenu: () => MENU,
      ...deps,
    });
    await program.parseAsync(['node', 'wechat-bot', ...args]);
    return output.join('\n');
  }

  describe('menu push', () => {
    it('should show the diff and create the menu with --yes, then report nothing to push', async () => {
      const text = await run(['menu', 'push', '--yes']);
      expect(text).toContain('+ [click] 今日推荐 key=MENU_TODAY');
      expect(text).toContain('+     [view] 官网 url=https://example.com/');
      expect(text).toContain('Menu pushed');
      expect(normalizeMenu(sandbox.menu as Menu)).toEqual(MENU);
      output = [];
      expect(await run(['menu', 'push', '--yes'])).toMatch(/already matches/);
      expect(sandbox.calls.filter((c) => c.path === '/cgi-bin/menu/create')).toHaveLength(1);
    });

    it('should refuse without a terminal and without --yes', async () => {
      await expect(run(['menu', 'push'])).rejects.toThrow(/--yes/);
      expect(sandbox.menu).toBeUndefined();
    });

    it('should ask on a terminal and push only on yes', async () => {
      const questions: string[] = [];
      const no = await run(['menu', 'push'], { isInteractive: () => true, confirm: async (q) => (questions.push(q), false) });
      expect(no).toContain('Not pushed');
      expect(sandbox.menu).toBeUndefined();
      await run(['menu', 'push'], { isInteractive: () => true, confirm: async (q) => (questions.push(q), true) });
      expect(sandbox.menu).toBeDefined();
      expect(questions).toHaveLength(2);
    });

    it('should push the menu of the config folder, as the config loader validates it', async () => {
      await run(['menu', 'push', '--yes'], { loadMenu: undefined });
      const r = loadConfig(path.join(REPO, 'config'), { viewsDir: path.join(REPO, 'views') });
      if (!r.ok) throw new Error('repository config is invalid');
      expect(normalizeMenu(sandbox.menu as Menu)).toEqual(normalizeMenu(toWeChatMenu(r.config.files.menu) as Menu));
    });

    it('should show the changed lines against the menu WeChat has', async () => {
      await run(['menu', 'push', '--yes']);
      output = [];
      const changed: Menu = { button: [MENU.button[0], { type: 'click', name: '帮助', key: 'HELP' }] };
      const text = await run(['menu', 'push', '--yes'], { loadMenu: () => changed });
      expect(text).toContain('  [click] 今日推荐 key=MENU_TODAY');
      expect(text).toContain('- [menu] 更多');
      expect(text).toContain('+ [click] 帮助 key=HELP');
    });
  });

  describe('menu show / delete', () => {
    it('should print the menu, delete it with --yes and say when there is none', async () => {
      expect(await run(['menu', 'show'])).toContain('No menu is set');
      await run(['menu', 'push', '--yes']);
      output = [];
      expect(await run(['menu', 'show'])).toContain('[click] 今日推荐 key=MENU_TODAY');
      output = [];
      expect(JSON.parse(await run(['menu', 'show', '--json']))).toEqual(MENU);
      output = [];
      await expect(run(['menu', 'delete'])).rejects.toThrow(/--yes/);
      expect(sandbox.menu).toBeDefined();
      expect(await run(['menu', 'delete', '--yes'])).toContain('Menu deleted');
      expect(sandbox.menu).toBeUndefined();
    });
  });

  describe('qrcode create', () => {
    it('should print the ticket URL of a temporary string-scene code', async () => {
      const text = await run(['qrcode', 'create', '--scene', 'spring-2026', '--expire', '3600']);
      const [qr] = sandbox.qrcodes;
      expect(qr).toMatchObject({ actionName: 'QR_STR_SCENE', scene: 'spring-2026', expireSeconds: 3600 });
      expect(text.split('\n')[0]).toBe(`https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=${encodeURIComponent(qr.ticket)}`);
      expect(text).toContain('expires in 1h 0m');
    });

    it('should make a permanent numeric code without --expire and refuse a bad --expire', async () => {
      expect(await run(['qrcode', 'create', '--scene', '42'])).toContain('permanent');
      expect(sandbox.qrcodes[0]).toMatchObject({ actionName: 'QR_LIMIT_SCENE', scene: 42 });
      await expect(run(['qrcode', 'create', '--scene', 'x', '--expire', 'soon'])).rejects.toThrow(/--expire/);
    });
  });

  describe('token', () => {
    it('should report the status and never the token', async () => {
      expect(await run(['token'])).toContain('No access token cached');
      await run(['menu', 'show']);
      const side = await createCliContext(env(), { store, cwd: REPO, log: log.logger });
      const token = await side.tokens.get();
      await side.close();
      expect(sandbox.tokenFetches).toBe(1); // the cached token was reused
      output = [];
      const text = await run(['token']);
      expect(text).toMatch(/Access token for wx0000sandbox0000: cached, expires /);
      output = [];
      const json = JSON.parse(await run(['token', '--json'])) as Record<string, unknown>;
      expect(json).toMatchObject({ appId: 'wx0000sandbox0000', cached: true });
      for (const t of [text, JSON.stringify(json), log.text()]) expect(t).not.toContain(token);
    });
  });
});

describe('parseScene', () => {
  it.each([
    ['42', 42],
    ['042', '042'],
    ['spring', 'spring'],
    ['99999999999', '99999999999'],
  ])('should read %s as %j', (text, scene) => {
    expect(parseScene(text)).toEqual(scene);
  });
});

describe('createCliContext', () => {
  it('should start the API sandbox in-process when no credentials are configured', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wechat-bot-cli-'));
    try {
      const ctx = await createCliContext({ BOT_DATA_DIR: dataDir }, { cwd: REPO, log: captureLog().logger });
      try {
        expect(ctx.settings.sandbox).toBe(true);
        expect(ctx.sandbox?.url).toMatch(/^http:\/\/127\.0\.0\.1:/);
        expect(ctx.store.driver).toBe('sqlite');
        await expect(ctx.api.menu.get()).resolves.toBeUndefined();
        expect(ctx.sandbox?.tokenFetches).toBe(1);
      } finally {
        await ctx.close();
      }
      expect(fs.existsSync(path.join(dataDir, 'wechat-bot.sqlite'))).toBe(true);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
