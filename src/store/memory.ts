/**
 * In-process adapter for every store port. The default for tests; state is lost on exit, and no
 * guarantee holds across processes (each process has its own maps). Within one process every
 * operation is atomic (no awaits inside), and expiry follows the injected clock.
 *
 * @example const store = createMemoryStore(); await store.kv.set('k', 'v', 60);
 * @see https://github.com/grammyjs/storages
 */
import type { Clock } from '../lib/clock';
import { systemClock } from '../lib/clock';
import type { Binding, BindingStore, CounterStore, DedupeClaim, DedupeStore, KeyValueStore, Store } from './ports';
import { ttlToMs, validateIncrement, validateKey, validateTtl, validateValue } from './validate-args';

/**
 * A Map whose entries may expire (epoch ms; `undefined` = never). An expired entry is gone for every
 * read, and expired entries are swept as new ones are written — from a queue in write order, so a
 * sweep costs O(1) amortised — so a long-running process does not keep every message it ever saw.
 */
class ExpiringMap<V> {
  private readonly map = new Map<string, { value: V; expiresAt?: number }>();
  private queue: { key: string; expiresAt: number }[] = [];
  private head = 0;

  /** The live entry (value and expiry), or `undefined` when absent or expired. */
  entry(key: string, now: number): { value: V; expiresAt?: number } | undefined {
    const e = this.map.get(key);
    if (e && e.expiresAt !== undefined && e.expiresAt <= now) {
      this.map.delete(key);
      return undefined;
    }
    return e;
  }
  get(key: string, now: number): V | undefined {
    return this.entry(key, now)?.value;
  }
  set(key: string, value: V, expiresAt: number | undefined, now: number): void {
    this.sweep(now);
    this.map.set(key, { value, expiresAt });
    if (expiresAt !== undefined) this.queue.push({ key, expiresAt });
  }
  delete(key: string): void {
    this.map.delete(key);
  }
  get size(): number {
    return this.map.size;
  }

  private sweep(now: number): void {
    const q = this.queue;
    while (this.head < q.length && q[this.head].expiresAt <= now) {
      const { key } = q[this.head++];
      const e = this.map.get(key);
      if (e && e.expiresAt !== undefined && e.expiresAt <= now) this.map.delete(key);
    }
    if (this.head > 1024 && this.head * 2 > q.length) {
      this.queue = q.slice(this.head);
      this.head = 0;
    }
  }
}

// === Key-value

/**
 * `KeyValueStore` in a Map; expired entries are dropped when read.
 *
 * @example const kv = new MemoryKeyValueStore(fixedClock(0)); await kv.set('a', '1', 10);
 * @see https://github.com/grammyjs/storages
 */
export class MemoryKeyValueStore implements KeyValueStore {
  private readonly map = new ExpiringMap<string>();
  constructor(private readonly clock: Clock = systemClock) {}

  private expiry(where: string, ttlSeconds?: number): number | undefined {
    if (ttlSeconds === undefined) return undefined;
    validateTtl(where, ttlSeconds);
    return this.clock.now() + ttlToMs(ttlSeconds);
  }

  async get(key: string): Promise<string | undefined> {
    validateKey('MemoryStore.kv.get', key);
    return this.map.get(key, this.clock.now());
  }
  async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    validateKey('MemoryStore.kv.set', key);
    validateValue('MemoryStore.kv.set', value);
    this.map.set(key, value, this.expiry('MemoryStore.kv.set', ttlSeconds), this.clock.now());
  }
  async setIfAbsent(key: string, value: string, ttlSeconds?: number): Promise<boolean> {
    validateKey('MemoryStore.kv.setIfAbsent', key);
    validateValue('MemoryStore.kv.setIfAbsent', value);
    const expiresAt = this.expiry('MemoryStore.kv.setIfAbsent', ttlSeconds);
    const now = this.clock.now();
    if (this.map.get(key, now) !== undefined) return false;
    this.map.set(key, value, expiresAt, now);
    return true;
  }
  async deleteIfEquals(key: string, expected: string): Promise<boolean> {
    validateKey('MemoryStore.kv.deleteIfEquals', key);
    validateValue('MemoryStore.kv.deleteIfEquals', expected);
    if (this.map.get(key, this.clock.now()) !== expected) return false;
    this.map.delete(key);
    return true;
  }
  async delete(key: string): Promise<void> {
    validateKey('MemoryStore.kv.delete', key);
    this.map.delete(key);
  }
}

// === De-duplication

