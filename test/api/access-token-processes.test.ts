import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { startApiSandbox, type ApiSandbox } from '../../src/sandbox/api-server';
import { expectOverlapped } from '../helpers/overlap-log';

const CHILD = path.join(__dirname, 'helpers', 'token-child.ts');

function startChild(args: string[], env: NodeJS.ProcessEnv) {
  const proc = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), CHILD, ...args], {
    cwd: path.join(__dirname, '..', '..'),
    stdio: ['pipe', 'pipe', 'pipe'],
    env,
  });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += String(d)));
  const lines: string[] = [];
  const waiting: ((l: string) => void)[] = [];
  createInterface({ input: proc.stdout }).on('line', (line) => {
    const w = waiting.shift();
    if (w) w(line);
    else lines.push(line);
  });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    proc,
    exited,
    nextLine(): Promise<string> {
      const l = lines.shift();
      if (l !== undefined) return Promise.resolve(l);
      return new Promise((resolve, reject) => {
        waiting.push(resolve);
        void exited.then(() => reject(new Error(`child exited early: ${stderr}`)));
      });
    },
  };
}

describe('createTokenProvider across processes', () => {
  let sandbox: ApiSandbox;
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wechat-bot-token-'));
  });
  afterEach(async () => {
    await sandbox?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('should fetch once when processes sharing a SQLite file ask at the same time', async () => {
    sandbox = await startApiSandbox();
    // A slow token endpoint widens the race: without the store lock each process would fetch its own.
    sandbox.faults.set({ latencyMs: 150, paths: ['/cgi-bin/token'] });
    const file = path.join(dir, 'bot.sqlite');
    const { appId, appSecret } = sandbox.credentials;
    const log = path.join(dir, 'overlap.log');
    const env = { ...process.env, OVERLAP_LOG: log, RACERS: '3' };
    const children = [0, 1, 2].map(() => startChild([file, sandbox.url, appId, appSecret, '5'], env));
    for (const c of children) expect(await c.nextLine()).toBe('ready');
    for (const c of children) c.proc.stdin.write('go\n');
    const results = await Promise.all(children.map(async (c) => JSON.parse(await c.nextLine()) as { tokens: string[] }));
    for (const c of children) expect(await c.exited).toBe(0);
    expectOverlapped(log, 3);
    const all = results.flatMap((r) => r.tokens);
    expect(all).toHaveLength(15);
    expect(new Set(all).size).toBe(1);
    expect(sandbox.tokenFetches).toBe(1);
    expect(sandbox.isTokenValid(all[0])).toBe(true);
  });
});
