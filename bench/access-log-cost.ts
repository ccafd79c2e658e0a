/**
 * Micro-benchmark of the access line's cost per request: the `accessLog` middleware around a no-op
 * `next`, with the production logger (`createLogger` at info, secrets scrubbed, pino's asynchronous
 * destination) writing to /dev/null, against the same middleware with the line off (BOT_ACCESS_LOG=0).
 * Not a test: run it by hand, `npx tsx bench/access-log-cost.ts`.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { createLogger } from '../src/lib/logger';
import { accessLog } from '../src/wechat/koa/access-log';

const N = 300_000;

/** The parts of a Koa context the middleware reads. */
function fakeContext(): Parameters<ReturnType<typeof accessLog>>[0] {
  return {
    method: 'POST',
    path: '/wechat',
    status: 200,
    req: { headers: {} },
    state: { outcome: 'reply' },
    set() {},
  } as unknown as Parameters<ReturnType<typeof accessLog>>[0];
}

async function nsPerRequest(enabled: boolean): Promise<number> {
  const log = createLogger({
    level: 'info',
    secrets: ['bench-secret-not-used-000000000000', 'BenchToken123'],
    destination: pino.destination({ dest: os.devNull, sync: false }),
  });
  const mw = accessLog({ log, enabled });
  const next = async (): Promise<void> => {};
  for (let i = 0; i < 20_000; i++) await mw(fakeContext(), next); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    await mw(fakeContext(), next);
    // Let the destination flush now and then, as a server's event loop does between requests.
    if (i % 500 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return ((performance.now() - t0) * 1e6) / N;
}

async function main(): Promise<void> {
  const off = await nsPerRequest(false);
  const on = await nsPerRequest(true);
  process.stdout.write(
    `access line off: ${(off / 1000).toFixed(2)} µs/request\naccess line on:  ${(on / 1000).toFixed(2)} µs/request\ncost of the line: ${((on - off) / 1000).toFixed(2)} µs\n`,
  );
}

void main();
