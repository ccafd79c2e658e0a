/**
 * Invariant 2 (design.md): a red packet is sent with one mch_billno for its whole life; every retry
 * after a timeout, SYSTEMERROR or crash reuses it, so WeChat Pay's re-entry makes double payment
 * impossible — proven against the pay sandbox over loopback mutual TLS:
 *
 * - crash: a child process records 200 grants and sends them; it is SIGKILLed at random points (while
 *   recording, right before a send, with a send in flight, right after an answer) more than 20 times
 *   and restarted each time. The sandbox lives in this process, so its payment counts survive.
 * - chaos: 30% SYSTEMERROR and 10% timeouts on every endpoint (half of the lost answers paid).
 *
 * At the end every grant was paid exactly once, and the ledger agrees with the sandbox.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { SANDBOX_CREDENTIALS } from '../../src/config/settings';
import { systemClock } from '../../src/lib/clock';
import { silentLogger } from '../../src/lib/logger';
import type { Ledger } from '../../src/rewards/ledger';
import { createOutboxWorker } from '../../src/rewards/outbox-worker';
import { createRewards } from '../../src/rewards/rewards';
import { SANDBOX_PAY_CERTS, startPaySandbox, type PaySandbox } from '../../src/sandbox/pay-server';
import { MemoryCounterStore } from '../../src/store/memory';
import { SqliteLedger } from '../../src/store/sqlite-ledger';
import { openSqlite } from '../../src/store/sqlite-migrate';
import { makeConfig, redCampaign, sqliteLedger, startPayRig, tempDir } from '../rewards/helpers';

const CHILD = path.join(__dirname, '../fixtures/rewards/crash-child.ts');
const ROOT = path.join(__dirname, '../..');

/** Every grant settled SENT, paid exactly once, to the right follower, for the recorded amount. */
async function expectPaidExactlyOnce(ledger: Ledger, sandbox: PaySandbox, expected: number): Promise<void> {
  const grants = await ledger.listAll();
  expect(grants).toHaveLength(expected);
  expect(await ledger.openCount()).toBe(0);
  expect(grants.filter((g) => g.status !== 'SENT')).toEqual([]);
  expect(sandbox.payments.size).toBe(expected);
  for (const g of grants) {
    const paid = sandbox.payments.get(g.billNo!);
    expect(paid).toMatchObject({ timesPaid: 1, openId: g.openId, amountFen: g.amountFen });
    expect(sandbox.paymentsTo(g.openId)).toHaveLength(1);
    expect(sandbox.timesPaidTo(g.openId)).toBe(1); // counted payouts, not records: a second payment would show 2
    expect([paid!.sendListId, paid!.detailId]).toContain(g.sendListId);
  }
  expect(new Set(grants.map((g) => g.billNo)).size).toBe(expected);
  expect([...sandbox.payments.values()].every((p) => p.timesPaid === 1)).toBe(true);
  expect([...sandbox.payments.values()].reduce((n, p) => n + p.timesPaid, 0)).toBe(expected);
}

/** Runs the child once; kills it with SIGKILL at the `killAt`-th line matching `on` (if given). */
function runChild(
  env: NodeJS.ProcessEnv,
  kill?: { on: RegExp; at: number; delayMs: number },
): Promise<{ done: boolean; killed: boolean; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', 'tsx/cjs', CHILD], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = 0;
    let done = false;
    let killed = false;
    let stderr = '';
    let buffer = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffer += chunk;
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) {
        if (line === 'done') done = true;
        if (kill && !killed && kill.on.test(line) && ++seen === kill.at) {
          killed = true;
          if (kill.delayMs === 0) child.kill('SIGKILL');
          else setTimeout(() => child.kill('SIGKILL'), kill.delayMs);
        }
      }
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve({ done: false, killed: true, stderr });
      else if (code === 0) resolve({ done, killed, stderr });
      else reject(new Error(`crash child exited ${code}: ${stderr}`));
    });
  });
}

