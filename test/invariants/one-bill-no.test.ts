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
import { spawn, type ChildProcess } from 'node:child_process';
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
import { withLedgerRules } from '../../src/rewards/ledger-plans';
import { ledgerTagRules } from '../../src/rewards/bill-no';

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

/**
 * Spawns the child; `onLine` sees each stdout line as it arrives. Resolves when it exits (killed or
 * with code 0), rejects on any other exit.
 */
function spawnChild(
  env: NodeJS.ProcessEnv,
  onLine: (line: string, child: ChildProcess) => void,
  stdin: 'ignore' | 'pipe' = 'ignore',
): { child: ChildProcess; exited: Promise<{ killed: boolean; stderr: string }> } {
  const child = spawn(process.execPath, ['-r', 'tsx/cjs', CHILD], { cwd: ROOT, env, stdio: [stdin, 'pipe', 'pipe'] });
  const exited = new Promise<{ killed: boolean; stderr: string }>((resolve, reject) => {
    let stderr = '';
    let buffer = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      buffer += chunk;
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) onLine(line, child);
    });
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve({ killed: true, stderr });
      else if (code === 0) resolve({ killed: false, stderr });
      else reject(new Error(`crash child exited ${code}: ${stderr}`));
    });
  });
  return { child, exited };
}

/** Runs the child once; kills it with SIGKILL at the `killAt`-th line matching `on` (if given). */
async function runChild(env: NodeJS.ProcessEnv, kill?: { on: RegExp; at: number; delayMs: number }): Promise<{ done: boolean; killed: boolean; stderr: string }> {
  let seen = 0;
  let done = false;
  let killing = false;
  const { exited } = spawnChild(env, (line, child) => {
    if (line === 'done') done = true;
    if (kill && !killing && kill.on.test(line) && ++seen === kill.at) {
      killing = true;
      if (kill.delayMs === 0) child.kill('SIGKILL');
      else setTimeout(() => child.kill('SIGKILL'), kill.delayMs);
    }
  });
  const { killed, stderr } = await exited;
  return { done: done && !killed, killed, stderr };
}

/** The child's environment against `sandbox`, on the ledger file `ledgerFile`. */
function childEnv(sandbox: PaySandbox, ledgerFile: string, grants: number, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    LEDGER_FILE: ledgerFile,
    GRANTS: String(grants),
    PAY_URL: sandbox.url,
    PAY_CA: SANDBOX_PAY_CERTS.ca,
    PAY_P12: SANDBOX_PAY_CERTS.p12,
    MCH_ID: sandbox.mchId,
    PAY_KEY: sandbox.key,
    APP_ID: SANDBOX_CREDENTIALS.appId,
    ...extra,
  };
}

