/**
 * The one store contract every adapter passes (memory, SQLite, Redis, PostgreSQL), in the spirit of
 * grammyjs/storages' shared tests. Call it from a `*.test.ts` file:
 *
 * @example
 * runStoreContract('SqliteStore', async (clock) => SqliteStore.open(tmpFile(), { clock }), cleanupTmp, {
 *   clockExpiry: true,
 *   openPeer: async (store, clock) => SqliteStore.open((store as SqliteStore).file, { clock }),
 * });
 * @see https://github.com/grammyjs/storages
 */
import { fixedClock, type ManualClock } from '../../src/lib/clock';
import type { Store } from '../../src/store/ports';

/** What differs between adapters. */
export interface StoreContractOptions {
  /** True when expiry follows the injected clock (false for Redis, which expires by server time). */
  clockExpiry: boolean;
  /**
   * Opens a second handle (another connection / pool / client) on the SAME data as `store`, so the
   * races run across connections, not just across promises of one connection.
   */
  openPeer?: (store: Store, clock: ManualClock) => Promise<Store>;
  /**
   * For stores that expire by server time (`clockExpiry: false`): the remaining time to live of one of
   * the store's keys, in ms, as Redis' PTTL reports it (-2 gone, -1 no TTL). The contract then runs
   * its expiry cases with real short TTLs, awaiting each expiry by polling this, never by a fixed sleep.
   */
  serverPttl?: (store: Store, kind: 'kv' | 'dedupe' | 'bind' | 'counter', key: string) => Promise<number>;
}

/** The short real TTL of the server-time expiry cases, in seconds. */
const SERVER_TTL = 1;
/** How many PTTL polls an expiry may take before the case fails (each waits the reported remainder). */
const MAX_EXPIRY_POLLS = 50;

const T0 = Date.parse('2026-01-01T00:00:00Z');
let testSeq = 0;

/**
 * Registers the contract's `describe` blocks. `make` is called once per test with a fresh manual
 * clock and must return a store isolated from other test files; the contract closes it after each
 * test. `cleanup` runs once after all (drop files, schemas, key prefixes).
 */
