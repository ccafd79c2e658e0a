/**
 * One outbox worker as its own process, for the shared-cap test (`multi-instance-caps.test.ts`): the
 * PostgreSQL ledger of BOT_PG_SCHEMA, the rate counters on Redis under BOT_REDIS_PREFIX (shared by
 * every instance, as in production) and a real Pay client to the sandbox of the parent process. Its
 * clock is set by the parent, so every instance works in the same simulated second.
 *
 * Protocol (one line each):
 * - stdout `READY <owner>` once connected;
 * - stdin `pass <step> <epoch ms>` → the clock is set, PASSES passes run at once (each
 *   `worker.runOnce()`), stdout `PASS <json { step, owner, passes }>`. Proof of overlap: the first
 *   `claimDue` of the step marks `start` in `<OVERLAP_DIR>/step-<n>.log` and waits until every
 *   instance has marked it (test/helpers/overlap-log.ts), so no instance takes a rate slot before all
 *   of them have claimed their grants; `end` is marked when the step's passes are done;
 * - stdin `close` → everything closed, exit 0.
 *
 * @example node --require tsx/cjs test/scale/worker-process.ts
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { Pool } from 'pg';
import { SANDBOX_CREDENTIALS } from '../../src/config/settings';
import { rewardsConfigSchema } from '../../src/config/reward-kinds';
import { fixedClock } from '../../src/lib/clock';
import { SANDBOX_PAY_CERTS } from '../../src/lib/sandbox-certs';
import { silentLogger } from '../../src/lib/logger';
import { createPayClient, loadMerchantCert } from '../../src/pay/client';
import { createRedpackApi } from '../../src/pay/redpack';
import { withLedgerRules } from '../../src/rewards/ledger-plans';
import type { LedgerWrites } from '../../src/rewards/ledger';
import { createOutboxWorker, type OutboxPass } from '../../src/rewards/outbox-worker';
import { ledgerTagRules } from '../../src/rewards/bill-no';
import { PostgresLedger } from '../../src/store/postgres-ledger';
import { RedisStore } from '../../src/store/redis';
import { barrier, mark } from '../helpers/overlap-log';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`worker-process: ${name} is required`);
  return v;
};

async function main(): Promise<void> {
  const owner = env('OWNER');
  const instances = Number(env('INSTANCES'));
  const passesPerStep = Number(env('PASSES'));
  const overlapDir = env('OVERLAP_DIR');
  const clock = fixedClock(Number(env('NOW')));
  const pool = new Pool({ connectionString: env('DATABASE_URL'), max: 8, options: `-c search_path=${env('BOT_PG_SCHEMA')}` });
  const ledger = withLedgerRules(await PostgresLedger.create(pool, { tags: ledgerTagRules() }));
  const redis = await RedisStore.connect(env('REDIS_URL'), { prefix: env('BOT_REDIS_PREFIX') });
  const client = createPayClient({
    mchId: SANDBOX_CREDENTIALS.mchId,
    key: SANDBOX_CREDENTIALS.payKey,
    appId: SANDBOX_CREDENTIALS.appId,
    baseUrl: env('WECHAT_PAY_API_BASE'),
    clientIp: '127.0.0.1',
    cert: loadMerchantCert({ certPath: SANDBOX_PAY_CERTS.p12, mchId: SANDBOX_CREDENTIALS.mchId }),
    ca: fs.readFileSync(SANDBOX_PAY_CERTS.ca),
    timeoutMs: 30_000,
  });
  const config = rewardsConfigSchema.parse(JSON.parse(env('REWARDS_CONFIG')));

  // The step's overlap mark: the first claim of the step marks `start` and waits for every instance.
  let step = -1;
  let claimed: Promise<void> | undefined;
  const logOf = (n: number) => path.join(overlapDir, `step-${n}.log`);
  const racing: LedgerWrites = {
    ...ledger,
    billTag: ledger.billTag,
    claimDue: async (opts) => {
      const grants = await ledger.claimDue(opts);
      claimed ??= (async () => {
        mark(logOf(step), 'start', owner);
        await barrier(logOf(step), 'start', instances);
      })();
      await claimed;
      return grants;
    },
  };
  const worker = createOutboxWorker({
    ledger: racing,
    redpack: createRedpackApi(client),
    counters: redis.counters,
    clock,
    log: silentLogger(),
    config: () => config,
    owner,
  });

  async function runStep(n: number, now: number): Promise<OutboxPass[]> {
    step = n;
    claimed = undefined;
    clock.set(now);
    const passes = await Promise.all(Array.from({ length: passesPerStep }, () => worker.runOnce()));
    mark(logOf(n), 'end', owner);
    return passes;
  }

  const close = async () => {
    client.close();
    await redis.close();
    await ledger.close();
    await pool.end();
    process.exit(0);
  };
  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', function onCommand(line: string) {
    const [command, a, b] = line.trim().split(/\s+/);
    if (command === 'close') void close();
    else if (command === 'pass')
      runStep(Number(a), Number(b)).then(
        (passes) => process.stdout.write(`PASS ${JSON.stringify({ step: Number(a), owner, passes })}\n`),
        (error: unknown) => process.stdout.write(`PASSERROR ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`.replace(/\n(?!$)/g, ' | ')),
      );
  });
  lines.on('close', () => void close());
  process.stdout.write(`READY ${owner}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`worker-process failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
