/**
 * The perimeter of the whole bot as `npm start` builds it: the bind address (HOST) and the start line
 * naming it truly, the admin listener (ADMIN_PORT) holding the staff endpoints, both listeners closed
 * on shutdown, and `/healthz` with a broken config (anonymous vs the admin token). Real listeners on
 * port 0.
 */
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createBot, type Bot } from '../../src/bot/create-bot';
import { loadSettings, SettingsError } from '../../src/config/settings';
import { createLogger } from '../../src/lib/logger';

const ROOT = path.join(__dirname, '..', '..');
const ADMIN = 'staff-secret-Q7w9Zr4Lm2Xp8Vb3';

interface Rig {
  bot: Bot;
  lines: string[];
  dir: string;
}

async function startBot(env: Record<string, string>): Promise<Rig> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wechat-bot-perimeter-'));
  fs.cpSync(path.join(ROOT, 'config'), path.join(dir, 'config'), { recursive: true });
  const settings = loadSettings(
    { BOT_CONFIG_DIR: path.join(dir, 'config'), BOT_DATA_DIR: path.join(dir, 'data'), BOT_VIEWS_DIR: path.join(ROOT, 'views'), PORT: '0', ...env },
    dir,
  );
  const lines: string[] = [];
  const log = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
  const bot = await createBot({ settings, log, workers: false, watchConfig: false });
  return { bot, lines, dir };
}

async function stop(rig: Rig | undefined): Promise<void> {
  if (!rig) return;
  await rig.bot.close();
  fs.rmSync(rig.dir, { recursive: true, force: true });
}

const startLine = (rig: Rig) => JSON.parse(rig.lines.find((l) => l.includes('wechat-bot listening on'))!) as { msg: string; address: string; port: number };

describe('HOST', () => {
  let rig: Rig | undefined;
  afterEach(async () => {
    await stop(rig);
    rig = undefined;
  });

  it('should bind to 127.0.0.1 in sandbox mode by default, and say so', async () => {
    rig = await startBot({});
    const server = await rig.bot.listen();
    const a = server.address() as AddressInfo;
    expect(a.address).toBe('127.0.0.1');
    const line = startLine(rig);
    expect(line.msg).toContain(`wechat-bot listening on http://127.0.0.1:${a.port}/wechat`);
    expect(line).toMatchObject({ address: '127.0.0.1', port: a.port });
  });

  it('should say "every interface" when HOST asks for it', async () => {
    rig = await startBot({ HOST: '0.0.0.0' });
    const server = await rig.bot.listen();
    const a = server.address() as AddressInfo;
    expect(a.address).toBe('0.0.0.0');
    expect(startLine(rig).msg).toContain(`wechat-bot listening on http://0.0.0.0:${a.port}/wechat (every interface)`);
    // Reachable on loopback, as the sandbox's pushes need.
    await request(`http://127.0.0.1:${a.port}`).get('/healthz').expect(200);
  });
});

describe('settings of the perimeter', () => {
  const creds = { WECHAT_APPID: 'wx1234567890abcdef', WECHAT_APPSECRET: 'x'.repeat(32), WECHAT_TOKEN: 'tok123' };

  it('should default HOST to every interface outside sandbox mode (a server behind a proxy or in a container)', () => {
    expect(loadSettings(creds).host).toBeUndefined();
    expect(loadSettings({}).host).toBe('127.0.0.1');
    expect(loadSettings({ HOST: '[::1]' }).host).toBe('::1');
  });

  it.each([
    [{ HOST: 'example.com' }, 'HOST: "example.com" is not an IP address to bind to'],
    [{ ADMIN_PORT: '3000' }, 'ADMIN_PORT: must differ from PORT (both are 3000)'],
    [{ ADMIN_PORT: 'x' }, 'ADMIN_PORT: "x" is not a whole number'],
    [{ BOT_METRICS_TOKEN: 'short' }, 'BOT_METRICS_TOKEN: must be at least 16 characters'],
    [{ BOT_TRUSTED_PROXIES: 'loopback,10.0.0.0/33' }, 'BOT_TRUSTED_PROXIES: "10.0.0.0/33" is not an IP address, a CIDR range'],
  ])('should refuse %p', (env, message) => {
    expect(() => loadSettings(env)).toThrow(SettingsError);
    expect(() => loadSettings(env)).toThrow(message);
  });
});

describe('ADMIN_PORT', () => {
  let rig: Rig | undefined;
  afterEach(async () => {
    await stop(rig);
    rig = undefined;
  });

  it('should serve the staff endpoints only on the admin listener, and close both listeners on shutdown', async () => {
    rig = await startBot({ BOT_ADMIN_TOKEN: ADMIN, ADMIN_PORT: '0' });
    const server = await rig.bot.listen();
    const admin = rig.bot.adminServer!;
    const pub = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const adm = `http://127.0.0.1:${(admin.address() as AddressInfo).port}`;
    expect(adm).not.toBe(pub);

    const consume = (base: string) => request(base).post('/admin/cards/consume').set('Authorization', `Bearer ${ADMIN}`).send({ code: '' });
    await consume(pub).expect(404);
    await consume(adm).expect(400); // reached the route: an empty code is a bad body
    await request(pub).get('/metrics').expect(404);
    await request(adm).get('/metrics').expect(200);
    expect((await request(pub).get('/healthz').set('Authorization', `Bearer ${ADMIN}`).expect(200)).body).toEqual({ ok: true, store: 'ok' });
    expect((await request(adm).get('/healthz').set('Authorization', `Bearer ${ADMIN}`).expect(200)).body.store).toMatchObject({ driver: 'sqlite' });
    expect(startLine(rig).msg).toMatch(new RegExp(`staff endpoints, detailed /healthz and /metrics on ${adm.replace(/[.]/g, '\\.')}`));

    await rig.bot.close();
    expect(server.listening).toBe(false);
    expect(admin.listening).toBe(false);
  });
});

describe('/healthz with a broken config', () => {
  let rig: Rig | undefined;
  afterAll(async () => stop(rig));

  it('should show anonymous callers no path and no error text, and the admin the error with its file', async () => {
    rig = await startBot({ BOT_ADMIN_TOKEN: ADMIN });
    const rules = path.join(rig.dir, 'config', 'rules.yaml');
    fs.writeFileSync(rules, fs.readFileSync(rules, 'utf8').replace(/event: subscribe/, 'event: subscrib'));
    expect(rig.bot.config.reload().ok).toBe(false);
    const cb = rig.bot.app.callback();

    const anonymous = await request(cb).get('/healthz').expect(200);
    expect(anonymous.body).toEqual({ ok: true, store: 'ok' });
    expect(anonymous.text).not.toContain(rig.dir);
    expect(anonymous.text).not.toMatch(/rules\.yaml|subscrib|sqlite|\//);

    const staff = await request(cb).get('/healthz').set('Authorization', `Bearer ${ADMIN}`).expect(200);
    expect(staff.body).toMatchObject({ ok: true, store: { driver: 'sqlite', ok: true }, config: { ok: false }, sandbox: true });
    expect(staff.body.config.lastError).toMatch(/rules\.yaml:\d+ .*subscrib/);
  });
});