export function runStoreContract(
  name: string,
  make: (clock: ManualClock) => Promise<Store>,
  cleanup: () => Promise<void> = async () => undefined,
  options: StoreContractOptions = { clockExpiry: true },
): void {
  describe(`${name} (store contract)`, () => {
    let clock: ManualClock;
    let store: Store;
    let peer: Store | undefined;
    let prefix: string;
    /** A key unique to this test, so adapters sharing a backend across tests never collide. */
    const k = (s: string) => `${prefix}${s}`;
    /** The two handles, alternating, for races. */
    const handle = (i: number): Store => (peer && i % 2 === 1 ? peer : store);
    /** Clock-expiry cases exist only for stores that expire by the injected clock (not registered, not skipped, elsewhere). */
    const itClock = (title: string, fn: () => Promise<void>): void => {
      if (options.clockExpiry) it(title, fn);
    };
    const serverPttl = options.serverPttl;
    if (!options.clockExpiry && !serverPttl) throw new Error(`${name}: a store that expires by server time needs serverPttl, so its expiry is tested`);
    /** The key's PTTL in ms, from the server. */
    const pttl = (kind: 'kv' | 'dedupe' | 'bind' | 'counter', key: string) => serverPttl!(store, kind, key);
    /**
     * Awaits the server expiring a key: reads its PTTL and waits that long, again, until the server
     * reports it gone (-2). Fails on a key without TTL (-1) or one still there after MAX_EXPIRY_POLLS.
     */
    async function awaitExpired(kind: 'kv' | 'dedupe' | 'bind' | 'counter', key: string): Promise<void> {
      for (let poll = 0; poll < MAX_EXPIRY_POLLS; poll++) {
        const left = await pttl(kind, key);
        if (left === -2) return;
        if (left === -1) throw new Error(`${kind}:${key} has no TTL on the server`);
        await new Promise((r) => setTimeout(r, Math.max(left, 5)));
      }
      throw new Error(`${kind}:${key} was still there after ${MAX_EXPIRY_POLLS} PTTL polls`);
    }

    beforeEach(async () => {
      clock = fixedClock(T0);
      store = await make(clock);
      peer = options.openPeer ? await options.openPeer(store, clock) : undefined;
      prefix = `c${process.pid}-${++testSeq}-${Math.random().toString(36).slice(2, 8)}:`;
    });
    afterEach(async () => {
      const opened = [peer, store];
      peer = undefined;
      store = undefined as unknown as Store; // a failed make() must not close the previous test's store again
      for (const s of opened) await s?.close();
    });
    afterAll(async () => {
      await cleanup();
    });

    // === kv

    describe('kv.get / kv.set', () => {
      it('should return undefined for a key never set', async () => {
        expect(await store.kv.get(k('missing'))).toBeUndefined();
      });

      it('should return what was set, and the last value after an overwrite', async () => {
        await store.kv.set(k('a'), '1');
        expect(await store.kv.get(k('a'))).toBe('1');
        await store.kv.set(k('a'), '2', 60);
        expect(await store.kv.get(k('a'))).toBe('2');
      });

      it('should round-trip empty, unicode, XML and large values exactly', async () => {
        const values = ['', '中文 🧧 红包', '<xml><![CDATA[a]]]]><![CDATA[>b]]></xml>', 'i', 'd:x', 'x'.repeat(200_000)];
        for (const [i, v] of values.entries()) await store.kv.set(k(`v${i}`), v);
        for (const [i, v] of values.entries()) expect(await store.kv.get(k(`v${i}`))).toBe(v);
      });

      it('should keep a key written by one handle visible to the other', async () => {
        await store.kv.set(k('shared'), 'x', 60);
        expect(await handle(1).kv.get(k('shared'))).toBe('x');
      });

      itClock('should expire a key exactly at its TTL by the injected clock', async () => {
        await store.kv.set(k('t'), 'v', 10);
        clock.advance(9_999);
        expect(await store.kv.get(k('t'))).toBe('v');
        clock.advance(1);
        expect(await store.kv.get(k('t'))).toBeUndefined();
      });

      itClock('should never expire a key set without a TTL, and drop an old TTL on overwrite', async () => {
        await store.kv.set(k('forever'), 'v');
        await store.kv.set(k('was-ttl'), 'v', 1);
        await store.kv.set(k('was-ttl'), 'w');
        clock.advance(10 * 365 * 86_400_000);
        expect(await store.kv.get(k('forever'))).toBe('v');
        expect(await store.kv.get(k('was-ttl'))).toBe('w');
      });

      it('should reject an empty key and a TTL that is not a positive number', async () => {
        await expect(store.kv.get('')).rejects.toThrow(TypeError);
        await expect(store.kv.set(k('x'), 'v', 0)).rejects.toThrow(RangeError);
        await expect(store.kv.set(k('x'), 'v', -1)).rejects.toThrow(RangeError);
        await expect(store.kv.set(k('x'), 'v', Number.NaN)).rejects.toThrow(RangeError);
        await expect(store.kv.setIfAbsent(k('x'), 'v', Infinity)).rejects.toThrow(RangeError);
        expect(await store.kv.get(k('x'))).toBeUndefined();
      });

      it('should reject values that are not strings or contain NUL, in every adapter alike', async () => {
        await expect(store.kv.set(k('x'), 'a\u0000b')).rejects.toThrow(TypeError);
        await expect(store.kv.set(k('x'), 42 as never)).rejects.toThrow(TypeError);
        await expect(store.kv.setIfAbsent(k('x'), '\u0000')).rejects.toThrow(TypeError);
        await store.dedupe.claim(k('m'), 30);
        await expect(store.dedupe.complete(k('m'), '\u0000in-flight', 30)).rejects.toThrow(TypeError);
        expect(await store.kv.get(k('x'))).toBeUndefined();
        expect(await store.dedupe.peek(k('m'))).toEqual({ state: 'in-flight' });
      });
    });

    describe('kv.setIfAbsent', () => {
      it('should set an absent key once and refuse while it exists', async () => {
        expect(await store.kv.setIfAbsent(k('lock'), 'a', 30)).toBe(true);
        expect(await store.kv.setIfAbsent(k('lock'), 'b', 30)).toBe(false);
        expect(await store.kv.get(k('lock'))).toBe('a');
      });

      it("should let exactly one of 50 concurrent callers win, and keep the winner's value", async () => {
        const results = await Promise.all(Array.from({ length: 50 }, (_, i) => handle(i).kv.setIfAbsent(k('race'), `caller-${i}`, 30)));
        const winners = results.flatMap((won, i) => (won ? [i] : []));
        expect(winners).toHaveLength(1);
        expect(await store.kv.get(k('race'))).toBe(`caller-${winners[0]}`);
      });

      itClock('should succeed again once the previous value expired', async () => {
        expect(await store.kv.setIfAbsent(k('lock'), 'a', 5)).toBe(true);
        clock.advance(4_999);
        expect(await store.kv.setIfAbsent(k('lock'), 'b', 5)).toBe(false);
        clock.advance(1);
        expect(await store.kv.setIfAbsent(k('lock'), 'b', 5)).toBe(true);
        expect(await store.kv.get(k('lock'))).toBe('b');
      });
    });

    describe('kv.deleteIfEquals / kv.delete', () => {
      it('should delete only when the value matches', async () => {
        await store.kv.set(k('lock'), 'mine', 30);
        expect(await store.kv.deleteIfEquals(k('lock'), 'theirs')).toBe(false);
        expect(await store.kv.get(k('lock'))).toBe('mine');
        expect(await store.kv.deleteIfEquals(k('lock'), 'mine')).toBe(true);
        expect(await store.kv.get(k('lock'))).toBeUndefined();
        expect(await store.kv.deleteIfEquals(k('lock'), 'mine')).toBe(false);
      });

      it('should let exactly one of 20 concurrent owners delete', async () => {
        await store.kv.set(k('lock'), 'v', 30);
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) => handle(i).kv.deleteIfEquals(k('lock'), 'v')));
        expect(results.filter(Boolean)).toHaveLength(1);
      });

      itClock('should not delete an expired value even when it matches', async () => {
        await store.kv.set(k('lock'), 'v', 1);
        clock.advance(1_000);
        expect(await store.kv.deleteIfEquals(k('lock'), 'v')).toBe(false);
      });

      it('should delete unconditionally, and accept deleting a missing key', async () => {
        await store.kv.set(k('a'), '1');
        await store.kv.delete(k('a'));
        await store.kv.delete(k('never'));
        expect(await store.kv.get(k('a'))).toBeUndefined();
      });
    });

    // === dedupe

    describe('dedupe.claim / complete / peek / release', () => {
      it('should go new → in-flight → done with the stored reply', async () => {
        expect(await store.dedupe.peek(k('m'))).toBeUndefined();
        expect(await store.dedupe.claim(k('m'), 30)).toEqual({ state: 'new' });
        expect(await store.dedupe.claim(k('m'), 30)).toEqual({ state: 'in-flight' });
        expect(await store.dedupe.peek(k('m'))).toEqual({ state: 'in-flight' });
        await store.dedupe.complete(k('m'), '<xml>reply</xml>', 30);
        expect(await store.dedupe.claim(k('m'), 30)).toEqual({ state: 'done', reply: '<xml>reply</xml>' });
        expect(await handle(1).dedupe.peek(k('m'))).toEqual({ state: 'done', reply: '<xml>reply</xml>' });
      });

      it('should keep replies that look like internal markers intact', async () => {
        for (const reply of ['', 'i', 'in-flight', 'done', 'd:', 'd:x', '中文']) {
          const key = k(`r${reply.length}-${Buffer.from(reply).toString('hex')}`);
          expect((await store.dedupe.claim(key, 30)).state).toBe('new');
          await store.dedupe.complete(key, reply, 30);
          expect(await store.dedupe.claim(key, 30)).toEqual({ state: 'done', reply });
        }
      });

      it('should make a released claim new again, but never release a done one', async () => {
        await store.dedupe.claim(k('m'), 30);
        await store.dedupe.release(k('m'));
        expect(await store.dedupe.peek(k('m'))).toBeUndefined();
        expect(await store.dedupe.claim(k('m'), 30)).toEqual({ state: 'new' });
        await store.dedupe.complete(k('m'), 'r', 30);
        await store.dedupe.release(k('m'));
        expect(await store.dedupe.peek(k('m'))).toEqual({ state: 'done', reply: 'r' });
        await store.dedupe.release(k('unknown'));
      });

      it("should give exactly one of 3 concurrent claims (WeChat's retries) the state new", async () => {
        const claims = await Promise.all([0, 1, 2].map((i) => handle(i).dedupe.claim(k('retry'), 30)));
        expect(claims.filter((c) => c.state === 'new')).toHaveLength(1);
        expect(claims.filter((c) => c.state === 'in-flight')).toHaveLength(2);
      });

      it('should give exactly one of 50 concurrent claims the state new', async () => {
        const claims = await Promise.all(Array.from({ length: 50 }, (_, i) => handle(i).dedupe.claim(k('burst'), 30)));
        expect(claims.filter((c) => c.state === 'new')).toHaveLength(1);
      });

      itClock('should let an abandoned in-flight claim be taken again after its TTL', async () => {
        await store.dedupe.claim(k('m'), 5);
        clock.advance(4_999);
        expect(await store.dedupe.claim(k('m'), 5)).toEqual({ state: 'in-flight' });
        clock.advance(1);
        expect(await store.dedupe.peek(k('m'))).toBeUndefined();
        expect(await store.dedupe.claim(k('m'), 5)).toEqual({ state: 'new' });
      });

      itClock('should forget a done reply after its TTL', async () => {
        await store.dedupe.claim(k('m'), 5);
        await store.dedupe.complete(k('m'), 'r', 60);
        clock.advance(59_999);
        expect(await store.dedupe.peek(k('m'))).toEqual({ state: 'done', reply: 'r' });
        clock.advance(1);
        expect(await store.dedupe.claim(k('m'), 5)).toEqual({ state: 'new' });
      });

      it('should not mix dedupe keys with kv or counter keys of the same name', async () => {
        await store.kv.set(k('same'), 'kv');
        await store.counters.incrementWithin(k('same'), 1, 10, 60);
        expect(await store.dedupe.claim(k('same'), 30)).toEqual({ state: 'new' });
        expect(await store.kv.get(k('same'))).toBe('kv');
        expect(await store.counters.get(k('same'))).toBe(1);
      });

      it('should reject an empty key and a bad TTL', async () => {
        await expect(store.dedupe.claim('', 30)).rejects.toThrow(TypeError);
        await expect(store.dedupe.claim(k('m'), 0)).rejects.toThrow(RangeError);
        await expect(store.dedupe.complete(k('m'), 'r', -5)).rejects.toThrow(RangeError);
        expect(await store.dedupe.peek(k('m'))).toBeUndefined();
      });
    });

    // === bindings

    describe('bindings.bind', () => {
      const A = 'a'.repeat(64);
      const B = 'b'.repeat(64);

      it('should bind a key to its first digest, answer same for it and other for any other', async () => {
        expect(await store.bindings.bind(k('sig'), A, 60)).toBe('bound');
        expect(await store.bindings.bind(k('sig'), A, 60)).toBe('same');
        expect(await store.bindings.bind(k('sig'), B, 60)).toBe('other');
        expect(await handle(1).bindings.bind(k('sig'), B, 60)).toBe('other');
        expect(await handle(1).bindings.bind(k('sig'), A, 60)).toBe('same');
      });

      it('should bind exactly one of 50 concurrent different digests (across handles)', async () => {
        const digests = Array.from({ length: 50 }, (_, i) => String(i).padStart(64, '0'));
        const results = await Promise.all(digests.map((d, i) => handle(i).bindings.bind(k('race'), d, 60)));
        expect(results.filter((r) => r === 'bound')).toHaveLength(1);
        expect(results.filter((r) => r === 'other')).toHaveLength(49);
        const winner = digests[results.indexOf('bound')];
        expect(await store.bindings.bind(k('race'), winner, 60)).toBe('same');
      });

      itClock('should keep the first digest for the whole TTL and free the key after it', async () => {
        await store.bindings.bind(k('sig'), A, 5);
        clock.advance(4_999);
        expect(await store.bindings.bind(k('sig'), B, 5)).toBe('other');
        expect(await store.bindings.bind(k('sig'), A, 5)).toBe('same'); // a retry does not extend it
        clock.advance(1);
        expect(await store.bindings.bind(k('sig'), B, 5)).toBe('bound');
      });

      it('should not mix binding keys with dedupe or kv keys of the same name', async () => {
        await store.kv.set(k('same'), A);
        await store.dedupe.claim(k('same'), 30);
        expect(await store.bindings.bind(k('same'), B, 30)).toBe('bound');
        expect(await store.kv.get(k('same'))).toBe(A);
        expect(await store.dedupe.peek(k('same'))).toEqual({ state: 'in-flight' });
      });

      it('should reject an empty key, a bad digest and a bad TTL, binding nothing', async () => {
        await expect(store.bindings.bind('', A, 30)).rejects.toThrow(TypeError);
        await expect(store.bindings.bind(k('sig'), 7 as unknown as string, 30)).rejects.toThrow(TypeError);
        await expect(store.bindings.bind(k('sig'), A, 0)).rejects.toThrow(RangeError);
        expect(await store.bindings.bind(k('sig'), B, 30)).toBe('bound');
      });
    });

    // === counters

    describe('counters.incrementWithin / get', () => {
      it('should count up to the limit and refuse beyond it, reporting the current value', async () => {
        expect(await store.counters.get(k('c'))).toBe(0);
        expect(await store.counters.incrementWithin(k('c'), 2, 5, 60)).toEqual({ allowed: true, value: 2 });
        expect(await store.counters.incrementWithin(k('c'), 3, 5, 60)).toEqual({ allowed: true, value: 5 });
        expect(await store.counters.incrementWithin(k('c'), 1, 5, 60)).toEqual({ allowed: false, value: 5 });
        expect(await store.counters.get(k('c'))).toBe(5);
      });

      it('should refuse a first increment larger than the limit without creating the counter', async () => {
        expect(await store.counters.incrementWithin(k('c'), 7, 5, 60)).toEqual({ allowed: false, value: 0 });
        expect(await store.counters.get(k('c'))).toBe(0);
        expect(await store.counters.incrementWithin(k('c'), 5, 5, 60)).toEqual({ allowed: true, value: 5 });
      });

      it('should never exceed the limit under 100 concurrent increments', async () => {
        const results = await Promise.all(Array.from({ length: 100 }, (_, i) => handle(i).counters.incrementWithin(k('rate'), 1, 37, 60)));
        expect(results.filter((r) => r.allowed)).toHaveLength(37);
        expect(results.every((r) => r.value <= 37)).toBe(true);
        expect(new Set(results.filter((r) => r.allowed).map((r) => r.value)).size).toBe(37);
        expect(await store.counters.get(k('rate'))).toBe(37);
      });

      itClock('should restart the window TTL after the first increment, not after the last', async () => {
        await store.counters.incrementWithin(k('w'), 1, 10, 60);
        clock.advance(59_000);
        await store.counters.incrementWithin(k('w'), 1, 10, 60);
        expect(await store.counters.get(k('w'))).toBe(2);
        clock.advance(1_000);
        expect(await store.counters.get(k('w'))).toBe(0);
        expect(await store.counters.incrementWithin(k('w'), 10, 10, 60)).toEqual({ allowed: true, value: 10 });
      });

      it('should reject a non-integer increment or limit', async () => {
        await expect(store.counters.incrementWithin(k('c'), 0.5, 5, 60)).rejects.toThrow(TypeError);
        await expect(store.counters.incrementWithin(k('c'), 1, Number.NaN, 60)).rejects.toThrow(TypeError);
        await expect(store.counters.incrementWithin(k('c'), 1, 5, 0)).rejects.toThrow(RangeError);
        expect(await store.counters.get(k('c'))).toBe(0);
      });
    });

    // === expiry by server time (Redis): real short TTLs

    // Server-time cases exist only for stores that expire by the server's clock (Redis).
    if (!options.clockExpiry)
      describe('expiry by server time (real short TTLs)', () => {
        it('should keep a kv value until its TTL, then drop it and let setIfAbsent win again', async () => {
          await store.kv.set(k('t'), 'v', SERVER_TTL);
          expect(await pttl('kv', k('t'))).toBeGreaterThan(0);
          expect(await handle(1).kv.get(k('t'))).toBe('v');
          expect(await store.kv.setIfAbsent(k('t'), 'w', SERVER_TTL)).toBe(false);
          await awaitExpired('kv', k('t'));
          expect(await handle(1).kv.get(k('t'))).toBeUndefined();
          expect(await store.kv.setIfAbsent(k('t'), 'w', 30)).toBe(true);
          expect(await store.kv.get(k('t'))).toBe('w');
        });

        it('should not delete an expired value even when it matches, nor a newer value set after it', async () => {
          await store.kv.set(k('lock'), 'v', SERVER_TTL);
          await awaitExpired('kv', k('lock'));
          expect(await store.kv.deleteIfEquals(k('lock'), 'v')).toBe(false);
          await handle(1).kv.set(k('lock'), 'w', 30);
          expect(await store.kv.deleteIfEquals(k('lock'), 'v')).toBe(false);
          expect(await store.kv.get(k('lock'))).toBe('w');
        });

        it('should let an abandoned in-flight claim be taken again after its TTL', async () => {
          expect(await store.dedupe.claim(k('m'), SERVER_TTL)).toEqual({ state: 'new' });
          expect(await handle(1).dedupe.claim(k('m'), SERVER_TTL)).toEqual({ state: 'in-flight' });
          const left = await pttl('dedupe', k('m'));
          expect(left).toBeGreaterThan(0);
          expect(left).toBeLessThanOrEqual(SERVER_TTL * 1000); // the losing claim did not extend it
          await awaitExpired('dedupe', k('m'));
          expect(await store.dedupe.peek(k('m'))).toBeUndefined();
          expect(await handle(1).dedupe.claim(k('m'), 30)).toEqual({ state: 'new' });
        });

        it("should forget a done reply after the completion's TTL, not the claim's", async () => {
          await store.dedupe.claim(k('m'), 300);
          await store.dedupe.complete(k('m'), 'r', SERVER_TTL);
          expect(await pttl('dedupe', k('m'))).toBeLessThanOrEqual(SERVER_TTL * 1000);
          expect(await handle(1).dedupe.peek(k('m'))).toEqual({ state: 'done', reply: 'r' });
          await awaitExpired('dedupe', k('m'));
          expect(await store.dedupe.peek(k('m'))).toBeUndefined();
          expect(await store.dedupe.claim(k('m'), 30)).toEqual({ state: 'new' });
        });

        it('should keep the first digest for the whole TTL and free the key after it', async () => {
          const A = 'a'.repeat(64);
          const B = 'b'.repeat(64);
          expect(await store.bindings.bind(k('sig'), A, SERVER_TTL)).toBe('bound');
          expect(await handle(1).bindings.bind(k('sig'), B, SERVER_TTL)).toBe('other');
          expect(await store.bindings.bind(k('sig'), A, 300)).toBe('same');
          expect(await pttl('bind', k('sig'))).toBeLessThanOrEqual(SERVER_TTL * 1000); // a retry does not extend it
          await awaitExpired('bind', k('sig'));
          expect(await handle(1).bindings.bind(k('sig'), B, 30)).toBe('bound');
        });

        it("should end the counter window at the first increment's TTL", async () => {
          await store.counters.incrementWithin(k('w'), 1, 10, SERVER_TTL);
          await handle(1).counters.incrementWithin(k('w'), 1, 10, 300);
          expect(await pttl('counter', k('w'))).toBeLessThanOrEqual(SERVER_TTL * 1000);
          expect(await store.counters.get(k('w'))).toBe(2);
          await awaitExpired('counter', k('w'));
          expect(await store.counters.get(k('w'))).toBe(0);
          expect(await store.counters.incrementWithin(k('w'), 10, 10, 60)).toEqual({ allowed: true, value: 10 });
        });
      });

    // === lifecycle

    describe('ping / close', () => {
      it('should answer ping while open and reject it once closed', async () => {
        await expect(store.ping()).resolves.toBeUndefined();
        await store.close();
        await expect(store.ping()).rejects.toThrow();
      });

      it('should accept close twice', async () => {
        await store.close();
        await expect(store.close()).resolves.toBeUndefined();
      });
    });
  });
}
