/**
 * The merchant's send caps across instances, asserted as exactly as the single-instance tests assert
 * them (`test/invariants/limits.test.ts`): THREE outbox-worker processes (`worker-process.ts`) share the
 * PostgreSQL ledger and the Redis rate counters, and work in the same simulated second — the test
 * sets every instance's clock (and the Pay sandbox's) one step at a time, so the count of each second
 * is exact, not judged from arrival times as `multi-instance.test.ts` must.
 *
 * Proven here, per simulated second: sends are exactly min(cap, what is due) — never above
 * `send_rate_per_second` summed over every instance, never above `send_rate_per_day` for the Beijing
 * day (each bill counted once); a claimed grant the cap refused is put back to the end of the window
 * that refused it (the next second, or 00:00 Beijing time for the day cap) and its pass says so
 * (`rateWaitMs`, `dayCapWaitMs`); the rest go out the next day, each paid once; WeChat Pay (the
 * sandbox, 30 a second) never answered FREQ_LIMIT. Proof of overlap: in every step each instance had
 * claimed its grants before any instance finished the step (test/helpers/overlap-log.ts), so all three
 * raced for the same counters.
 *
 * With `CI` set this fails when Redis or PostgreSQL is unreachable; elsewhere it is skipped with a
 * message. Each run uses its own Redis prefix and PostgreSQL schema, removed at the end.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import Redis from 'ioredis';
import { fixedClock } from '../../src/lib/clock';
import { silentLogger } from '../../src/lib/logger';
import { withLedgerRules } from '../../src/rewards/ledger-plans';
import type { Ledger } from '../../src/rewards/ledger';
import { msToBeijingMidnight } from '../../src/rewards/limits';
import type { OutboxPass } from '../../src/rewards/outbox-worker';
import { createRewards } from '../../src/rewards/rewards';
import { startPaySandbox, type PaySandbox } from '../../src/sandbox/pay-server';
import { ledgerTagRules } from '../../src/rewards/bill-no';
import { PostgresLedger } from '../../src/store/postgres-ledger';
import { expectOverlapped } from '../helpers/overlap-log';
import { DATABASE_URL, makeConfig, MCH_ID, openIdOf, pgSchemaPool, redCampaign } from '../rewards/helpers';
import { describeService } from '../store/service-probe';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROOT = path.join(__dirname, '../..');
const ENTRY = path.join(__dirname, 'worker-process.ts');
const INSTANCES = 3;
/** Passes each instance runs at once in a step (as `start()` and a `runOnce()` of the CLI could). */
const PASSES = 2;
const GRANTS = 160;
const PER_SECOND = 25;
const PER_DAY = 110;
/** 2026-03-02 10:00:00 Beijing time, on a second boundary. */
const DAY1 = Date.parse('2026-03-02T10:00:00+08:00');
const DAY2 = Date.parse('2026-03-03T10:00:00+08:00');
const MIDNIGHT = Date.parse('2026-03-03T00:00:00+08:00');

interface StepReport {
  step: number;
  owner: string;
  passes: OutboxPass[];
}

interface Instance {
  owner: string;
  child: ChildProcessWithoutNullStreams;
  stderr: string[];
  next(re: RegExp): Promise<string>;
  exited: Promise<unknown>;
}

function startInstance(owner: string, env: NodeJS.ProcessEnv): Promise<Instance> {
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', ENTRY], { cwd: ROOT, env: { ...env, OWNER: owner }, stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => stderr.push(chunk));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve(line: string): void; reject(e: Error): void }[] = [];
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    const failed = line.startsWith('PASSERROR ');
    const i = waiters.findIndex((w) => failed || w.re.test(line));
    if (i < 0) lines.push(line);
    else if (failed) waiters.splice(i, 1)[0].reject(new Error(`${owner}: ${line}`));
    else waiters.splice(i, 1)[0].resolve(line);
  });
  void exited.then(() => {
    for (const w of waiters.splice(0)) w.reject(new Error(`${owner} exited; stderr:\n${stderr.join('')}`));
  });
  const next = (re: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const i = lines.findIndex((l) => re.test(l));
      if (i >= 0) resolve(lines.splice(i, 1)[0]);
      else waiters.push({ re, resolve, reject });
    });
  return next(/^READY /).then(() => ({ owner, child, stderr, next, exited }));
}

