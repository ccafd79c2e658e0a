/**
 * Child process for the cross-process SQLite tests (run with `node --require tsx/cjs`).
 *
 *   sqlite-child.ts claim <file> <keyCount>      prints "ready", waits for "go" on stdin, claims
 *                                                 keys 0..keyCount-1, prints one JSON line of results
 *   sqlite-child.ts increment <file> <n> <limit>  same handshake; n increments of one shared counter
 *   sqlite-child.ts write <file>                  commits rows forever, printing "committed <i>" after each
 *
 * With OVERLAP_LOG=<file> and RACERS=<n> set, claim and increment mark their racing work in that log
 * (test/helpers/overlap-log.ts) and wait half-way until all <n> racers have started.
 */
import { SqliteStore } from '../../src/store/sqlite';
import { barrier, mark } from '../helpers/overlap-log';
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

/** Runs `n` racing steps, marked in OVERLAP_LOG (when set) with a barrier half-way. */
async function race(n: number, step: (i: number) => Promise<void>): Promise<void> {
  const log = process.env.OVERLAP_LOG;
  const id = String(process.pid);
  if (log) mark(log, 'start', id);
  for (let i = 0; i < n; i++) {
    if (log && i === Math.floor(n / 2)) await barrier(log, 'start', Number(process.env.RACERS));
    await step(i);
  }
  if (log) mark(log, 'end', id);
}

async function main(): Promise<void> {
  const store = SqliteStore.open(file);
  if (mode === 'claim') {
    await waitForGo();
    const states: string[] = [];
    await race(Number(a), async (i) => {
      states.push((await store.dedupe.claim(`msg:${i}`, 60)).state);
    });
    process.stdout.write(`${JSON.stringify(states)}\n`);
  } else if (mode === 'increment') {
    await waitForGo();
    let allowed = 0;
    await race(Number(a), async () => {
      if ((await store.counters.incrementWithin('rate', 1, Number(b), 60)).allowed) allowed++;
    });
    process.stdout.write(`${JSON.stringify({ allowed })}\n`);
  } else if (mode === 'write') {
    migrate(store.db, 'crash-test', ['CREATE TABLE crash_rows (i INTEGER PRIMARY KEY, payload TEXT NOT NULL)']);
    const insert = store.db.prepare('INSERT INTO crash_rows (i, payload) VALUES (?, ?)');
    const commit = store.db.transaction((i: number) => {
      insert.run(i, `row-${i}`);
      store.db.prepare('INSERT INTO store_kv (key, value) VALUES (?, ?)').run(`row:${i}`, String(i));
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
