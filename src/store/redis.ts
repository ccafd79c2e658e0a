/**
 * Redis adapter (ioredis) for the kv, dedupe and counter ports: what many bot instances share for
 * de-duplication claims and cached replies, the access-token cache and its refresh lock, and
 * rate-limit counters.
 *
 * Guarantees across processes and instances: every write that must be atomic is one Redis command or
 * one Lua script (`SET NX PX`, compare-and-delete, claim, increment-within-limit), and Redis runs
 * each of them alone, so they hold for any number of clients.
 *
 * **Expiry uses Redis server time, not an injected clock.** TTLs are handed to Redis (`PX`), which
 * expires keys by its own clock; a test clock cannot move them. Durability is whatever the server is
 * configured for (RDB/AOF): keep the money ledger in SQLite or PostgreSQL, never here.
 *
 * @example
 * const store = await RedisStore.connect(process.env.REDIS_URL!, { prefix: 'mybot:' });
 * await store.kv.setIfAbsent('token-lock', instanceId, 10);
 * await store.close();
 * @see https://redis.io/docs/latest/commands/set/
 */
import { createHash } from 'node:crypto';
import Redis from 'ioredis';
import type { Binding, BindingStore, CounterStore, DedupeClaim, DedupeStore, KeyValueStore, Store } from './ports';
import { redactUrl, urlHost } from './redact-url';
import { ttlToMs, validateIncrement, validateKey, validateTtl, validateValue } from './validate-args';

/** The ioredis client type (re-exported so callers need not import ioredis). */
export type RedisClient = Redis;

// === Lua scripts

/** A Lua script run with EVALSHA, falling back to EVAL once when the server has not cached it. */
class LuaScript {
  private readonly sha: string;
  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }
  async run(client: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.includes('NOSCRIPT')) throw error;
      return client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

const DELETE_IF_EQUALS = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`);

/** Returns '' when the claim is new, else the stored value ('i' or 'd:<reply>'). */
const CLAIM = new LuaScript(`
if redis.call('SET', KEYS[1], 'i', 'NX', 'PX', ARGV[1]) then return '' end
return redis.call('GET', KEYS[1])`);

/** Returns false when the key was bound now, else the digest it is bound to. */
const BIND = new LuaScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
return redis.call('GET', KEYS[1])`);

/** Returns { allowed (0|1), value }; the key's TTL starts at its first allowed increment. */
const INCREMENT_WITHIN = new LuaScript(`
local cur = redis.call('GET', KEYS[1])
local v = 0
if cur then v = tonumber(cur) end
local by = tonumber(ARGV[1])
if v + by > tonumber(ARGV[2]) then return {0, v} end
local nv = redis.call('INCRBY', KEYS[1], by)
if not cur then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return {1, nv}`);

const IN_FLIGHT = 'i';
const DONE_PREFIX = 'd:';

function decodeClaim(raw: string | null): DedupeClaim | undefined {
  if (raw === null) return undefined;
  if (raw.startsWith(DONE_PREFIX)) return { state: 'done', reply: raw.slice(DONE_PREFIX.length) };
  return { state: 'in-flight' };
}

// === Key-value

/**
 * `KeyValueStore` on Redis strings under `<prefix>kv:`; `setIfAbsent` is `SET NX PX`,
 * `deleteIfEquals` a Lua compare-and-delete. TTLs are in Redis time.
 *
 * @example await store.kv.set('token', json, 7000);
 * @see https://redis.io/docs/latest/develop/use/patterns/distributed-locks/
 */
export class RedisKeyValueStore implements KeyValueStore {
  constructor(
    private readonly client: Redis,
    private readonly prefix: string,
  ) {}
  private k(key: string): string {
    return `${this.prefix}kv:${key}`;
  }
  async get(key: string): Promise<string | undefined> {
    validateKey('RedisStore.kv.get', key);
    return (await this.client.get(this.k(key))) ?? undefined;
  }
  async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    validateKey('RedisStore.kv.set', key);
    validateValue('RedisStore.kv.set', value);
    if (ttlSeconds === undefined) {
      await this.client.set(this.k(key), value);
      return;
    }
    validateTtl('RedisStore.kv.set', ttlSeconds);
    await this.client.set(this.k(key), value, 'PX', ttlToMs(ttlSeconds));
  }
  async setIfAbsent(key: string, value: string, ttlSeconds?: number): Promise<boolean> {
    validateKey('RedisStore.kv.setIfAbsent', key);
    validateValue('RedisStore.kv.setIfAbsent', value);
    if (ttlSeconds === undefined) return (await this.client.set(this.k(key), value, 'NX')) === 'OK';
    validateTtl('RedisStore.kv.setIfAbsent', ttlSeconds);
    return (await this.client.set(this.k(key), value, 'PX', ttlToMs(ttlSeconds), 'NX')) === 'OK';
  }
  async deleteIfEquals(key: string, expected: string): Promise<boolean> {
    validateKey('RedisStore.kv.deleteIfEquals', key);
    validateValue('RedisStore.kv.deleteIfEquals', expected);
    return Number(await DELETE_IF_EQUALS.run(this.client, [this.k(key)], [expected])) === 1;
  }
  async delete(key: string): Promise<void> {
    validateKey('RedisStore.kv.delete', key);
    await this.client.del(this.k(key));
  }
}

