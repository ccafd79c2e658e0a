/**
 * Benchmarks for `npm run bench`: grants recorded per second on SQLite (target ≥ 2,000/s), and
 * end-to-end red-packet sends per second against the pay sandbox with the rate cap lifted.
 *
 * Both run on a temporary SQLite file (synchronous=FULL, as in production) that is deleted afterwards.
 * Grants are recorded by `concurrency` requests in flight at once, as concurrent webhook requests do
 * (the SQLite ledger commits what arrives in the same tick together).
 *
 * @example
 * const { perSecond } = await benchRecordGrants(5000);
 * const pay = await startPaySandbox(); const sends = await benchSends(500, pay); await pay.close();
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SANDBOX_CREDENTIALS } from '../src/config/settings';
import { systemClock } from '../src/lib/clock';
import { silentLogger } from '../src/lib/logger';
import { createPayClient, loadMerchantCert } from '../src/pay/client';
import { createRedpackApi } from '../src/pay/redpack';
import { SANDBOX_PAY_CERTS, type PaySandbox } from '../src/sandbox/pay-server';
import { MemoryCounterStore } from '../src/store/memory';
import { SqliteLedger } from '../src/store/sqlite-ledger';
import { openSqlite } from '../src/store/sqlite-migrate';
import { rewardsConfigSchema, type RewardsConfig } from '../src/rewards/config-schema';
import { createOutboxWorker } from '../src/rewards/outbox-worker';
import { createRewards, type Rewards } from '../src/rewards/rewards';
import { withLedgerRules } from '../src/rewards/ledger-plans';
import type { Ledger } from '../src/rewards/ledger';
import { ledgerTagRules } from '../src/rewards/bill-no';

/** Result of a benchmark. */
export interface BenchResult {
  n: number;
  ms: number;
  perSecond: number;
}

function benchConfig(n: number): RewardsConfig {
  return rewardsConfigSchema.parse({
    campaigns: {
      campaigns: {
        bench: {
          kind: 'red_packet',
          amount: { min: 1, max: 2 },
          send_name: '压测商户',
          wishing: '恭喜发财',
          act_name: '压测',
          remark: '压测',
          budget: 2 * n + 10,
          max_packets: n + 10,
        },
      },
    },
    limits: { quiet_hours: 'off', send_rate_per_second: 10_000, merchant_daily: { amount: 100_000_000 } },
  });
}

async function withTempLedger<T>(fn: (ledger: Ledger) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewards-bench-'));
  const ledger = withLedgerRules(SqliteLedger.create(openSqlite(path.join(dir, 'bench.sqlite')), { ownsDb: true, tags: ledgerTagRules() }));
  try {
    return await fn(ledger);
  } finally {
    await ledger.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function recordAll(rewards: Rewards, n: number, concurrency: number, tag: string): Promise<number> {
  let next = 0;
  let granted = 0;
  async function lane(): Promise<void> {
    while (next < n) {
      const i = next++;
      const r = await rewards.grant({
        campaign: 'bench',
        openId: `oBench${tag}${String(i).padStart(8, '0')}`,
        dedupeKey: `bench:${tag}:${i}`,
        ruleId: 'bench',
        now: systemClock.now(),
      });
      if (r.outcome === 'granted') granted += 1;
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, lane));
  return granted;
}

/**
 * Grants recorded per second on a temp SQLite file (limits + ledger row + outbox entry per grant).
 *
 * @example const { perSecond } = await benchRecordGrants(5000); // ≥ 2,000 expected
 * @see https://www.sqlite.org/wal.html
 */
export async function benchRecordGrants(n: number, opts: { concurrency?: number } = {}): Promise<BenchResult> {
  if (!Number.isInteger(n) || n < 1) throw new TypeError('benchRecordGrants: n must be a positive integer');
  return withTempLedger(async (ledger) => {
    const config = benchConfig(n);
    const rewards = createRewards({ ledger, config: () => config, clock: systemClock, mchId: SANDBOX_CREDENTIALS.mchId, log: silentLogger() });
    const t0 = process.hrtime.bigint();
    const granted = await recordAll(rewards, n, opts.concurrency ?? 64, 'r');
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (granted !== n) throw new Error(`benchRecordGrants: only ${granted} of ${n} granted`);
    return { n, ms, perSecond: Math.round((n / ms) * 1000) };
  });
}

/**
 * End-to-end sends per second: records `n` grants, then runs the outbox worker (rate cap lifted)
 * against `paySandbox` over mutual TLS until every packet is SENT. Times the sending only.
 *
 * @example const pay = await startPaySandbox(); await benchSends(500, pay); await pay.close();
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export async function benchSends(n: number, paySandbox: PaySandbox, opts: { concurrency?: number } = {}): Promise<BenchResult> {
  if (!Number.isInteger(n) || n < 1) throw new TypeError('benchSends: n must be a positive integer');
  return withTempLedger(async (ledger) => {
    const config = benchConfig(n);
    const rewards = createRewards({ ledger, config: () => config, clock: systemClock, mchId: paySandbox.mchId, log: silentLogger() });
    const tag = Date.now().toString(36);
    await recordAll(rewards, n, 64, tag);
    const client = createPayClient({
      mchId: paySandbox.mchId,
      key: paySandbox.key,
      appId: SANDBOX_CREDENTIALS.appId,
      baseUrl: paySandbox.url,
      clientIp: '127.0.0.1',
      cert: loadMerchantCert({ certPath: SANDBOX_PAY_CERTS.p12, mchId: paySandbox.mchId }),
      ca: paySandbox.ca,
    });
    try {
      const worker = createOutboxWorker({
        ledger,
        redpack: createRedpackApi(client),
        counters: new MemoryCounterStore(),
        clock: systemClock,
        log: silentLogger(),
        config: () => config,
        ratePerSecond: Infinity,
        concurrency: opts.concurrency ?? 32,
        batchSize: 200,
        backoff: () => 10,
      });
      const t0 = process.hrtime.bigint();
      while ((await ledger.openCount()) > 0) {
        const pass = await worker.runOnce();
        if (pass.processed === 0) await new Promise((r) => setTimeout(r, 5));
      }
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      return { n, ms, perSecond: Math.round((n / ms) * 1000) };
    } finally {
      client.close();
    }
  });
}
