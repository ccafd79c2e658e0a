import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fixedClock } from '../../src/lib/clock';
import { SQLITE_STORE_MIGRATIONS, SqliteStore } from '../../src/store/sqlite';
import { migrate, openSqlite, schemaVersion, StoreMigrationError } from '../../src/store/sqlite-migrate';
import { expectOverlapped } from '../helpers/overlap-log';
import { runStoreContract } from './contract';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'wechat-bot-sqlite-'));
let fileSeq = 0;
const tmpFile = () => path.join(tmpRoot, `nested-${++fileSeq}`, 'bot.sqlite');

afterAll(() => {
  fs.rmSync(tmpRoot, { recursive: true, force: true });
});

runStoreContract('SqliteStore', async (clock) => SqliteStore.open(tmpFile(), { clock }), undefined, {
  clockExpiry: true,
  openPeer: async (store, clock) => SqliteStore.open((store as SqliteStore).file, { clock }),
});

// === child processes

const CHILD = path.join(__dirname, 'sqlite-child.ts');

interface Child {
  proc: ChildProcessWithoutNullStreams;
  /** Resolves with the next stdout line. */
  nextLine(): Promise<string>;
  lines: string[];
  exited: Promise<number | null>;
}

function startChild(args: string[], env: NodeJS.ProcessEnv = process.env): Child {
  const proc = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), CHILD, ...args], {
    cwd: path.join(__dirname, '..', '..'),
    stdio: ['pipe', 'pipe', 'pipe'],
    env,
  });
  const lines: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += String(d)));
  createInterface({ input: proc.stdout }).on('line', function onLine(line) {
    lines.push(line);
    waiting.shift()?.(line);
  });
  let read = 0;
  const exited = new Promise<number | null>((resolve) =>
    proc.on('exit', (code) => {
      if (code && code !== 0) process.stderr.write(`child failed: ${stderr}\n`);
      resolve(code);
    }),
  );
  return {
    proc,
    lines,
    exited,
    nextLine() {
      const i = read++;
      if (i < lines.length) return Promise.resolve(lines[i]);
      return new Promise((resolve, reject) => {
        waiting.push(resolve);
        void exited.then(() => reject(new Error(`child exited before line ${i}: ${stderr}`)));
      });
    },
  };
}

/**
 * Starts children, waits until every one has opened the file, then releases them at once; checks from
 * their shared overlap log that they really raced at the same time.
 */
async function raceChildren(argsList: string[][]): Promise<string[]> {
  const log = path.join(tmpRoot, `overlap-${++fileSeq}.log`);
  const env = { ...process.env, OVERLAP_LOG: log, RACERS: String(argsList.length) };
  const children = argsList.map((args) => startChild(args, env));
  for (const c of children) expect(await c.nextLine()).toBe('ready');
  for (const c of children) c.proc.stdin.write('go\n');
  const results = await Promise.all(children.map((c) => c.nextLine()));
  for (const c of children) expect(await c.exited).toBe(0);
  expectOverlapped(log, argsList.length);
  return results;
}

describe('SqliteStore across processes', () => {
  it('should give each dedupe key to exactly one of several processes sharing the file', async () => {
    const file = tmpFile();
    await SqliteStore.open(file).close(); // migrate once, so the children race on claims, not on schema
    const keys = 200;
    const results = (await raceChildren([1, 2, 3].map(() => ['claim', file, String(keys)]))).map((line) => JSON.parse(line) as string[]);
    for (let i = 0; i < keys; i++) {
      const states = results.map((r) => r[i]);
      expect(states.filter((s) => s === 'new')).toHaveLength(1);
      expect(states.filter((s) => s === 'in-flight')).toHaveLength(2);
    }
  });

  it('should let two processes migrate the same new file at once and never exceed a shared counter limit', async () => {
    const file = tmpFile(); // not created yet: both children create and migrate it concurrently
    const results = (
      await raceChildren([
        ['increment', file, '150', '100'],
        ['increment', file, '150', '100'],
      ])
    ).map((line) => (JSON.parse(line) as { allowed: number }).allowed);
    expect(results[0] + results[1]).toBe(100);
    const store = SqliteStore.open(file);
    expect(await store.counters.get('rate')).toBe(100);
    expect(schemaVersion(store.db, 'store')).toBe(SQLITE_STORE_MIGRATIONS.length);
    await store.close();
  });

  it('should keep every row reported committed when the writer is SIGKILLed mid-stream', async () => {
    const file = tmpFile();
    const child = startChild(['write', file]);
    let last = -1;
    while (last < 300) {
      const line = await child.nextLine();
      const m = /^committed (\d+)$/.exec(line);
      expect(m).not.toBeNull();
      last = Number(m![1]);
    }
    child.proc.kill('SIGKILL');
    await child.exited;
    const reported = child.lines.filter((l) => l.startsWith('committed ')).map((l) => Number(l.slice(10)));
    expect(reported.length).toBeGreaterThan(300);

    const store = SqliteStore.open(file);
    const rows = new Set(store.db.prepare('SELECT i FROM crash_rows').pluck().all() as number[]);
    for (const i of reported) expect(rows.has(i)).toBe(true);
    for (const i of reported) expect(await store.kv.get(`row:${i}`)).toBe(String(i));
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    await store.close();
  });
});