describeService(
  'multi-instance: the shared send caps, stepped in one simulated clock',
  [
    [REDIS_URL, 6379],
    [DATABASE_URL, 5432],
  ],
  () => {
    const prefix = `wechat-bot-test:caps_${process.pid}_${Date.now().toString(36)}:`;
    const payClock = fixedClock(DAY1);
    const config = makeConfig({ promo: redCampaign() }, { quiet_hours: 'off', send_rate_per_second: PER_SECOND, send_rate_per_day: PER_DAY });
    let pg: Awaited<ReturnType<typeof pgSchemaPool>>;
    let ledger: Ledger;
    let pay: PaySandbox;
    let redis: Redis;
    let overlapDir: string;
    let instances: Instance[] = [];

    beforeAll(async () => {
      pg = await pgSchemaPool(4);
      ledger = withLedgerRules(await PostgresLedger.create(pg.pool, { tags: ledgerTagRules() }));
      pay = await startPaySandbox({ seed: 7, clock: payClock });
      redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await redis.connect();
      overlapDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wechat-bot-caps-'));
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATABASE_URL,
        BOT_PG_SCHEMA: pg.schema,
        REDIS_URL,
        BOT_REDIS_PREFIX: prefix,
        WECHAT_PAY_API_BASE: pay.url,
        REWARDS_CONFIG: JSON.stringify({
          campaigns: { campaigns: { promo: redCampaign() } },
          limits: { quiet_hours: 'off', send_rate_per_second: PER_SECOND, send_rate_per_day: PER_DAY },
        }),
        INSTANCES: String(INSTANCES),
        PASSES: String(PASSES),
        OVERLAP_DIR: overlapDir,
        NOW: String(DAY1),
      };
      const started = await Promise.allSettled(Array.from({ length: INSTANCES }, (_, i) => startInstance(`w${i + 1}`, env)));
      instances = started.filter((s): s is PromiseFulfilledResult<Instance> => s.status === 'fulfilled').map((s) => s.value);
      const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw failed.reason;
    }, 60_000);

    afterAll(async () => {
      for (const i of instances) {
        i.child.stdin.write('close\n');
        const timer = setTimeout(() => i.child.kill('SIGKILL'), 10_000);
        await i.exited;
        clearTimeout(timer);
      }
      await ledger?.close();
      await pg?.drop();
      if (redis) {
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length > 0) await redis.del(...keys);
        await redis.quit().catch(() => redis.disconnect());
      }
      await pay?.close();
      if (overlapDir) fs.rmSync(overlapDir, { recursive: true, force: true });
    }, 30_000);

    let steps = 0;
    /** One simulated second: every instance (and the sandbox) at `now`, PASSES passes each, all at once. */
    async function step(now: number): Promise<{ sent: number; reports: StepReport[] }> {
      const n = steps++;
      payClock.set(now);
      const before = pay.callsTo('sendredpack').length;
      const answers = instances.map((i) => i.next(/^PASS /));
      for (const i of instances) i.child.stdin.write(`pass ${n} ${now}\n`);
      const reports = (await Promise.all(answers)).map((line) => JSON.parse(line.slice('PASS '.length)) as StepReport);
      expect(reports.map((r) => r.step)).toEqual(instances.map(() => n));
      expectOverlapped(path.join(overlapDir, `step-${n}.log`), INSTANCES);
      return { sent: pay.callsTo('sendredpack').length - before, reports };
    }

    const passesOf = (reports: StepReport[]) => reports.flatMap((r) => r.passes);
    const counter = async (key: string) => Number((await redis.get(`${prefix}counter:${key}`)) ?? 0);

    it('should send exactly the per-second and per-day caps summed over three instances, put the refused back to the end of their window, and pay every grant once', async () => {
      const rewards = createRewards({ ledger, config: () => config, clock: fixedClock(DAY1), mchId: MCH_ID, log: silentLogger() });
      for (let i = 0; i < GRANTS; i++)
        expect((await rewards.grant({ campaign: 'promo', openId: openIdOf(i), dedupeKey: `cap${i}`, ruleId: 'r', now: DAY1 })).outcome).toBe('granted');

      // --- day 1: 25 a second until the day's 110 are sent; then nothing until 00:00 Beijing time.
      const perSecond: number[] = [];
      for (let s = 0; s < 8; s++) {
        const now = DAY1 + s * 1000;
        const { sent, reports } = await step(now);
        perSecond.push(sent);
        expect(await counter(`rewards:send-rate:${now / 1000}`)).toBeLessThanOrEqual(PER_SECOND);
        const passes = passesOf(reports);
        if (s === 0) expect(reports.every((r) => r.passes.some((p) => p.processed > 0))).toBe(true); // all three claimed grants
        // Every pass that put a grant back says why: the second's cap (until its end) or the day's.
        for (const p of passes.filter((x) => x.retried > 0)) {
          expect(p.rateLimited || p.dayCapWaitMs !== undefined).toBe(true);
          if (p.rateLimited) expect(p.rateWaitMs).toBe(1000);
          if (p.dayCapWaitMs !== undefined) expect(p.dayCapWaitMs).toBe(msToBeijingMidnight(now));
        }
        const open = await ledger.listByStatus(['PENDING']);
        // The refused wait for the end of the window that refused them (the next second, or midnight);
        // the rest were not claimed in this second and are still due.
        expect(open.filter((g) => g.nextAttemptAt! > now && g.nextAttemptAt !== now + 1000 && g.nextAttemptAt !== MIDNIGHT)).toEqual([]);
        if (s < 4) {
          const refusedBySecond = open.filter((g) => g.nextAttemptAt === now + 1000).length;
          expect(refusedBySecond).toBe(passes.reduce((n, p) => n + p.retried, 0));
          expect(passes.filter((p) => p.rateLimited).length).toBeGreaterThan(0);
        }
      }
      expect(perSecond).toEqual([25, 25, 25, 25, 10, 0, 0, 0]);
      expect(await counter('rewards:send-day:20260302')).toBe(PER_DAY);
      const waiting = await ledger.listByStatus(['PENDING']);
      expect(waiting).toHaveLength(GRANTS - PER_DAY);
      expect(new Set(waiting.map((g) => g.nextAttemptAt))).toEqual(new Set([MIDNIGHT]));

      // --- day 2: the rest, 25 a second.
      const nextDay: number[] = [];
      for (let s = 0; s < 3; s++) nextDay.push((await step(DAY2 + s * 1000)).sent);
      expect(nextDay).toEqual([25, 25, 0]);
      expect(await counter('rewards:send-day:20260303')).toBe(GRANTS - PER_DAY);

      // Each grant sent and paid once; WeChat Pay never had to refuse a send for its own rate.
      expect((await ledger.listByStatus(['SENT'])).length).toBe(GRANTS);
      expect(pay.callsTo('sendredpack')).toHaveLength(GRANTS);
      expect(pay.callsTo('sendredpack').filter((c) => c.outcome === 'FREQ_LIMIT')).toEqual([]);
      expect(pay.payments.size).toBe(GRANTS);
      expect([...pay.payments.values()].filter((p) => p.timesPaid !== 1)).toEqual([]);
    }, 120_000);
  },
);
