/**
 * The staff guard (`staff-auth.ts`) as `createWebhook` mounts it: lockout after wrong tokens (429 with
 * Retry-After, the right token refused meanwhile), the audit lines (never the token), expiry on the
 * injected clock, doubling, X-Forwarded-For spoofing, the global budget, and a lockout shared by two
 * instances on one SQLite file, one Redis and one PostgreSQL.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Router } from '@koa/router';
import Redis from 'ioredis';
import { Pool } from 'pg';
import request from 'supertest';
import { fixedClock } from '../../../src/lib/clock';
import { parseTrustedProxies } from '../../../src/lib/client-address';
import { createMemoryStore } from '../../../src/store/memory';
import type { Store } from '../../../src/store/ports';
import { PostgresStore } from '../../../src/store/postgres';
import { RedisStore } from '../../../src/store/redis';
import { SqliteStore } from '../../../src/store/sqlite';
import { bearerVerdict } from '../../../src/wechat/koa/staff-auth';
import { describeService } from '../../store/service-probe';
import { createTestWebhook, type TestWebhook, type TestWebhookOverrides } from '../../helpers/test-webhook';

const ADMIN = 'staff-secret-Q7w9Zr4Lm2Xp8Vb3';
const WRONG = 'guess-0000-Q7w9Zr4Lm2Xp8Vb3';

/** A staff route that says it ran. */
function pingRouter(): Router {
  const router = new Router({ prefix: '/admin/test' });
  router.post('/ping', (ctx) => {
    ctx.body = { ok: true, ran: true };
  });
  return router;
}

function staffApp(overrides: TestWebhookOverrides = {}): TestWebhook {
  return createTestWebhook({ adminToken: ADMIN, staffRouters: [pingRouter()], ...overrides });
}

const ping = (t: TestWebhook, token?: string, xff?: string) => {
  let req = request(t.callback).post('/admin/test/ping');
  if (token !== undefined) req = req.set('Authorization', `Bearer ${token}`);
  if (xff !== undefined) req = req.set('X-Forwarded-For', xff);
  return req;
};

const auditLines = (t: TestWebhook) => t.logLines.filter((l) => l.includes('"audit":"staff_auth"')).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('bearerVerdict', () => {
  it.each([
    [undefined, 'missing'],
    ['', 'missing'],
    [ADMIN, 'malformed'],
    [`Basic ${ADMIN}`, 'malformed'],
    [`Bearer ${ADMIN} extra`, 'malformed'],
    [`Bearer ${ADMIN.slice(0, -1)}`, 'wrong'],
    [`Bearer ${WRONG}`, 'wrong'],
    [`Bearer ${ADMIN}`, 'ok'],
    [`bearer ${ADMIN}`, 'ok'],
  ])('should classify %p as %s', (header, verdict) => {
    expect(bearerVerdict(header, ADMIN)).toBe(verdict);
  });
});