// === SqliteStore specifics

describe('SqliteStore.open', () => {
  it('should create missing parent folders and open the file in WAL mode with foreign keys on', async () => {
    const file = tmpFile();
    const store = SqliteStore.open(file);
    expect(fs.existsSync(file)).toBe(true);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(store.db.pragma('busy_timeout', { simple: true })).toBe(5); // a few ms: a lock held elsewhere is waited for on timers
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(store.backends.sqlite).toBe(store);
    expect(store.driver).toBe('sqlite');
    await store.close();
  });

  it('should keep data across close and reopen', async () => {
    const file = tmpFile();
    const a = SqliteStore.open(file);
    await a.kv.set('token', 'abc', 3600);
    await a.dedupe.claim('m', 60);
    await a.dedupe.complete('m', 'reply', 60);
    await a.close();
    const b = SqliteStore.open(file);
    expect(await b.kv.get('token')).toBe('abc');
    expect(await b.dedupe.peek('m')).toEqual({ state: 'done', reply: 'reply' });
    await b.close();
  });

  it('should reject a clock without now()', () => {
    expect(() => SqliteStore.open(tmpFile(), { clock: {} as never })).toThrow(TypeError);
  });
});

describe('SqliteStore.dedupe group commit', () => {
  it('should give each claim of one turn its own result, in arrival order', async () => {
    const store = SqliteStore.open(tmpFile(), { clock: fixedClock(0) });
    await store.dedupe.complete('done', '<xml>first</xml>', 600);
    const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
    const results = await Promise.all([...keys.map((k) => store.dedupe.claim(k, 60)), store.dedupe.claim('k3', 60), store.dedupe.claim('done', 60)]);
    expect(results.slice(0, 20)).toEqual(keys.map(() => ({ state: 'new' })));
    expect(results[20]).toEqual({ state: 'in-flight' });
    expect(results[21]).toEqual({ state: 'done', reply: '<xml>first</xml>' });
    await store.close();
  });

  // One failing write taking the others of its turn down with it shows they shared one transaction.
  it('should fail every write of a batch whose transaction fails, and keep none of it, then go on', async () => {
    const store = SqliteStore.open(tmpFile(), { clock: fixedClock(0) });
    store.db.exec("CREATE TEMP TRIGGER refuse_bad BEFORE INSERT ON store_dedupe WHEN NEW.key LIKE 'bad%' BEGIN SELECT RAISE(ABORT, 'refused'); END");
    const batch = await Promise.allSettled([store.dedupe.claim('good1', 60), store.dedupe.claim('bad', 60), store.dedupe.complete('good2', 'r', 60)]);
    expect(batch.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(store.db.prepare('SELECT COUNT(*) FROM store_dedupe').pluck().get()).toBe(0);
    await expect(store.dedupe.claim('good1', 60)).resolves.toEqual({ state: 'new' });
    await store.close();
  });
});

describe('SqliteStore.sweepExpired', () => {
  it('should delete only expired rows of every table', async () => {
    const clock = fixedClock(0);
    const store = SqliteStore.open(tmpFile(), { clock });
    await store.kv.set('short', 'v', 1);
    await store.kv.set('long', 'v', 100);
    await store.kv.set('forever', 'v');
    await store.dedupe.claim('m', 1);
    await store.counters.incrementWithin('c', 1, 5, 1);
    clock.advance(1_000);
    expect(store.sweepExpired()).toBe(3);
    const count = (t: string) => store.db.prepare(`SELECT COUNT(*) FROM ${t}`).pluck().get();
    expect([count('store_kv'), count('store_dedupe'), count('store_counters')]).toEqual([2, 0, 0]);
    await store.close();
  });

  it('should sweep by itself after enough writes', async () => {
    const clock = fixedClock(0);
    const store = SqliteStore.open(tmpFile(), { clock });
    for (let i = 0; i < 100; i++) await store.kv.set(`old${i}`, 'v', 1);
    clock.advance(1_000);
    for (let i = 0; i < 500; i++) await store.kv.set(`new${i}`, 'v', 100);
    expect(store.db.prepare("SELECT COUNT(*) FROM store_kv WHERE key LIKE 'old%'").pluck().get()).toBe(0);
    await store.close();
  });

  // The de-duplication table has no expiry index: the automatic sweep looks at its 1,000 oldest rows.
  const dedupeRows = (store: SqliteStore, like: string) => store.db.prepare('SELECT COUNT(*) FROM store_dedupe WHERE key LIKE ?').pluck().get(like) as number;

  it('should sweep expired de-duplication rows oldest first, keeping up with the writes', async () => {
    const clock = fixedClock(0);
    const store = SqliteStore.open(tmpFile(), { clock });
    for (let i = 0; i < 2500; i++) await store.dedupe.complete(`old${i}`, 'r', 300);
    clock.advance(300_000);
    // Each sweep (every 500 writes) takes the expired ones among the 1,000 oldest rows.
    for (let i = 0; i < 500; i++) await store.dedupe.claim(`new${i}`, 600);
    expect(dedupeRows(store, 'old%')).toBe(1500);
    for (let i = 500; i < 1500; i++) await store.dedupe.claim(`new${i}`, 600);
    expect(dedupeRows(store, 'old%')).toBe(0);
    expect(dedupeRows(store, 'new%')).toBe(1500);
    await store.close();
  });

  it('should keep a row that has not expired and sweep the expired rows behind it in the window', async () => {
    const clock = fixedClock(0);
    const store = SqliteStore.open(tmpFile(), { clock });
    await store.dedupe.complete('long', 'r', 3_600);
    for (let i = 0; i < 499; i++) await store.dedupe.complete(`short${i}`, 'r', 300);
    clock.advance(300_000);
    for (let i = 0; i < 500; i++) await store.dedupe.claim(`new${i}`, 600);
    expect(dedupeRows(store, 'long')).toBe(1);
    expect(dedupeRows(store, 'short%')).toBe(0); // within the window, behind the long one
    // Expired rows are never answered, swept or not.
    await expect(store.dedupe.peek('short1')).resolves.toBeUndefined();
    expect(store.sweepExpired()).toBe(0);
    clock.advance(3_600_000);
    expect(store.sweepExpired()).toBe(501); // the full sweep reads the whole table
    await store.close();
  });
});

describe('SqliteStore migrations', () => {
  it('should drop the de-duplication expiry index of a version 1 file and keep its rows', async () => {
    const file = tmpFile();
    const db = openSqlite(file);
    migrate(db, 'store', SQLITE_STORE_MIGRATIONS.slice(0, 1));
    db.prepare("INSERT INTO store_dedupe (key, state, reply, expires_at) VALUES ('k', 'done', 'r', ?)").run(Date.now() + 60_000);
    const indexes = (d: typeof db) => d.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'store_dedupe' AND sql IS NOT NULL").pluck().all();
    expect(indexes(db)).toEqual(['store_dedupe_expires']);
    db.close();
    const store = SqliteStore.open(file);
    expect(schemaVersion(store.db, 'store')).toBe(SQLITE_STORE_MIGRATIONS.length);
    expect(indexes(store.db)).toEqual([]);
    await expect(store.dedupe.peek('k')).resolves.toEqual({ state: 'done', reply: 'r' });
    await store.close();
  });
});

describe('SqliteStore bindings', () => {
  it('should add the bindings table to a version 2 file, keeping its de-duplication rows', async () => {
    const file = tmpFile();
    const db = openSqlite(file);
    migrate(db, 'store', SQLITE_STORE_MIGRATIONS.slice(0, 2));
    db.prepare("INSERT INTO store_dedupe (key, state, reply, expires_at) VALUES ('k', 'done', 'r', ?)").run(Date.now() + 60_000);
    db.close();
    const store = SqliteStore.open(file);
    await expect(store.dedupe.peek('k')).resolves.toEqual({ state: 'done', reply: 'r' });
    await expect(store.bindings.bind('sig', 'd', 60)).resolves.toBe('bound');
    await store.close();
  });

  it('should write the bindings and claims of one turn in one transaction (the group commit)', async () => {
    const store = SqliteStore.open(tmpFile());
    store.db.exec("CREATE TEMP TRIGGER refuse_bad BEFORE INSERT ON store_dedupe WHEN NEW.key LIKE 'bad%' BEGIN SELECT RAISE(ABORT, 'refused'); END");
    const results = await Promise.allSettled([store.bindings.bind('sig', 'first', 60), store.dedupe.claim('bad-1', 60)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']); // one transaction, rolled back as one
    expect(await store.bindings.bind('sig', 'second', 60)).toBe('bound');
    await store.close();
  });

  it('should sweep expired bindings with the other expired rows', async () => {
    const clock = fixedClock(Date.parse('2026-01-01T00:00:00Z'));
    const store = SqliteStore.open(tmpFile(), { clock });
    await store.bindings.bind('a', 'd', 10);
    await store.bindings.bind('b', 'd', 100);
    clock.advance(10_000);
    expect(store.sweepExpired()).toBe(1);
    expect(store.db.prepare('SELECT key FROM store_bindings').pluck().all()).toEqual(['b']);
    await store.close();
  });
});

describe('openSqlite', () => {
  it('should honour synchronous NORMAL and reject bad options', () => {
    const db = openSqlite(tmpFile(), { synchronous: 'NORMAL' });
    expect(db.pragma('synchronous', { simple: true })).toBe(1);
    db.close();
    expect(() => openSqlite('')).toThrow(TypeError);
    expect(() => openSqlite(tmpFile(), { synchronous: 'OFF' as never })).toThrow(TypeError);
  });

  it('should cap the page cache at 2 MiB unless told otherwise, and reject a tiny one', () => {
    const db = openSqlite(tmpFile());
    expect(db.pragma('cache_size', { simple: true })).toBe(-2048);
    db.close();
    const big = openSqlite(tmpFile(), { cacheKib: 8192 });
    expect(big.pragma('cache_size', { simple: true })).toBe(-8192);
    big.close();
    expect(() => openSqlite(tmpFile(), { cacheKib: 1 })).toThrow(/cacheKib/);
  });

  it('should open a private in-memory database for ":memory:"', () => {
    const db = openSqlite(':memory:');
    expect(db.prepare('SELECT 1 AS one').get()).toEqual({ one: 1 });
    db.close();
  });
});

describe('migrate', () => {
  it('should apply each step once, in order, and only the new ones on the next start', () => {
    const db = openSqlite(tmpFile());
    migrate(db, 'demo', ['CREATE TABLE t (a INTEGER)']);
    expect(schemaVersion(db, 'demo')).toBe(1);
    migrate(db, 'demo', ['CREATE TABLE t (a INTEGER)', 'ALTER TABLE t ADD COLUMN b TEXT']);
    migrate(db, 'demo', ['CREATE TABLE t (a INTEGER)', 'ALTER TABLE t ADD COLUMN b TEXT']);
    expect(schemaVersion(db, 'demo')).toBe(2);
    expect(db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('t')).toEqual(['a', 'b']);
    expect(schemaVersion(db, 'other')).toBe(0);
    db.close();
  });

  it('should roll a failing step back entirely and report component and version', () => {
    const db = openSqlite(tmpFile());
    const steps = ['CREATE TABLE t (a INTEGER)', 'CREATE TABLE u (x INTEGER); INSERT INTO nowhere VALUES (1)'];
    let error: unknown;
    try {
      migrate(db, 'demo', steps);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StoreMigrationError);
    expect(error).toMatchObject({ component: 'demo', version: 2 });
    expect(schemaVersion(db, 'demo')).toBe(1);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'u'").get()).toBeUndefined();
    db.close();
  });

  it('should keep components apart and leave a newer schema alone', () => {
    const db = openSqlite(tmpFile());
    migrate(db, 'a', ['CREATE TABLE a1 (x)', 'CREATE TABLE a2 (x)']);
    migrate(db, 'b', ['CREATE TABLE b1 (x)']);
    migrate(db, 'a', ['CREATE TABLE a1 (x)']); // an older deploy starting after a newer one
    expect([schemaVersion(db, 'a'), schemaVersion(db, 'b')]).toEqual([2, 1]);
    db.close();
  });

  it('should reject an empty component', () => {
    const db = openSqlite(':memory:');
    expect(() => migrate(db, '', [])).toThrow(TypeError);
    db.close();
  });
});
