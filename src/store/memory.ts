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
import type { CounterStore, DedupeClaim, DedupeStore, KeyValueStore, Store } from './ports';
import { ttlToMs, validateIncrement, validateKey, validateTtl, validateValue } from './validate-args';

interface Entry {
  value: string;
  /** epoch ms; undefined = never */
  expiresAt?: number;
}

// === Key-value

/**
 * `KeyValueStore` in a Map; expired entries are dropped when read.
 *
 * @example const kv = new MemoryKeyValueStore(fixedClock(0)); await kv.set('a', '1', 10);
 * @see https://github.com/grammyjs/storages
 */
export class MemoryKeyValueStore implements KeyValueStore {
  private readonly map = new Map<string, Entry>();
  constructor(private readonly clock: Clock = systemClock) {}

  private live(key: string): Entry | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    if (e.expiresAt !== undefined && e.expiresAt <= this.clock.now()) {
      this.map.delete(key);
      return undefined;
    }
    return e;
  }

  private expiry(where: string, ttlSeconds?: number): number | undefined {
    if (ttlSeconds === undefined) return undefined;
    validateTtl(where, ttlSeconds);
    return this.clock.now() + ttlToMs(ttlSeconds);
  }

  async get(key: string): Promise<string | undefined> {
    validateKey('MemoryStore.kv.get', key);
    return this.live(key)?.value;
  }
  async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    validateKey('MemoryStore.kv.set', key);
    validateValue('MemoryStore.kv.set', value);
    this.map.set(key, { value: value, expiresAt: this.expiry('MemoryStore.kv.set', ttlSeconds) });
  }
  async setIfAbsent(key: string, value: string, ttlSeconds?: number): Promise<boolean> {
    validateKey('MemoryStore.kv.setIfAbsent', key);
    validateValue('MemoryStore.kv.setIfAbsent', value);
    const expiresAt = this.expiry('MemoryStore.kv.setIfAbsent', ttlSeconds);
    if (this.live(key)) return false;
    this.map.set(key, { value: value, expiresAt });
    return true;
  }
  async deleteIfEquals(key: string, expected: string): Promise<boolean> {
    validateKey('MemoryStore.kv.deleteIfEquals', key);
    validateValue('MemoryStore.kv.deleteIfEquals', expected);
    const e = this.live(key);
    if (!e || e.value !== expected) return false;
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
  private readonly map = new Map<string, { claim: DedupeClaim; expiresAt: number }>();
  constructor(private readonly clock: Clock = systemClock) {}

  private live(key: string): DedupeClaim | undefined {
    const e = this.map.get(key);
    if (e && e.expiresAt <= this.clock.now()) {
      this.map.delete(key);
      return undefined;
    }
    return e?.claim;
  }
  async claim(key: string, ttlSeconds: number): Promise<DedupeClaim> {
    validateKey('MemoryStore.dedupe.claim', key);
    validateTtl('MemoryStore.dedupe.claim', ttlSeconds);
    const current = this.live(key);
    if (current) return current;
    this.map.set(key, { claim: { state: 'in-flight' }, expiresAt: this.clock.now() + ttlToMs(ttlSeconds) });
    return { state: 'new' };
  }
  async complete(key: string, reply: string, ttlSeconds: number): Promise<void> {
    validateKey('MemoryStore.dedupe.complete', key);
    validateValue('MemoryStore.dedupe.complete', reply);
    validateTtl('MemoryStore.dedupe.complete', ttlSeconds);
    this.map.set(key, { claim: { state: 'done', reply: reply }, expiresAt: this.clock.now() + ttlToMs(ttlSeconds) });
  }
  async peek(key: string): Promise<DedupeClaim | undefined> {
    validateKey('MemoryStore.dedupe.peek', key);
    return this.live(key);
  }
  async release(key: string): Promise<void> {
    validateKey('MemoryStore.dedupe.release', key);
    if (this.live(key)?.state === 'in-flight') this.map.delete(key);
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
  private readonly map = new Map<string, { value: number; expiresAt: number }>();
  constructor(private readonly clock: Clock = systemClock) {}

  private current(key: string): { value: number; expiresAt: number } | undefined {
    const e = this.map.get(key);
    if (e && e.expiresAt <= this.clock.now()) {
      this.map.delete(key);
      return undefined;
    }
    return e;
  }
  async incrementWithin(key: string, by: number, limit: number, ttlSeconds: number) {
    validateKey('MemoryStore.counters.incrementWithin', key);
    validateIncrement('MemoryStore.counters.incrementWithin', by, limit);
    validateTtl('MemoryStore.counters.incrementWithin', ttlSeconds);
    const e = this.current(key);
    const value = (e?.value ?? 0) + by;
    if (value > limit) return { allowed: false, value: e?.value ?? 0 };
    this.map.set(key, { value, expiresAt: e?.expiresAt ?? this.clock.now() + ttlToMs(ttlSeconds) });
    return { allowed: true, value };
  }
  async get(key: string): Promise<number> {
    validateKey('MemoryStore.counters.get', key);
    return this.current(key)?.value ?? 0;
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
