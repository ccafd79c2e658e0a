/**
 * In-process adapter for every store port. The default for tests; state is lost on exit.
 *
 * @example const store = createMemoryStore(); await store.kv.set('k', 'v', 60);
 */
import type { Clock } from '../lib/clock';
import { systemClock } from '../lib/clock';
import type { CounterStore, DedupeClaim, DedupeStore, KeyValueStore, Store } from './ports';

interface Entry {
  value: string;
  /** epoch ms; undefined = never */
  expiresAt?: number;
}

// === Key-value

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

  private expiry(ttlSeconds?: number): number | undefined {
    return ttlSeconds === undefined ? undefined : this.clock.now() + ttlSeconds * 1000;
  }

  async get(key: string): Promise<string | undefined> {
    return this.live(key)?.value;
  }
  async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    this.map.set(key, { value, expiresAt: this.expiry(ttlSeconds) });
  }
  async setIfAbsent(key: string, value: string, ttlSeconds?: number): Promise<boolean> {
    if (this.live(key)) return false;
    this.map.set(key, { value, expiresAt: this.expiry(ttlSeconds) });
    return true;
  }
  async deleteIfEquals(key: string, expected: string): Promise<boolean> {
    const e = this.live(key);
    if (!e || e.value !== expected) return false;
    this.map.delete(key);
    return true;
  }
  async delete(key: string): Promise<void> {
    this.map.delete(key);
  }
}

// === De-duplication

const IN_FLIGHT = '\u0000in-flight';

export class MemoryDedupeStore implements DedupeStore {
  private readonly kv: MemoryKeyValueStore;
  constructor(clock: Clock = systemClock) {
    this.kv = new MemoryKeyValueStore(clock);
  }
  async claim(key: string, ttlSeconds: number): Promise<DedupeClaim> {
    if (await this.kv.setIfAbsent(key, IN_FLIGHT, ttlSeconds)) return { state: 'new' };
    return (await this.peek(key)) ?? { state: 'in-flight' };
  }
  async complete(key: string, reply: string, ttlSeconds: number): Promise<void> {
    await this.kv.set(key, reply, ttlSeconds);
  }
  async peek(key: string): Promise<DedupeClaim | undefined> {
    const v = await this.kv.get(key);
    if (v === undefined) return undefined;
    return v === IN_FLIGHT ? { state: 'in-flight' } : { state: 'done', reply: v };
  }
  async release(key: string): Promise<void> {
    await this.kv.deleteIfEquals(key, IN_FLIGHT);
  }
}

// === Counters

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
    const e = this.current(key);
    const value = (e?.value ?? 0) + by;
    if (value > limit) return { allowed: false, value: e?.value ?? 0 };
    this.map.set(key, { value, expiresAt: e?.expiresAt ?? this.clock.now() + ttlSeconds * 1000 });
    return { allowed: true, value };
  }
  async get(key: string): Promise<number> {
    return this.current(key)?.value ?? 0;
  }
}

// === The whole store

export function createMemoryStore(options: { clock?: Clock } = {}): Store {
  const clock = options.clock ?? systemClock;
  return {
    driver: 'memory',
    kv: new MemoryKeyValueStore(clock),
    dedupe: new MemoryDedupeStore(clock),
    counters: new MemoryCounterStore(clock),
    ping: async () => undefined,
    close: async () => undefined,
  };
}