describe('invariant: one mch_billno per red packet for its whole life', () => {
  it('should pay each of 200 grants exactly once although the worker is SIGKILLed at random more than 20 times', async () => {
    const sandbox = await startPaySandbox({ seed: 11 });
    sandbox.faults.set({ latencyMs: 2 });
    const tmp = tempDir('crash-');
    const ledgerFile = path.join(tmp.dir, 'ledger.sqlite');
    const env = childEnv(sandbox, ledgerFile, 200);
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

      const ledger = withLedgerRules(SqliteLedger.create(openSqlite(ledgerFile), { ownsDb: true, tags: ledgerTagRules() }));
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

  it('should pay each grant exactly once when two live worker processes race for expired leases', async () => {
    // Worker A starts alone while every answer takes 400 ms (lease: 100 ms). Once A's first send has
    // reached the sandbox, answers become immediate and worker B, alive at the same time, is released:
    // A's leases expire with its sends still held in the sandbox, B claims those grants, its query finds
    // nothing paid yet, and it sends them again — with the same bill number, so the first of the two
    // calls to arrive pays and the other gets WeChat Pay's re-entry answer.
    const GRANTS = 40;
    const sandbox = await startPaySandbox({ seed: 13 });
    const tmp = tempDir('race-');
    const ledgerFile = path.join(tmp.dir, 'ledger.sqlite');
    try {
      expect(await runChild(childEnv(sandbox, ledgerFile, GRANTS, { RECORD: 'only' }))).toMatchObject({ done: true, killed: false });
      sandbox.faults.set({ latencyMs: 400 });
      /** Both workers' stdout lines, in the order this process received them. */
      const events: { worker: 'A' | 'B'; line: string }[] = [];
      let bothReady!: () => void;
      const ready = new Set<string>();
      const allReady = new Promise<void>((resolve) => (bothReady = resolve));
      const workers = (['A', 'B'] as const).map((worker) =>
        spawnChild(
          childEnv(sandbox, ledgerFile, GRANTS, { RECORD: 'skip', LEASE_MS: '100', BARRIER: '1' }),
          (line) => {
            events.push({ worker, line });
            if (line === 'ready' && ready.add(worker).size === 2) bothReady();
          },
          'pipe',
        ),
      );
      await allReady;
      workers[0].child.stdin!.end('go\n');
      // No event tells when a request reached the sandbox: a bounded poll of its call log.
      for (let poll = 0; sandbox.callsTo('sendredpack').length === 0; poll++) {
        if (poll > 2_000) throw new Error('worker A never reached the sandbox');
        await new Promise((r) => setTimeout(r, 5));
      }
      sandbox.faults.set({});
      workers[1].child.stdin!.end('go\n');
      const exits = await Promise.all(workers.map((w) => w.exited));
      expect(exits.map((e) => e.killed)).toEqual([false, false]);

      // They overlapped: both started before either finished.
      const at = (worker: 'A' | 'B', line: string) => events.findIndex((e) => e.worker === worker && e.line === line);
      for (const w of ['A', 'B'] as const) {
        expect(at(w, 'start')).toBeGreaterThanOrEqual(0);
        expect(at(w, 'done')).toBeGreaterThan(0);
      }
      expect(Math.max(at('A', 'start'), at('B', 'start'))).toBeLessThan(Math.min(at('A', 'done'), at('B', 'done')));
      // They raced for the same grants: B queried or sent a bill while A's send of it was still in flight
      // ("send" seen, "sent" not yet), i.e. after A's lease had expired.
      const inFlight = new Map<string, 'A' | 'B'>();
      const raced = new Set<string>();
      for (const { worker, line } of events) {
        const [verb, bill] = line.split(' ');
        const other = inFlight.get(bill);
        if ((verb === 'send' || verb === 'query') && other !== undefined && other !== worker) raced.add(bill);
        if (verb === 'send') inFlight.set(bill, worker);
        else if (verb === 'sent' && inFlight.get(bill) === worker) inFlight.delete(bill);
      }
      expect(raced.size).toBeGreaterThan(0);
      // Each bill was paid by exactly one call, however many calls both workers made for it.
      const sends = sandbox.callsTo('sendredpack');
      const paidCalls = new Map<string, number>();
      for (const c of sends) if (c.paid) paidCalls.set(c.fields.mch_billno, (paidCalls.get(c.fields.mch_billno) ?? 0) + 1);
      expect(paidCalls.size).toBe(GRANTS);
      expect([...paidCalls.values()].every((n) => n === 1)).toBe(true);
      const callsFor = (bill: string) => [...sends, ...sandbox.callsTo('gethbinfo')].filter((c) => c.fields.mch_billno === bill).length;
      for (const bill of raced) expect(callsFor(bill)).toBeGreaterThanOrEqual(2);
      // Some of them were really sent twice (by both workers) and still paid once.
      const sentTwice = [...raced].filter((bill) => sends.filter((c) => c.fields.mch_billno === bill).length >= 2);
      expect(sentTwice.length).toBeGreaterThan(0);

      const ledger = withLedgerRules(SqliteLedger.create(openSqlite(ledgerFile), { ownsDb: true, tags: ledgerTagRules() }));
      try {
        await expectPaidExactlyOnce(ledger, sandbox, GRANTS);
      } finally {
        await ledger.close();
      }
    } finally {
      await sandbox.close();
      tmp.remove();
    }
  }, 120_000);

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
