/**
 * Child process of the two-process token test (run with `node --require tsx/cjs`):
 *
 *   token-child.ts <sqliteFile> <sandboxUrl> <appId> <appSecret> <callers>
 *
 * Opens the shared SQLite store, prints "ready", waits for "go" on stdin, then runs <callers>
 * concurrent `tokens.get()` and prints one JSON line: { tokens: string[] }.
 */
import { createTokenProvider } from '../../../src/api/access-token';
import { SqliteStore } from '../../../src/store/sqlite';

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
  const got = await Promise.all(Array.from({ length: Number(callers) }, () => tokens.get()));
  process.stdout.write(`${JSON.stringify({ tokens: got })}\n`);
  await store.close();
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