// === De-duplication

/**
 * `DedupeStore` on Redis strings under `<prefix>dedupe:` (`'i'` in flight, `'d:<reply>'` done); the
 * claim is `SET key i NX PX ttl` plus a read of the winner's value, in one Lua script.
 *
 * @example const c = await store.dedupe.claim('msg:123', 30);
 * @see https://redis.io/docs/latest/commands/set/
 */
export class RedisDedupeStore implements DedupeStore {
  constructor(
    private readonly client: Redis,
    private readonly prefix: string,
  ) {}
  private k(key: string): string {
    return `${this.prefix}dedupe:${key}`;
  }
  async claim(key: string, ttlSeconds: number): Promise<DedupeClaim> {
    validateKey('RedisStore.dedupe.claim', key);
    validateTtl('RedisStore.dedupe.claim', ttlSeconds);
    const raw = (await CLAIM.run(this.client, [this.k(key)], [ttlToMs(ttlSeconds)])) as string | null;
    if (raw === '') return { state: 'new' };
    return decodeClaim(raw) ?? { state: 'in-flight' };
  }
  async complete(key: string, reply: string, ttlSeconds: number): Promise<void> {
    validateKey('RedisStore.dedupe.complete', key);
    validateValue('RedisStore.dedupe.complete', reply);
    validateTtl('RedisStore.dedupe.complete', ttlSeconds);
    await this.client.set(this.k(key), DONE_PREFIX + reply, 'PX', ttlToMs(ttlSeconds));
  }
  async peek(key: string): Promise<DedupeClaim | undefined> {
    validateKey('RedisStore.dedupe.peek', key);
    return decodeClaim(await this.client.get(this.k(key)));
  }
  async release(key: string): Promise<void> {
    validateKey('RedisStore.dedupe.release', key);
    await DELETE_IF_EQUALS.run(this.client, [this.k(key)], [IN_FLIGHT]);
  }
}

// === Request bindings

/**
 * `BindingStore` on Redis strings under `<prefix>bind:` holding the digest; `SET NX PX` plus a read
 * of the winner's digest, in one Lua script.
 *
 * @example await store.bindings.bind('sig:1714036504:1514711492:f464…', digest, 661) // → 'bound'
 * @see https://redis.io/docs/latest/commands/set/
 */
export class RedisBindingStore implements BindingStore {
  constructor(
    private readonly client: Redis,
    private readonly prefix: string,
  ) {}
  async bind(key: string, digest: string, ttlSeconds: number): Promise<Binding> {
    validateKey('RedisStore.bindings.bind', key);
    validateValue('RedisStore.bindings.bind', digest);
    validateTtl('RedisStore.bindings.bind', ttlSeconds);
    const bound = (await BIND.run(this.client, [`${this.prefix}bind:${key}`], [digest, ttlToMs(ttlSeconds)])) as string | null;
    if (bound === null) return 'bound';
    return bound === digest ? 'same' : 'other';
  }
}

// === Counters

/**
 * `CounterStore` on Redis integers under `<prefix>counter:`; `incrementWithin` is one Lua script
 * (read, compare with the limit, INCRBY, PEXPIRE on the first increment).
 *
 * @example await store.counters.incrementWithin('redpack:minute', 1, 100, 60);
 * @see https://redis.io/docs/latest/commands/incrby/#pattern-rate-limiter-1
 */
