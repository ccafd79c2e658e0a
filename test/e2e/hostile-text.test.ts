/**
 * A follower's text cannot stall the bot (design.md invariant 7, issue 13 item 2). The whole bot runs
 * as its own process (`test/scale/bot-process.ts`, the composition `app.ts` runs) with the shipped
 * sample config plus one textbook backtracking bomb, `^(a|a)*$`, as its first rule — which
 * `check-config` has always accepted. A follower sends 40 × "a" + "b": on a backtracking engine that
 * is about 2^40 steps (29 × "a" froze the bot for 27 s), during which not even `/healthz` answers.
 * On the linear-time engine the follower gets the default reply and `/healthz` answers.
 *
 * The bot is a separate process so that, were it frozen, this test would fail by its timeout
 * instead of freezing with it.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { parseXml } from '../../src/wechat/xml';
import { textXml } from '../helpers/inbound';
import { signedQuery, toQueryString } from '../helpers/signed-query';

const ROOT = path.join(__dirname, '..', '..');
const ENTRY = path.join(ROOT, 'test', 'scale', 'bot-process.ts');
const TOKEN = 'hostiletexttoken';
const FOLLOWER = 'oHostile0000000000000000001';

const BOMB_RULE = `rules:
  - id: only-a
    description: a textbook backtracking bomb
    match:
      content: { regex: "^(a|a)*$" }
    actions:
      - reply: "only a"
`;

describe('a hostile text against a backtracking-bomb rule (the whole bot, its own process)', () => {
  let dir: string;
  let child: ChildProcessWithoutNullStreams;
  let base: string;
  let stderr = '';

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wechat-bot-hostile-'));
    const config = path.join(dir, 'config');
    fs.cpSync(path.join(ROOT, 'config'), config, { recursive: true });
    const rules = fs.readFileSync(path.join(config, 'rules.yaml'), 'utf8');
    expect(rules).toContain('\nrules:\n');
    fs.writeFileSync(path.join(config, 'rules.yaml'), rules.replace('\nrules:\n', `\n${BOMB_RULE}`));

    child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), ENTRY], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        TMPDIR: os.tmpdir(),
        BOT_CONFIG_DIR: config,
        BOT_DATA_DIR: path.join(dir, 'data'),
        BOT_VIEWS_DIR: path.join(ROOT, 'views'),
        WECHAT_TOKEN: TOKEN,
        LOG_LEVEL: 'warn',
      },
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const ready = await new Promise<string>((resolve, reject) => {
      readline.createInterface({ input: child.stdout }).on('line', (line) => {
        if (line.startsWith('READY ')) resolve(line.slice(6));
      });
      child.once('exit', (code) => reject(new Error(`bot-process exited with ${code}: ${stderr}`)));
    });
    base = `http://127.0.0.1:${(JSON.parse(ready) as { port: number }).port}`;
  });

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL'); // a frozen bot would not answer a polite SIGTERM
      await exited;
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const say = async (content: string) => {
    const res = await fetch(`${base}/wechat?${toQueryString(signedQuery(TOKEN))}`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body: textXml({ from: FOLLOWER, content }),
    });
    return { status: res.status, reply: parseXml(await res.text()) };
  };

  it('should answer the hostile text, and /healthz meanwhile', async () => {
    const hostile = say(`${'a'.repeat(40)}b`);
    const health = fetch(`${base}/healthz`);
    const [answer, healthz] = await Promise.all([hostile, health]);
    expect(healthz.status).toBe(200);
    expect(answer.status).toBe(200);
    // Not the bomb rule: the default reply (the help template).
    expect(answer.reply).toMatchObject({ ToUserName: FOLLOWER, MsgType: 'text' });
    expect(String(answer.reply.Content)).toContain('400-000-0000');
  });

  it('should still run the rule: a text it matches gets its reply', async () => {
    const answer = await say('a'.repeat(10_000));
    expect(answer.reply).toMatchObject({ ToUserName: FOLLOWER, MsgType: 'text', Content: 'only a' });
  });
});