/**
 * `DedupeStore` in a Map of `{ state, reply }` entries (a reply can be any string, no marker clash).
 *
 * @example const c = await new MemoryDedupeStore().claim('msg:1', 30); // { state: 'new' }
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export class MemoryDedupeStore implements DedupeStore {
  private readonly map = new ExpiringMap<DedupeClaim>();
  constructor(private readonly clock: Clock = systemClock) {}

  async claim(key: string, ttlSeconds: number): Promise<DedupeClaim> {
    validateKey('MemoryStore.dedupe.claim', key);
    validateTtl('MemoryStore.dedupe.claim', ttlSeconds);
    const now = this.clock.now();
    const current = this.map.get(key, now);
    if (current) return current;
    this.map.set(key, { state: 'in-flight' }, now + ttlToMs(ttlSeconds), now);
    return { state: 'new' };
  }
  async complete(key: string, reply: string, ttlSeconds: number): Promise<void> {
    validateKey('MemoryStore.dedupe.complete', key);
    validateValue('MemoryStore.dedupe.complete', reply);
    validateTtl('MemoryStore.dedupe.complete', ttlSeconds);
    const now = this.clock.now();
    this.map.set(key, { state: 'done', reply: reply }, now + ttlToMs(ttlSeconds), now);
  }
  async peek(key: string): Promise<DedupeClaim | undefined> {
    validateKey('MemoryStore.dedupe.peek', key);
    return this.map.get(key, this.clock.now());
  }
  async release(key: string): Promise<void> {
    validateKey('MemoryStore.dedupe.release', key);
    if (this.map.get(key, this.clock.now())?.state === 'in-flight') this.map.delete(key);
  }
  /** Live and not yet swept entries (for tests and diagnostics). */
  get size(): number {
    return this.map.size;
  }
}

// === Request bindings

/**
 * `BindingStore` in a Map of digests: the first digest of a key stays until it expires.
 *
 * @example await new MemoryBindingStore().bind('sig:1:2:abc', digest, 661); // 'bound'
 * @see https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
 */
export class MemoryBindingStore implements BindingStore {
  private readonly map = new ExpiringMap<string>();
  constructor(private readonly clock: Clock = systemClock) {}

  async bind(key: string, digest: string, ttlSeconds: number): Promise<Binding> {
    validateKey('MemoryStore.bindings.bind', key);
    validateValue('MemoryStore.bindings.bind', digest);
    validateTtl('MemoryStore.bindings.bind', ttlSeconds);
    const now = this.clock.now();
    const current = this.map.get(key, now);
    if (current !== undefined) return current === digest ? 'same' : 'other';
    this.map.set(key, digest, now + ttlToMs(ttlSeconds), now);
    return 'bound';
  }
}

// === Counters

/**
 * `CounterStore` in a Map; the window starts at the first allowed increment.
 *
 * @example await new MemoryCounterStore().incrementWithin('rate', 1, 60, 60); // { allowed: true, value: 1 }
 * @see https://github.com/grammyjs/storages
 */
export class MemoryCounterStore implements CounterStore {
  private readonly map = new ExpiringMap<number>();
  constructor(private readonly clock: Clock = systemClock) {}

  async incrementWithin(key: string, by: number, limit: number, ttlSeconds: number) {
    validateKey('MemoryStore.counters.incrementWithin', key);
    validateIncrement('MemoryStore.counters.incrementWithin', by, limit);
    validateTtl('MemoryStore.counters.incrementWithin', ttlSeconds);
    const now = this.clock.now();
    const current = this.map.entry(key, now);
    const value = (current?.value ?? 0) + by;
    if (value > limit) return { allowed: false, value: current?.value ?? 0 };
    // The window starts at the first allowed increment and keeps its end.
    this.map.set(key, value, current ? current.expiresAt : now + ttlToMs(ttlSeconds), now);
    return { allowed: true, value };
  }
  async get(key: string): Promise<number> {
    validateKey('MemoryStore.counters.get', key);
    return this.map.get(key, this.clock.now()) ?? 0;
  }
}

// === The whole store

/**
 * Every store port in memory. `ping()` rejects once the store is closed (so /healthz behaves as with
 * the real adapters); `close()` is idempotent. `backends` is empty: nothing to share with the ledger.
 *
 * @example const store = createMemoryStore({ clock: fixedClock(0) });
 * @see https://github.com/grammyjs/storages
 */
export function createMemoryStore(options: { clock?: Clock } = {}): Store & { readonly driver: 'memory'; readonly backends: Record<string, never> } {
  const clock = options.clock ?? systemClock;
  if (typeof clock?.now !== 'function') throw new TypeError('createMemoryStore: clock must have now()');
  let closed = false;
  return {
    driver: 'memory' as const,
    kv: new MemoryKeyValueStore(clock),
    dedupe: new MemoryDedupeStore(clock),
    bindings: new MemoryBindingStore(clock),
    counters: new MemoryCounterStore(clock),
    backends: {},
    ping: async function ping() {
      if (closed) throw new Error('MemoryStore: closed');
    },
    close: async function close() {
      closed = true;
    },
  };
}
