/**
 * A write lock held on the bot's SQLite file by another process (a CLI command, a sqlite3 shell, a
 * backup) must never stall this process's event loop: steps wait for it on timers, group commits are
 * retried as a whole, and a lock held too long fails cleanly with StoreBusyError.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fixedClock } from '../../src/lib/clock';
import { isStoreBusy } from '../../src/store/ports';
import { StoreBusyError, runWhenUnlocked } from '../../src/store/run-when-unlocked';
import { SqliteLedger } from '../../src/store/sqlite-ledger';
import { SqliteOrderStore } from '../../src/store/sqlite-orders';
import { SqliteStore } from '../../src/store/sqlite';
import { openSqlite } from '../../src/store/sqlite-migrate';
import { holdSqliteLock } from '../helpers/hold-sqlite-lock';
import { withLedgerRules } from '../../src/rewards/ledger-plans';
import { ledgerTagRules } from '../../src/rewards/bill-no';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'wechat-bot-sqlite-lock-'));
let seq = 0;
const tmpFile = () => path.join(tmpRoot, `lock-${++seq}.sqlite`);

afterAll(() => {
  fs.rmSync(tmpRoot, { recursive: true, force: true });
});

/** Turns of the event loop: resolves after `n` setImmediate callbacks ran (each needs a free loop). */
async function loopTurns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

/** Settles with what the promise did, without letting a rejection go unhandled meanwhile. */
function track<T>(promise: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  const done = promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return { state, done };
}

/** A timer-driven wait (the loop must be free for it to end). */
const timers = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SqliteStore while another process holds the write lock', () => {
  it('should keep the event loop free, and claim once the lock is released, each key exactly once', async () => {
    const store = SqliteStore.open(tmpFile(), { clock: fixedClock(1_000_000) });
    const lock = await holdSqliteLock(store.file);
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    // One group commit: two claims of one key and a claim of another.
    const claims = [store.dedupe.claim('msg:1', 60), store.dedupe.claim('msg:1', 60), store.dedupe.claim('msg:2', 60)].map(track);
    await timers(200); // a few retries' worth, on timers: each one needs the loop
    await loopTurns(5);
    expect(claims.map((c) => c.state.settled)).toEqual([false, false, false]); // still waiting: neither done nor failed
    await lock.release();
    await Promise.all(claims.map((c) => c.done));
    delay.disable();
    expect(claims.map((c) => c.state.error)).toEqual([undefined, undefined, undefined]);
    expect(claims.map((c) => c.state.value)).toEqual([{ state: 'new' }, { state: 'in-flight' }, { state: 'new' }]);
    // The old busy_timeout=5000 blocked the loop for 5 s; now no turn takes near a second.
    expect(delay.max).toBeLessThan(1e9);
    expect(store.db.prepare('SELECT key, state FROM store_dedupe ORDER BY key').all()).toEqual([
      { key: 'msg:1', state: 'in-flight' },
      { key: 'msg:2', state: 'in-flight' },
    ]);
    await store.close();
  });

  it('should fail a whole batch with StoreBusyError when the lock outlasts busyRetryMs, having written nothing', async () => {
    const store = SqliteStore.open(tmpFile(), { clock: fixedClock(1_000_000), busyRetryMs: 100 });
    const lock = await holdSqliteLock(store.file);
    const claims = [track<unknown>(store.dedupe.claim('msg:a', 60)), track<unknown>(store.dedupe.complete('msg:b', 'reply-b', 600))];
    await Promise.all(claims.map((c) => c.done));
    for (const c of claims) {
      expect(c.state.error).toBeInstanceOf(StoreBusyError);
      expect(isStoreBusy(c.state.error)).toBe(true);
      expect((c.state.error as Error).message).toMatch(/^store busy: another process holds a lock/);
    }
    await lock.release();
    expect(await store.dedupe.peek('msg:a')).toBeUndefined();
    expect(await store.dedupe.peek('msg:b')).toBeUndefined();
    // Nothing was half-applied: the same claim now works, once.
    expect(await store.dedupe.claim('msg:a', 60)).toEqual({ state: 'new' });
    expect(await store.dedupe.claim('msg:a', 60)).toEqual({ state: 'in-flight' });
    await store.close();
  });

  it('should let kv and counter writes wait for the lock on timers, then apply them once', async () => {
    const store = SqliteStore.open(tmpFile(), { clock: fixedClock(1_000_000) });
    const lock = await holdSqliteLock(store.file);
    const writes = [
      track<unknown>(store.kv.set('token', 'abc', 60)),
      track<unknown>(store.counters.incrementWithin('rate', 1, 5, 60)),
      track<unknown>(store.kv.setIfAbsent('lease', 'me', 10)),
    ];
    await timers(100);
    expect(writes.map((w) => w.state.settled)).toEqual([false, false, false]);
    await lock.release();
    await Promise.all(writes.map((w) => w.done));
    expect(writes.map((w) => w.state.error)).toEqual([undefined, undefined, undefined]);
    expect(writes[1].state.value).toEqual({ allowed: true, value: 1 });
    expect(writes[2].state.value).toBe(true);
    expect(await store.kv.get('token')).toBe('abc');
    expect(await store.counters.get('rate')).toBe(1);
    await store.close();
  });

  it('should make ping() report "store busy" within its short wait while the lock is held', async () => {
    const store = SqliteStore.open(tmpFile());
    await expect(store.ping()).resolves.toBeUndefined();
    const lock = await holdSqliteLock(store.file);
    await expect(store.ping()).rejects.toThrow(/^store busy/);
    await lock.release();
    await expect(store.ping()).resolves.toBeUndefined();
    await store.close();
  });

  it('should still read while another process holds BEGIN EXCLUSIVE (WAL)', async () => {
    const store = SqliteStore.open(tmpFile(), { clock: fixedClock(1_000_000) });
    await store.kv.set('k', 'v');
    const lock = await holdSqliteLock(store.file, 'EXCLUSIVE');
    expect(await store.kv.get('k')).toBe('v');
    const write = track(store.kv.set('k', 'w'));
    await timers(50);
    expect(write.state.settled).toBe(false);
    await lock.release();
    await write.done;
    expect(await store.kv.get('k')).toBe('w');
    await store.close();
  });
});