describe('invariant: one mch_billno per red packet for its whole life', () => {
  it('should pay each of 200 grants exactly once although the worker is SIGKILLed at random more than 20 times', async () => {
    const sandbox = await startPaySandbox({ seed: 11 });
    sandbox.faults.set({ latencyMs: 2 });
    const tmp = tempDir('crash-');
    const ledgerFile = path.join(tmp.dir, 'ledger.sqlite');
    const env = {
      ...process.env,
      LEDGER_FILE: ledgerFile,
      GRANTS: '200',
      PAY_URL: sandbox.url,
      PAY_CA: SANDBOX_PAY_CERTS.ca,
      PAY_P12: SANDBOX_PAY_CERTS.p12,
      MCH_ID: sandbox.mchId,
      PAY_KEY: sandbox.key,
      APP_ID: SANDBOX_CREDENTIALS.appId,
    };
    // A seeded PRNG for the kill points, so a failure can be replayed.
    let seed = 20260302;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    let kills = 0;
    try {
      // Two kills while the grants are being recorded, then kills around sends: before the request
      // ("send" seen, delay 0), with the request in flight (a few ms later), right after an answer.
      const plans = [
        { on: /^recorded /, at: 1 + rand(3), delayMs: 0 },
        { on: /^recorded /, at: 2 + rand(6), delayMs: 0 },
        ...Array.from({ length: 20 }, (_, i) => ({
          on: i % 3 === 2 ? /^sent / : /^send /,
          at: 1 + rand(8),
          delayMs: i % 3 === 1 ? 1 + rand(4) : 0,
        })),
      ];
      for (const plan of plans) {
        const run = await runChild(env, plan);
        expect(run.done).toBe(false); // work remained: each life sends at most 8 of 200
        if (run.killed) kills += 1;
      }
      const last = await runChild(env);
      expect(last.done).toBe(true);
      expect(kills).toBeGreaterThanOrEqual(20);

      const ledger = SqliteLedger.create(openSqlite(ledgerFile), { ownsDb: true });
      await expectPaidExactlyOnce(ledger, sandbox, 200);
      // The kills really hit sends in flight: some bills were re-sent or confirmed by gethbinfo.
      const sends = sandbox.callsTo('sendredpack').length;
      expect(sends + sandbox.callsTo('gethbinfo').length).toBeGreaterThan(200);
      await ledger.close();
    } finally {
      await sandbox.close();
      tmp.remove();
    }
  }, 180_000);

  it('should pay every grant exactly once under 30% SYSTEMERROR and 10% timeouts', async () => {
    const pay = await startPayRig({ sandbox: { seed: 5 }, timeoutMs: 1000 });
    const s = sqliteLedger();
    try {
      const config = makeConfig({ chaos: redCampaign({ amount: { min: 1, max: 9.99 } }) }, { quiet_hours: 'off' });
      const rewards = createRewards({ ledger: s.ledger, config: () => config, clock: systemClock, mchId: pay.sandbox.mchId, log: silentLogger() });
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          rewards.grant({ campaign: 'chaos', openId: `oChaos${String(i).padStart(6, '0')}`, dedupeKey: `chaos:${i}`, ruleId: 'r', now: Date.now() }),
        ),
      );
      expect(results.every((r) => r.outcome === 'granted')).toBe(true);
      pay.sandbox.faults.set({ systemErrorRate: 0.3, timeoutRate: 0.1, paidShare: 0.5 });
      const worker = createOutboxWorker({
        ledger: s.ledger,
        redpack: pay.redpack,
        counters: new MemoryCounterStore(),
        clock: systemClock,
        log: silentLogger(),
        config: () => config,
        ratePerSecond: Infinity,
        backoff: () => 5,
        concurrency: 16,
        batchSize: 100,
      });
      const deadline = Date.now() + 90_000;
      while ((await s.ledger.openCount()) > 0 && Date.now() < deadline) {
        const pass = await worker.runOnce();
        if (pass.processed === 0) await new Promise((r) => setTimeout(r, 5));
      }
      const outcomes = pay.sandbox.callsTo('sendredpack').map((c) => c.outcome);
      expect(outcomes.filter((o) => o === 'SYSTEMERROR').length).toBeGreaterThan(20);
      expect(outcomes.filter((o) => o === 'TIMEOUT').length).toBeGreaterThan(5);
      pay.sandbox.faults.clear();
      await expectPaidExactlyOnce(s.ledger, pay.sandbox, 200);
    } finally {
      await pay.close();
      await s.close();
    }
  }, 120_000);
});
