/**
 * `npx wechat-bot sandbox` as an operator runs it (a real process): it writes data/sandbox.json (mode
 * 0600, with its control URL and token), keeps the Pay state in data/sandbox-state.json, and a restart
 * on the same data folder still knows every bill (gethbinfo finds it; a re-send pays nothing).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SANDBOX_CREDENTIALS } from '../../src/config/settings';
import { SANDBOX_PAY_CERTS } from '../../src/sandbox/pay-server';
import type { SandboxInfo } from '../../src/sandbox/sandbox-info';
import { queryRedpack, sendRedpack } from '../helpers/send-redpack';

const ROOT = path.join(__dirname, '..', '..');
const BILL = `${SANDBOX_CREDENTIALS.mchId}202612030000000021`;
const CA = fs.readFileSync(SANDBOX_PAY_CERTS.ca);

function cli(dataDir: string, args: string[]): ChildProcess {
  const env: Record<string, string | undefined> = { ...process.env, BOT_DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
  for (const k of Object.keys(env)) if (k.startsWith('WECHAT_')) delete env[k];
  return spawn(process.execPath, [path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(ROOT, 'src', 'cli', 'main.ts'), ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Starts `sandbox` and resolves once it printed its environment (then its info file is written). */
function serve(dataDir: string): Promise<{ child: ChildProcess; info: SandboxInfo }> {
  const child = cli(dataDir, ['sandbox']);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('Press Ctrl-C')) resolve({ child, info: JSON.parse(fs.readFileSync(path.join(dataDir, 'sandbox.json'), 'utf8')) as SandboxInfo });
    });
    child.once('exit', (code) => reject(new Error(`sandbox exited ${code}: ${err}`)));
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

describe('npx wechat-bot sandbox (a real process)', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wechat-bot-sandbox-serve-'));
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('should write its info file, keep its bills across a restart, and refuse a second sandbox on the same folder', async () => {
    const first = await serve(dataDir);
    try {
      const infoFile = path.join(dataDir, 'sandbox.json');
      expect(fs.statSync(infoFile).mode & 0o777).toBe(0o600);
      expect(first.info).toMatchObject({
        pid: expect.any(Number),
        control: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
        token: expect.stringMatching(/^.{43}$/),
      });
      expect((await sendRedpack({ url: first.info.pay, ca: CA }, BILL, 'oServeFollower001')).result_code).toBe('SUCCESS');
      const listed = await fetch(`${first.info.control!}/payments`, { headers: { authorization: `Bearer ${first.info.token!}` } });
      expect(((await listed.json()) as { payments: unknown[] }).payments).toEqual([expect.objectContaining({ billNo: BILL, timesPaid: 1 })]);

      const second = cli(dataDir, ['sandbox']);
      let err = '';
      second.stderr!.on('data', (c: Buffer) => (err += c.toString()));
      expect(await new Promise((resolve) => second.once('exit', resolve))).toBe(1);
      expect(err).toContain(`a sandbox is already running on this data folder (pid ${first.info.pid}`);
    } finally {
      expect(await stop(first.child)).toBe(0);
    }
    expect(fs.existsSync(path.join(dataDir, 'sandbox.json'))).toBe(false);
    expect(fs.statSync(path.join(dataDir, 'sandbox-state.json')).mode & 0o777).toBe(0o600);

    const restarted = await serve(dataDir);
    try {
      const pay = { url: restarted.info.pay, ca: CA };
      expect(await queryRedpack(pay, BILL)).toMatchObject({ result_code: 'SUCCESS', status: 'SENT', total_amount: '100' });
      expect((await sendRedpack(pay, BILL, 'oServeFollower001')).result_code).toBe('SUCCESS');
      const listed = await fetch(`${restarted.info.control!}/payments`, { headers: { authorization: `Bearer ${restarted.info.token!}` } });
      expect(((await listed.json()) as { payments: unknown[] }).payments).toEqual([expect.objectContaining({ billNo: BILL, timesPaid: 1 })]);
    } finally {
      await stop(restarted.child);
    }
  }, 60_000);
});
