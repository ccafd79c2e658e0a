/**
 * The pid file (src/lib/pid-file.ts) and `wechat-bot reload` (src/cli/commands/reload.ts).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runReload } from '../../src/cli/commands/reload';
import { livePids, pidFilePath, registerPid } from '../../src/lib/pid-file';

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pid-'))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('pid file', () => {
  it('should list each registered process once and remove only its own line', () => {
    const a = registerPid(dir, process.pid);
    expect(livePids(dir)).toEqual([process.pid]);
    registerPid(dir, process.pid);
    expect(fs.readFileSync(pidFilePath(dir), 'utf8')).toBe(`${process.pid}\n`);
    a.remove();
    expect(fs.existsSync(pidFilePath(dir))).toBe(false);
  });

  it('should drop the lines of processes that are gone', async () => {
    const child = spawn(process.execPath, ['-e', '0']);
    const deadPid = child.pid!;
    await new Promise((resolve) => child.once('exit', resolve));
    fs.writeFileSync(pidFilePath(dir), `${deadPid}\ngarbage\n`);
    expect(livePids(dir)).toEqual([]);
    registerPid(dir, process.pid);
    expect(fs.readFileSync(pidFilePath(dir), 'utf8')).toBe(`${process.pid}\n`);
  });
});

describe('reload', () => {
  function run(env: Record<string, string>, kill: typeof process.kill) {
    const out: string[] = [];
    const err: string[] = [];
    const code = runReload({ env, io: { out: (l) => out.push(l), err: (l) => err.push(l) }, kill });
    return { code, out, err };
  }
  const signals: [number, string | number | undefined][] = [];
  const fakeKill = ((pid: number, signal?: string | number) => {
    if (signal !== 0) signals.push([pid, signal]);
    return true;
  }) as typeof process.kill;
  beforeEach(() => (signals.length = 0));

  it('should say so and exit 1 when no bot is running', () => {
    const r = run({ BOT_DATA_DIR: dir }, process.kill.bind(process));
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toContain(`no running bot found in ${pidFilePath(dir)}: nothing reloaded`);
  });

  it('should send SIGHUP to every live bot when the config is valid', () => {
    const basic = path.join(__dirname, '..', 'fixtures', 'config', 'basic');
    fs.writeFileSync(pidFilePath(dir), '4242\n4343\n');
    const r = run({ BOT_DATA_DIR: dir, BOT_CONFIG_DIR: basic, BOT_VIEWS_DIR: basic }, fakeKill);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(signals).toEqual([
      [4242, 'SIGHUP'],
      [4343, 'SIGHUP'],
    ]);
    expect(r.out[0]).toMatch(/^OK \(version \w+, \d+ rules/);
    expect(r.out[1]).toMatch(/^sent SIGHUP to bot pid 4242/);
  });

  it('should signal nothing and exit 1 when the config has errors', () => {
    fs.writeFileSync(pidFilePath(dir), '4242\n');
    const r = run({ BOT_DATA_DIR: dir, BOT_CONFIG_DIR: path.join(__dirname, '..', 'fixtures', 'config', 'malformed') }, fakeKill);
    expect(r.code).toBe(1);
    expect(signals).toEqual([]);
    expect(r.err.at(-1)).toBe('not reloaded: the running bot keeps the last good config');
    expect(r.err.some((l) => l.startsWith('error: '))).toBe(true);
  });
});
