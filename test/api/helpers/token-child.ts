/**
 * Child process of the two-process token test (run with `node --require tsx/cjs`):
 *
 *   token-child.ts <sqliteFile> <sandboxUrl> <appId> <appSecret> <callers>
 *
 * Opens the shared SQLite store, prints "ready", waits for "go" on stdin, then runs <callers>
 * concurrent `tokens.get()` and prints one JSON line: { tokens: string[] }. With OVERLAP_LOG and RACERS
 * set, it marks its racing work there and starts it only once all RACERS processes have marked their
 * start (test/helpers/overlap-log.ts).
 */
import { createTokenProvider } from '../../../src/api/access-token';
import { SqliteStore } from '../../../src/store/sqlite';
import { barrier, mark } from '../../helpers/overlap-log';

const [file, baseUrl, appId, appSecret, callers] = process.argv.slice(2);

async function main(): Promise<void> {
  const store = SqliteStore.open(file);
  const tokens = createTokenProvider({ appId, appSecret, baseUrl, store: store.kv, pollIntervalMs: 10 });
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => {
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk: string) => {
      if (chunk.includes('go')) resolve();
    });
  });
  const log = process.env.OVERLAP_LOG;
  if (log) {
    mark(log, 'start', String(process.pid));
    await barrier(log, 'start', Number(process.env.RACERS));
  }
  const got = await Promise.all(Array.from({ length: Number(callers) }, () => tokens.get()));
  if (log) mark(log, 'end', String(process.pid));
  process.stdout.write(`${JSON.stringify({ tokens: got })}\n`);
  await store.close();
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
