/**
 * Child process for the cross-process SQLite tests (run with `node --require tsx/cjs`).
 *
 *   sqlite-child.ts claim <file> <keyCount>      prints "ready", waits for "go" on stdin, claims
 *                                                 keys 0..keyCount-1, prints one JSON line of results
 *   sqlite-child.ts increment <file> <n> <limit>  same handshake; n increments of one shared counter
 *   sqlite-child.ts write <file>                  commits rows forever, printing "committed <i>" after each
 */
import { SqliteStore } from '../../src/store/sqlite';
import { migrate } from '../../src/store/sqlite-migrate';

const [mode, file, a, b] = process.argv.slice(2);

function waitForGo(): Promise<void> {
  process.stdout.write('ready\n');
  return new Promise((resolve) => {
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', function onData(chunk: string) {
      if (chunk.includes('go')) resolve();
    });
  });
}

async function main(): Promise<void> {
  const store = SqliteStore.open(file);
  if (mode === 'claim') {
    await waitForGo();
    const states: string[] = [];
    for (let i = 0; i < Number(a); i++) states.push((await store.dedupe.claim(`msg:${i}`, 60)).state);
    process.stdout.write(`${JSON.stringify(states)}\n`);
  } else if (mode === 'increment') {
    await waitForGo();
    let allowed = 0;
    for (let i = 0; i < Number(a); i++) if ((await store.counters.incrementWithin('rate', 1, Number(b), 60)).allowed) allowed++;
    process.stdout.write(`${JSON.stringify({ allowed })}\n`);
  } else if (mode === 'write') {
    migrate(store.db, 'crash-test', ['CREATE TABLE crash_rows (i INTEGER PRIMARY KEY, payload TEXT NOT NULL)']);
    const insert = store.db.prepare('INSERT INTO crash_rows (i, payload) VALUES (?, ?)');
    const commit = store.db.transaction((i: number) => {
      insert.run(i, `row-${i}`);
      store.db.prepare("INSERT INTO store_kv (key, value) VALUES (?, ?)").run(`row:${i}`, String(i));
    });
    for (let i = 0; ; i++) {
      commit.immediate(i);
      process.stdout.write(`committed ${i}\n`); // pipes are synchronous on Linux: written once this returns
      if (i % 50 === 0) await new Promise((r) => setImmediate(r));
    }
  }
  await store.close();
  process.exit(0);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