describe('staffAuth through createWebhook', () => {
  it("should name the access log's reqId (the response's X-Request-Id) on its audit line", async () => {
    const t = staffApp();
    const res = await ping(t, WRONG).expect(401);
    expect(res.headers['x-request-id']).toEqual(expect.any(String));
    expect(auditLines(t)).toEqual([expect.objectContaining({ reqId: res.headers['x-request-id'], reason: 'wrong' })]);
  });

  it('should let the right token through and answer 401 with WWW-Authenticate to a wrong one', async () => {
    const t = staffApp();
    await ping(t, ADMIN).expect(200, { ok: true, ran: true });
    const res = await ping(t, WRONG).expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.body).toEqual({ ok: false, message: expect.stringMatching(/valid admin bearer token/) });
  });

  it('should lock an address out after 10 failures: 429 with Retry-After, even for the right token', async () => {
    const t = staffApp();
    for (let i = 1; i <= 9; i++) await ping(t, `${WRONG}${i}`).expect(401);
    const tenth = await ping(t, WRONG).expect(429);
    expect(tenth.headers['retry-after']).toBe('300');
    const right = await ping(t, ADMIN).expect(429);
    expect(right.body).toEqual({ ok: false, message: expect.stringMatching(/retry after 300 s/) });
    expect(right.text).not.toContain('ran');
    t.clock.advance(120_000);
    expect((await ping(t, ADMIN).expect(429)).headers['retry-after']).toBe('180');
  });

  it('should write one audit line per refused attempt with address, path, reason and count, and never the token', async () => {
    const t = staffApp();
    await ping(t).expect(401);
    await request(t.callback).post('/admin/test/ping').set('Authorization', `Token ${WRONG}`).expect(401);
    for (let i = 0; i < 7; i++) await ping(t, WRONG).expect(401);
    await ping(t, WRONG).expect(429);
    await ping(t, ADMIN).expect(429);
    const lines = auditLines(t);
    expect(lines.map((l) => [l.reason, l.failures])).toEqual([
      ['missing', 1],
      ['malformed', 2],
      ...Array.from({ length: 7 }, (_, i) => ['wrong', i + 3]),
      ['wrong', 10],
      ['locked_out', 10],
    ]);
    for (const l of lines) {
      expect(l).toMatchObject({ level: 40, address: '127.0.0.1', method: 'POST', path: '/admin/test/ping' });
    }
    expect(lines[9]).toMatchObject({ lockedForSeconds: 300 });
    expect(new Set(lines.map((l) => l.reqId)).size).toBe(lines.length); // each names its own request
    expect(lines[10]).toMatchObject({ lockedForSeconds: 300 });
    const all = t.logLines.join('\n');
    // Neither token, nor any 6-character piece of either, reaches the log.
    for (const secret of [ADMIN, WRONG]) for (let i = 0; i + 6 <= secret.length; i++) expect(all).not.toContain(secret.slice(i, i + 6));
  });

  it('should end the lockout when it expires (injected clock), and double the next one', async () => {
    const t = staffApp();
    for (let i = 0; i < 10; i++) await ping(t, WRONG);
    await ping(t, ADMIN).expect(429);
    t.clock.advance(300_000);
    await ping(t, ADMIN).expect(200);
    // Still inside the 15-minute window: the next failure locks again, for twice as long.
    const again = await ping(t, WRONG).expect(429);
    expect(again.headers['retry-after']).toBe('600');
    t.clock.advance(600_000);
    await ping(t, ADMIN).expect(200);
    // The window is over: counting starts afresh.
    await ping(t, WRONG).expect(401);
  });

  it('should not let a direct client escape the limit, or lock out others, by rotating X-Forwarded-For', async () => {
    // No trusted proxy: supertest's peer (127.0.0.1) is the client whatever the header says.
    const t = staffApp({ auth: { ...storeAuth(), trustedProxies: parseTrustedProxies('none') } });
    for (let i = 0; i < 10; i++) await ping(t, WRONG, `198.51.100.${i}`);
    await ping(t, ADMIN, '203.0.113.99').expect(429);
    expect(new Set(auditLines(t).map((l) => l.address))).toEqual(new Set(['127.0.0.1']));
  });

  it('should count behind a trusted proxy by the address the proxy appended, not by what the client wrote', async () => {
    const t = staffApp({ auth: { ...storeAuth(), trustedProxies: parseTrustedProxies('loopback') } });
    // The attacker at 198.51.100.7 rotates a forged left part; the proxy (our peer) appends the real address.
    for (let i = 0; i < 10; i++) await ping(t, WRONG, `203.0.113.${i}, 198.51.100.7`);
    await ping(t, ADMIN, '198.51.100.7').expect(429);
    // The victim whose address the attacker wrote is not locked out.
    await ping(t, ADMIN, '203.0.113.5').expect(200);
    expect(new Set(auditLines(t).map((l) => l.address))).toEqual(new Set(['198.51.100.7']));
  });

  it('should count an IPv6 client by its /64', async () => {
    const t = staffApp({ auth: { ...storeAuth(), trustedProxies: parseTrustedProxies('loopback') } });
    for (let i = 0; i < 10; i++) await ping(t, WRONG, `2001:db8:1:2::${(i + 1).toString(16)}`);
    await ping(t, ADMIN, '2001:db8:1:2:ffff::1').expect(429);
    await ping(t, ADMIN, '2001:db8:1:3::1').expect(200);
  });

  it('should lock each address on its first failure once all addresses together used the global budget', async () => {
    const t = staffApp({ auth: { ...storeAuth(), trustedProxies: parseTrustedProxies('loopback'), policy: { globalMaxFailures: 20 } } });
    for (let i = 0; i < 20; i++) await ping(t, WRONG, `198.51.100.${i}`).expect(401);
    await ping(t, WRONG, '198.51.100.200').expect(429);
    // Staff with the right token, from an address that did not fail, still get in.
    await ping(t, ADMIN, '192.0.2.10').expect(200);
  });

  it('should refuse with 503 and let nothing through when the store does not answer', async () => {
    const down = async () => {
      throw new Error('connect ECONNREFUSED 10.0.0.5:6379');
    };
    const t = staffApp({ auth: { counters: { incrementWithin: down, get: down }, kv: { ...storeAuth().kv, get: down } } });
    const res = await ping(t, ADMIN).expect(503);
    expect(res.text).not.toContain('ran');
    expect(res.text).not.toContain('10.0.0.5');
    await t.waitForLog('the store is unreachable');
  });

  it('should not guard, count or answer paths that are not staff routes', async () => {
    const t = staffApp();
    for (let i = 0; i < 12; i++) await request(t.callback).get('/admin/test/ping').set('Authorization', `Bearer ${WRONG}`).expect(404);
    await request(t.callback).post('/admin/nothing').expect(404);
    expect(auditLines(t)).toEqual([]);
    await ping(t, ADMIN).expect(200);
  });

  it('should refuse a staff route given as a public router', () => {
    expect(() => createTestWebhook({ routers: [pingRouter()] })).toThrow(/\/admin\/test\/ping is a staff route: pass its router as staffRouters/);
  });

  it('should not serve the staff routes without an admin token', async () => {
    const t = createTestWebhook({ staffRouters: [pingRouter()] });
    await ping(t, ADMIN).expect(404);
  });
});