describe('SqliteLedger and SqliteOrderStore while another process holds the write lock', () => {
  const grant = (dedupeKey: string) => ({
    dedupeKey,
    ruleId: 'welcome',
    kind: 'red_packet' as const,
    campaign: 'welcome-packet',
    openId: 'oLock',
    amountFen: 100,
    payload: {},
    reservations: [],
    billNoPrefix: '1900000109202611',
    dueAt: 1_000_000,
    deferred: false,
    now: 1_000_000,
  });

  it('should retry a batch of grants as a whole after the lock, recording each grant once', async () => {
    const file = tmpFile();
    const ledger = withLedgerRules(SqliteLedger.create(openSqlite(file), { ownsDb: true, tags: ledgerTagRules() }));
    const lock = await holdSqliteLock(file);
    const records = [ledger.recordGrant(grant('m1')), ledger.recordGrant(grant('m1')), ledger.recordGrant(grant('m2'))].map(track);
    await timers(100);
    expect(records.map((r) => r.state.settled)).toEqual([false, false, false]);
    await lock.release();
    await Promise.all(records.map((r) => r.done));
    expect(records.map((r) => r.state.error)).toEqual([undefined, undefined, undefined]);
    expect(records.map((r) => (r.state.value as { duplicate: boolean }).duplicate)).toEqual([false, true, false]);
    expect((await ledger.listAll()).map((g) => g.dedupeKey)).toEqual(['m1', 'm2']);
    await ledger.close();
  });

  it('should fail the grants of a batch with StoreBusyError when the lock outlasts busyRetryMs, recording none', async () => {
    const file = tmpFile();
    const ledger = withLedgerRules(SqliteLedger.create(openSqlite(file, { busyRetryMs: 100 }), { ownsDb: true, tags: ledgerTagRules() }));
    const lock = await holdSqliteLock(file);
    const records = [track<unknown>(ledger.recordGrant(grant('m1'))), track<unknown>(ledger.pauseCampaign('welcome-packet', { reason: 'x', by: 'operator', now: 1 }))];
    await Promise.all(records.map((r) => r.done));
    for (const r of records) expect(r.state.error).toBeInstanceOf(StoreBusyError);
    await lock.release();
    expect(await ledger.listAll()).toEqual([]);
    expect(await ledger.pausedCampaigns()).toEqual([]);
    await ledger.close();
  });

  it('should record an order once the lock is released', async () => {
    const file = tmpFile();
    const db = openSqlite(file);
    const orders = SqliteOrderStore.create(db, { ownsDb: true });
    const lock = await holdSqliteLock(file);
    const setGrant = track(orders.setGrant('tx-unknown', { at: 1 } as never));
    await timers(50);
    expect(setGrant.state.settled).toBe(false);
    await lock.release();
    await setGrant.done;
    expect(setGrant.state.value).toBe(false);
    await orders.close();
  });
});

describe('runWhenUnlocked', () => {
  it("should pass a step's own error through at once, without retrying it", async () => {
    const db = openSqlite(':memory:');
    let runs = 0;
    await expect(
      runWhenUnlocked(db, () => {
        runs++;
        throw new Error('UNIQUE constraint failed');
      }),
    ).rejects.toThrow('UNIQUE constraint failed');
    expect(runs).toBe(1);
    db.close();
  });
});
