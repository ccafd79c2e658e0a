/**
 * Issue 17: member-card points are never added twice — proven with a real worker process that is
 * SIGKILLed over and over, right before `membercard/updateuser` and right after WeChat applied it but
 * before the ledger recorded it (the window where an increment would be sent again). The points sender
 * sends the member's ABSOLUTE total from the ledger and, after an uncertain attempt, reads
 * `membercard/userinfo/get` before sending again; so after every kill and restart WeChat's total is
 * exactly the initial points plus every grant once.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { SANDBOX_CREDENTIALS } from '../../src/config/settings';
import { systemClock } from '../../src/lib/clock';
import { ledgerTagRules } from '../../src/rewards/bill-no';
import { withLedgerRules } from '../../src/rewards/ledger-plans';
import { startApiSandbox, type ApiSandbox } from '../../src/sandbox/api-server';
import { SqliteLedger } from '../../src/store/sqlite-ledger';
import { openSqlite } from '../../src/store/sqlite-migrate';
import { seededRandom } from '../../src/sandbox/api-faults';
import { tempDir } from '../rewards/helpers';

const CHILD = path.join(__dirname, '../fixtures/cards/points-child.ts');
const ROOT = path.join(__dirname, '../..');
const CARD_ID = 'pKillGold';
const CODE = '200000000001';
const GRANTS = 24;
const POINTS = 7;

/** Runs the child once; SIGKILLs it at the `at`-th line matching `on`. Resolves with whether it finished. */
function runChild(env: NodeJS.ProcessEnv, kill?: { on: RegExp; at: number }): Promise<{ done: boolean; killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', 'tsx/cjs', CHILD], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = 0;
    let done = false;
    let buffer = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffer += chunk;
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) {
        if (line === 'done') done = true;
        if (kill && kill.on.test(line) && ++seen === kill.at) child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve({ done: false, killed: true });
      else if (code === 0) resolve({ done, killed: false });
      else reject(new Error(`points child exited ${code}: ${stderr}`));
    });
  });
}

describe('invariant: member-card points are added exactly once', () => {
  let sandbox: ApiSandbox;
  const tmp = tempDir('points-kill-');
  afterAll(async () => {
    await sandbox?.close();
    tmp.remove();
  });

  it('should give every grant once although the worker is SIGKILLed between send and record again and again', async () => {
    sandbox = await startApiSandbox({ clock: systemClock });
    sandbox.members.add({ cardId: CARD_ID, code: CODE, openId: 'oKill', bonus: 10 });
    const ledgerFile = path.join(tmp.dir, 'ledger.sqlite');
    const env = {
      ...process.env,
      LEDGER_FILE: ledgerFile,
      KV_FILE: path.join(tmp.dir, 'kv.sqlite'),
      API_URL: sandbox.url,
      APP_ID: SANDBOX_CREDENTIALS.appId,
      APP_SECRET: SANDBOX_CREDENTIALS.appSecret,
      GRANTS: String(GRANTS),
      CARD_ID,
      CODE,
    };
    const rand = seededRandom(17);
    let kills = 0;
    for (let run = 0; run < 40 && kills < 12; run++) {
      // Alternate: kill right before the update, or right after WeChat applied it (before the ledger knows).
      const on = run % 3 === 0 ? /^send / : /^applied /;
      const r = await runChild(env, { on, at: 1 + Math.floor(rand() * 3) });
      if (r.killed) kills++;
      if (r.done) break;
    }
    expect(kills).toBeGreaterThanOrEqual(10);
    let finished = false;
    for (let i = 0; i < 5 && !finished; i++) finished = (await runChild(env)).done;
    expect(finished).toBe(true);

    const member = sandbox.members.get(CODE)!;
    expect(member.bonus).toBe(10 + GRANTS * POINTS);
    // Every change WeChat recorded was one grant's points: none applied twice, none lost.
    expect((member.bonusRecords ?? []).every((r) => r.change === POINTS)).toBe(true);
    expect(member.bonusRecords ?? []).toHaveLength(GRANTS);
    const ledger = withLedgerRules(SqliteLedger.create(openSqlite(ledgerFile), { ownsDb: true, tags: ledgerTagRules() }));
    try {
      const rows = await ledger.listAll();
      expect(rows).toHaveLength(GRANTS);
      expect(rows.every((g) => g.status === 'SENT' && g.kind === 'points')).toBe(true);
    } finally {
      await ledger.close();
    }
  }, 180_000);
});