/** The auth options of a fresh memory store (each test overriding `auth` gets its own). */
function storeAuth(): { counters: Store['counters']; kv: Store['kv'] } {
  const store = createMemoryStore({ clock: fixedClock(Date.now()) });
  return { counters: store.counters, kv: store.kv };
}

// === Several instances

/** Locks out through instance a, then checks instance b (another connection to the store) refuses too. */
async function expectSharedLockout(a: Store, b: Store): Promise<void> {
  const one = staffApp({ store: a, auth: { counters: a.counters, kv: a.kv } });
  const two = staffApp({ store: b, auth: { counters: b.counters, kv: b.kv } });
  for (let i = 0; i < 5; i++) await ping(one, WRONG).expect(401);
  for (let i = 0; i < 4; i++) await ping(two, WRONG).expect(401);
  await ping(one, WRONG).expect(429);
  const res = await ping(two, ADMIN).expect(429);
  expect(Number(res.headers['retry-after'])).toBeGreaterThan(290);
  expect(auditLines(two).at(-1)).toMatchObject({ reason: 'locked_out', failures: 10 });
}

describe('staffAuth across instances', () => {
  it('should share failures and the lockout between two instances on one SQLite file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wechat-bot-staff-'));
    const a = await SqliteStore.open(path.join(dir, 'bot.sqlite'));
    const b = await SqliteStore.open(path.join(dir, 'bot.sqlite'));
    try {
      await expectSharedLockout(a, b);
    } finally {
      await a.close();
      await b.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  const REDIS_URL = process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const PREFIX = `wechat-bot-test:staff:${process.pid}:${Date.now().toString(36)}:`;
  describeService('on Redis', [[REDIS_URL, 6379]], () => {
    afterAll(async () => {
      const admin = new Redis(REDIS_URL, { retryStrategy: () => null, maxRetriesPerRequest: 0 });
      const keys = await admin.keys(`${PREFIX}*`);
      if (keys.length) await admin.del(...keys);
      admin.disconnect();
    });

    it('should share failures and the lockout between two instances on one Redis', async () => {
      const a = await RedisStore.connect(REDIS_URL, { prefix: PREFIX });
      const b = await RedisStore.connect(REDIS_URL, { prefix: PREFIX });
      try {
        await expectSharedLockout(a, b);
      } finally {
        await a.close();
        await b.close();
      }
    });
  });

  const DATABASE_URL = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const SCHEMA = `wbt_staff_${process.pid}_${Date.now().toString(36)}`;
  describeService('on PostgreSQL', [[DATABASE_URL, 5432]], () => {
    afterAll(async () => {
      const admin = new Pool({ connectionString: DATABASE_URL, max: 1 });
      await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
      await admin.end();
    });

    it('should share failures and the lockout between two instances on one PostgreSQL', async () => {
      const a = await PostgresStore.connect(DATABASE_URL, { schema: SCHEMA });
      const b = await PostgresStore.connect(DATABASE_URL, { schema: SCHEMA });
      try {
        await expectSharedLockout(a, b);
      } finally {
        await a.close();
        await b.close();
      }
    });
  });
});
