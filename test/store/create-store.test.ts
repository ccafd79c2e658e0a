import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { Pool } from 'pg';
import { fixedClock } from '../../src/lib/clock';
import { createStore, type CompositeStore } from '../../src/store/create-store';
import { PostgresStore } from '../../src/store/postgres';
import { RedisStore } from '../../src/store/redis';
import { SqliteStore } from '../../src/store/sqlite';
import { runStoreContract } from './contract';
import { describeService } from './service-probe';

const REDIS_URL = process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const RUN = `wbt_cs_${process.pid}_${Date.now().toString(36)}`;
const REDIS_PREFIX = `wechat-bot-test:${RUN}:`;

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'wechat-bot-create-store-'));
let seq = 0;
const tmpFile = () => path.join(tmpRoot, `s${++seq}`, 'bot.sqlite');

afterAll(() => {
  fs.rmSync(tmpRoot, { recursive: true, force: true });
});

async function dropRedisPrefix(): Promise<void> {
  const admin = new Redis(REDIS_URL, { retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 2000 });
  try {
    const keys = await admin.keys(`${REDIS_PREFIX}*`);
    if (keys.length) await admin.del(...keys);
  } finally {
    if (admin.status !== 'end') admin.disconnect(); // an ended client would arm a 2 s timer
  }
}

async function dropPgSchema(): Promise<void> {
  const pool = new Pool({ connectionString: DATABASE_URL, max: 1 });
  try {
    await pool.query(`DROP SCHEMA IF EXISTS ${RUN} CASCADE`);
  } finally {
    await pool.end();
  }
}

describe('createStore', () => {
  it('should open SQLite by default, at sqlitePath', async () => {
    const file = tmpFile();
    const store = await createStore({ sqlitePath: file });
    expect(store.driver).toBe('sqlite');
    expect(store).toBeInstanceOf(SqliteStore);
    expect(store.backends.sqlite?.file).toBe(file);
    expect(fs.existsSync(file)).toBe(true);
    expect(store.backends.sqlite!.db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    await store.close();
    const full = await createStore({ sqlitePath: file, sqliteSynchronous: 'FULL' });
    expect(full.backends.sqlite!.db.pragma('synchronous', { simple: true })).toBe(2);
    await full.close();
  });

  it('should honour driver memory and driver sqlite even when URLs are set', async () => {
    const memory = await createStore({ sqlitePath: tmpFile(), driver: 'memory', redisUrl: 'redis://127.0.0.1:1' });
    expect(memory.driver).toBe('memory');
    expect(memory.backends).toEqual({});
    await memory.close();
    const sqlite = await createStore({ sqlitePath: tmpFile(), driver: 'sqlite', databaseUrl: 'postgres://127.0.0.1:1/x' });
    expect(sqlite.driver).toBe('sqlite');
    await sqlite.close();
  });

  it('should pass the clock to the embedded adapters', async () => {
    const clock = fixedClock(0);
    const store = await createStore({ sqlitePath: tmpFile(), clock });
    await store.kv.set('k', 'v', 1);
    clock.advance(1_000);
    expect(await store.kv.get('k')).toBeUndefined();
    await store.close();
  });

  it('should reject bad options', async () => {
    await expect(createStore({ sqlitePath: '' })).rejects.toThrow(TypeError);
    await expect(createStore({ sqlitePath: tmpFile(), driver: 'redis' as never })).rejects.toThrow(TypeError);
    await expect(createStore(undefined as never)).rejects.toThrow(TypeError);
  });

  it('should fail without leaving SQLite open when Redis is unreachable', async () => {
    const file = tmpFile();
    await expect(createStore({ sqlitePath: file, redisUrl: 'redis://:pw@127.0.0.1:1' })).rejects.toThrow(/127\.0\.0\.1:1/);
  });
});

describeService(
  'createStore with PostgreSQL and Redis',
  [
    [DATABASE_URL, 5432],
    [REDIS_URL, 6379],
  ],
  () => {
    afterAll(async () => {
      await dropRedisPrefix();
      await dropPgSchema();
    });

    /** Where the rewards ledger would go, read the way the rewards code reads it. */
    const ledgerHome = (store: CompositeStore) => (store.backends.postgres ? 'postgres' : store.backends.sqlite ? 'sqlite' : 'memory');

    it('should put everything on PostgreSQL when only DATABASE_URL is set', async () => {
      const store = await createStore({ sqlitePath: tmpFile(), databaseUrl: DATABASE_URL, postgresSchema: RUN });
      expect(store.driver).toBe('postgres');
      expect(store).toBeInstanceOf(PostgresStore);
      expect(Object.keys(store.backends)).toEqual(['postgres']);
      expect(ledgerHome(store)).toBe('postgres');
      await store.kv.set('k', 'v');
      const { rows } = await store.backends.postgres!.pool.query("SELECT value FROM store_kv WHERE key = 'k'");
      expect(rows).toEqual([{ value: 'v' }]);
      await store.close();
    });

    it('should put kv/dedupe/counters on Redis and name PostgreSQL as the ledger home when both are set', async () => {
      const store = await createStore({
        sqlitePath: tmpFile(),
        databaseUrl: DATABASE_URL,
        redisUrl: REDIS_URL,
        redisPrefix: REDIS_PREFIX,
        postgresSchema: RUN,
      });
      expect(store.driver).toBe('redis+postgres');
      expect(store.backends.redis).toBeInstanceOf(RedisStore);
      expect(store.backends.postgres).toBeInstanceOf(PostgresStore);
      expect(store.backends.sqlite).toBeUndefined();
      await store.dedupe.claim('m', 30);
      expect(await store.backends.redis!.client.get(`${REDIS_PREFIX}dedupe:m`)).toBe('i');
      await store.ping();
      await store.close();
      await expect(store.ping()).rejects.toThrow();
    });

    it('should pair Redis with SQLite when only REDIS_URL is set', async () => {
      const file = tmpFile();
      const store = await createStore({ sqlitePath: file, redisUrl: REDIS_URL, redisPrefix: REDIS_PREFIX });
      expect(store.driver).toBe('redis+sqlite');
      expect(store.backends.sqlite?.file).toBe(file);
      expect(ledgerHome(store)).toBe('sqlite');
      await store.counters.incrementWithin('c', 1, 5, 60);
      expect(await store.backends.redis!.client.get(`${REDIS_PREFIX}counter:c`)).toBe('1');
      expect(await store.backends.sqlite!.counters.get('c')).toBe(0);
      await store.close();
    });

    it('should close Redis again when PostgreSQL is unreachable', async () => {
      await expect(createStore({ sqlitePath: tmpFile(), redisUrl: REDIS_URL, redisPrefix: REDIS_PREFIX, databaseUrl: 'postgres://u:pw@127.0.0.1:1/x' })).rejects.toThrow(
        /cannot reach PostgreSQL/,
      );
    });

    runStoreContract(
      'createStore(redis+postgres)',
      async () => createStore({ sqlitePath: tmpFile(), databaseUrl: DATABASE_URL, redisUrl: REDIS_URL, redisPrefix: REDIS_PREFIX, postgresSchema: RUN }),
      undefined,
      {
        clockExpiry: false,
        serverPttl: async (store, kind, key) => (store as CompositeStore).backends.redis!.client.pttl(`${REDIS_PREFIX}${kind}:${key}`),
      },
    );
  },
);