export class RedisCounterStore implements CounterStore {
  constructor(
    private readonly client: Redis,
    private readonly prefix: string,
  ) {}
  private k(key: string): string {
    return `${this.prefix}counter:${key}`;
  }
  async incrementWithin(key: string, by: number, limit: number, ttlSeconds: number): Promise<{ allowed: boolean; value: number }> {
    validateKey('RedisStore.counters.incrementWithin', key);
    validateIncrement('RedisStore.counters.incrementWithin', by, limit);
    validateTtl('RedisStore.counters.incrementWithin', ttlSeconds);
    const [allowed, value] = (await INCREMENT_WITHIN.run(this.client, [this.k(key)], [by, limit, ttlToMs(ttlSeconds)])) as [number, number];
    return { allowed: allowed === 1, value: Number(value) };
  }
  async get(key: string): Promise<number> {
    validateKey('RedisStore.counters.get', key);
    return Number((await this.client.get(this.k(key))) ?? 0);
  }
}

// === The whole store

/** Options of {@link RedisStore.connect} and {@link RedisStore.fromClient}. */
export interface RedisStoreOptions {
  /** Put before every key, so several bots (or test runs) share one Redis. Default `wechat-bot:`. */
  prefix?: string;
}

/**
 * kv, dedupe and counters on Redis. Expiry is by Redis server time (there is no clock option: an
 * injected clock could not move Redis expiry, so accepting one would mislead).
 *
 * @example
 * const store = await RedisStore.connect('redis://127.0.0.1:6379', { prefix: 'bot:' });
 * // or share a client you own (close() then leaves it open):
 * const shared = RedisStore.fromClient(new Redis(url), { prefix: 'bot:' });
 * @see https://github.com/redis/ioredis
 */
export class RedisStore implements Store {
  readonly driver = 'redis' as const;
  readonly kv: RedisKeyValueStore;
  readonly dedupe: RedisDedupeStore;
  readonly bindings: RedisBindingStore;
  readonly counters: RedisCounterStore;
  readonly backends: { readonly redis: RedisStore };
  private closed = false;

  private constructor(
    /** The ioredis client (for pub/sub notifications and the like; do not quit it yourself). */
    readonly client: Redis,
    /** The key prefix of this store. */
    readonly prefix: string,
    private readonly ownsClient: boolean,
  ) {
    this.kv = new RedisKeyValueStore(client, prefix);
    this.dedupe = new RedisDedupeStore(client, prefix);
    this.bindings = new RedisBindingStore(client, prefix);
    this.counters = new RedisCounterStore(client, prefix);
    this.backends = { redis: this };
  }

  /**
   * Connects to `url` (`redis://[:password@]host:port[/db]`, or `rediss://` for TLS) and waits until
   * the server answers. The error never contains the URL (it may hold a password).
   *
   * @example const store = await RedisStore.connect(process.env.REDIS_URL!);
   * @see https://github.com/redis/ioredis#connect-to-redis
   */
  static async connect(url: string, options: RedisStoreOptions = {}): Promise<RedisStore> {
    if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) throw new TypeError('RedisStore.connect: url must start with redis:// or rediss://');
    const prefix = checkPrefix(options.prefix);
    let ready = false;
    const client = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 2,
      // no retries before the first success (connect() fails fast and leaves no timer behind);
      // afterwards reconnect with a capped backoff
      retryStrategy: (times) => (ready ? Math.min(times * 100, 2000) : null),
    });
    let lastError: unknown;
    client.on('error', function rememberConnectionError(error: unknown) {
      // ioredis reconnects by itself; failed commands reject to their callers
      lastError = error;
    });
    try {
      await client.connect();
      await client.ping();
      ready = true;
    } catch (error) {
      // after a failed first connect the client has already ended; disconnect() would arm a 2 s timer
      if (client.status !== 'end') client.disconnect();
      const cause = lastError ?? error;
      throw new Error(`RedisStore.connect: cannot reach Redis at ${urlHost(url, 6379)}`, { cause: redactUrl(cause, url) });
    }
    return new RedisStore(client, prefix, true);
  }

  /**
   * Wraps a client you created and own; `close()` will not quit it.
   *
   * @example const store = RedisStore.fromClient(redis, { prefix: 'bot:' });
   * @see https://github.com/redis/ioredis
   */
  static fromClient(client: Redis, options: RedisStoreOptions = {}): RedisStore {
    if (!client || typeof client.evalsha !== 'function') throw new TypeError('RedisStore.fromClient: client must be an ioredis client');
    return new RedisStore(client, checkPrefix(options.prefix), false);
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Error('RedisStore: closed');
    await this.client.ping();
  }

  /** Quits the client when this store created it (idempotent). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsClient) await this.client.quit().catch(() => this.client.disconnect());
  }
}

function checkPrefix(prefix: string | undefined): string {
  if (prefix === undefined) return 'wechat-bot:';
  if (typeof prefix !== 'string') throw new TypeError('RedisStore: prefix must be a string');
  return prefix;
}
