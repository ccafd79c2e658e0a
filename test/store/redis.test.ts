import Redis from 'ioredis';
import { RedisStore } from '../../src/store/redis';
import { runStoreContract } from './contract';
import { describeService } from './service-probe';

const REDIS_URL = process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Unique per run, so parallel runs never collide and cleanup removes exactly what we made. */
const PREFIX = `wechat-bot-test:${process.pid}:${Date.now().toString(36)}:`;

/** A client that fails at once instead of retrying when Redis is down (so CI fails fast). */
const adminClient = () => new Redis(REDIS_URL, { retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 2000 });

async function keysLeft(): Promise<string[]> {
  const admin = adminClient();
  try {
    return await admin.keys(`${PREFIX}*`);
  } finally {
    if (admin.status !== 'end') admin.disconnect(); // an ended client would arm a 2 s timer
  }
}

async function dropPrefix(): Promise<void> {
  const admin = adminClient();
  try {
    const keys = await admin.keys(`${PREFIX}*`);
    if (keys.length) await admin.del(...keys);
  } finally {
    if (admin.status !== 'end') admin.disconnect(); // an ended client would arm a 2 s timer
  }
}

describeService('RedisStore', [[REDIS_URL, 6379]], () => {
  runStoreContract('RedisStore', async () => RedisStore.connect(REDIS_URL, { prefix: PREFIX }), dropPrefix, {
    clockExpiry: false, // Redis expires keys by its own clock
    openPeer: async () => RedisStore.connect(REDIS_URL, { prefix: PREFIX }),
    serverPttl: async (store, kind, key) => (store as RedisStore).client.pttl(`${PREFIX}${kind}:${key}`),
  });

  describe('RedisStore expiry (Redis server time)', () => {
    let store: RedisStore;
    beforeEach(async () => {
      store = await RedisStore.connect(REDIS_URL, { prefix: `${PREFIX}ttl:` });
    });
    afterEach(async () => {
      await store.close();
    });

    it('should hand every TTL to Redis in milliseconds', async () => {
      await store.kv.set('a', 'v', 30);
      await store.kv.setIfAbsent('b', 'v', 1.5);
      await store.dedupe.claim('m', 20);
      await store.counters.incrementWithin('c', 1, 5, 60);
      await store.counters.incrementWithin('c', 1, 5, 1); // later increments keep the first TTL
      const pttl = (k: string) => store.client.pttl(`${PREFIX}ttl:${k}`);
      expect(await pttl('kv:a')).toBeGreaterThan(29_000);
      expect(await pttl('kv:a')).toBeLessThanOrEqual(30_000);
      expect(await pttl('kv:b')).toBeGreaterThan(1_000);
      expect(await pttl('kv:b')).toBeLessThanOrEqual(1_500);
      expect(await pttl('dedupe:m')).toBeGreaterThan(19_000);
      expect(await pttl('counter:c')).toBeGreaterThan(59_000);
      await store.kv.set('a', 'w');
      expect(await pttl('kv:a')).toBe(-1); // set without TTL makes it persistent
    });

    it('should really expire a key once its TTL has passed in Redis time', async () => {
      await store.kv.set('short', 'v', 0.05);
      expect(await store.kv.setIfAbsent('short', 'w', 0.05)).toBe(false);
      const deadline = Date.now() + 3_000;
      while ((await store.kv.get('short')) !== undefined && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(await store.kv.get('short')).toBeUndefined();
      expect(await store.kv.setIfAbsent('short', 'w', 30)).toBe(true);
    });
  });

  describe('RedisStore.connect', () => {
    it('should fail with the host only, never the password, when Redis cannot be reached', async () => {
      const error = await RedisStore.connect('redis://:s3cret-pw@127.0.0.1:1', { prefix: PREFIX }).catch((e: Error) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toContain('127.0.0.1:1');
      expect(JSON.stringify({ m: (error as Error).message, c: String((error as Error).cause) })).not.toContain('s3cret-pw');
    });

    it('should reject a URL that is not redis://', async () => {
      await expect(RedisStore.connect('http://127.0.0.1:6379')).rejects.toThrow(TypeError);
    });
  });

  describe('RedisStore.fromClient', () => {
    it('should use a client it does not own and leave it open on close', async () => {
      const client = adminClient();
      const store = RedisStore.fromClient(client, { prefix: `${PREFIX}shared:` });
      await store.kv.set('k', 'v', 30);
      expect(await client.get(`${PREFIX}shared:kv:k`)).toBe('v');
      await store.close();
      expect(await client.ping()).toBe('PONG');
      await expect(store.ping()).rejects.toThrow();
      if (client.status !== 'end') client.disconnect();
    });

    it('should reload its Lua scripts after SCRIPT FLUSH', async () => {
      const store = await RedisStore.connect(REDIS_URL, { prefix: `${PREFIX}flush:` });
      await store.kv.set('k', 'v', 30);
      await store.client.script('FLUSH');
      expect(await store.kv.deleteIfEquals('k', 'v')).toBe(true);
      expect(await store.dedupe.claim('m', 30)).toEqual({ state: 'new' });
      await store.close();
    });
  });

  describe('cleanup', () => {
    it('should leave no key behind once the prefix is dropped', async () => {
      await dropPrefix();
      expect(await keysLeft()).toEqual([]);
    });
  });
});
