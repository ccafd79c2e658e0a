/**
 * The guard of every staff endpoint: a bearer token compared in constant time, failed attempts counted
 * per client address in the shared store (so every instance sees them), a lockout after too many, and
 * one audit line per refused attempt. `createWebhook` mounts staff routers behind it, so a staff route
 * cannot be served without it.
 *
 * - A failure (no token, a malformed header, a wrong token) counts against the client's address (see
 *   `client-address.ts`: the TCP peer unless it is a trusted proxy; IPv6 by /64) for `windowSeconds`.
 * - The `maxFailures`-th failure in a window locks the address out for `lockoutSeconds`; each further
 *   lockout of that address within a day doubles it, up to `maxLockoutSeconds`. Locked out, every
 *   request gets 429 with `Retry-After`, **even with the right token**: otherwise a guesser would only
 *   need to wait for the 200 among the 429s. A correct token does not reset the count.
 * - When all addresses together fail `globalMaxFailures` times in a window (a guesser spread over many
 *   addresses), every address locks out on its first failure until the window ends. Addresses that
 *   present the right token are not affected, so the distributed guesser cannot lock staff out.
 * - Audit line (warn): address, method, path, reason (`missing`, `malformed`, `wrong`, `locked_out`),
 *   the address's failure count; never the presented token nor any part of it.
 * - The store unreachable: 503, nothing is let through.
 *
 * @example
 * const guard = staffAuth({ token: settings.adminToken, counters: store.counters, kv: store.kv, log });
 * router.use(guard); // or createWebhook({ adminToken, auth, staffRouters: [router] })
 * @see https://cheatsheetseries.owasp.org/cheatsheets/Authentication_Cheat_Sheet.html#protect-against-automated-attacks
 */
import { timingSafeEqual } from 'node:crypto';
import type { Middleware } from 'koa';
import { type Clock, systemClock } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import type { CounterStore, KeyValueStore } from '../../store/ports';
import { addressBucket, clientAddress, type TrustedProxies } from '../../lib/client-address';
import type { WebhookState } from './state';

// === Types

/** How many failures lock an address out, and for how long. */
export interface LockoutPolicy {
  /** Failures of one address within the window that lock it out (default 10). */
  maxFailures: number;
  /** The counting window, seconds, from the first failure (default 900). */
  windowSeconds: number;
  /** The first lockout, seconds (default 300); doubled for each further lockout within a day. */
  lockoutSeconds: number;
  /** The longest lockout, seconds (default 3600). */
  maxLockoutSeconds: number;
  /** Failures of all addresses within the window above which any failure locks its address (default 100). */
  globalMaxFailures: number;
}

/** The store and policy shared by every bearer guard of an app. */
export interface StaffAuthShared {
  counters: CounterStore;
  kv: KeyValueStore;
  log: Logger;
  clock?: Clock;
  /** Proxies whose X-Forwarded-For is believed (default none: the TCP peer is the client). */
  trustedProxies?: TrustedProxies;
  policy?: Partial<LockoutPolicy>;
}

export interface StaffAuthOptions extends StaffAuthShared {
  /** The expected bearer token (≥ 16 characters). */
  token: string;
  /**
   * With `optional`, a request without any `Authorization` header passes through with
   * `ctx.state.staff = false` (e.g. the anonymous `/healthz`); a presented header is checked as usual.
   */
  optional?: boolean;
  /** Names what the token is for in messages (default `admin`). */
  label?: string;
}

/** Why a bearer check failed. */
export type BearerVerdict = 'ok' | 'missing' | 'malformed' | 'wrong';

/** What the guard leaves in `ctx.state`. */
export interface StaffState {
  /** True when the request presented the right token. */
  staff?: boolean;
}

export const DEFAULT_LOCKOUT_POLICY: LockoutPolicy = {
  maxFailures: 10,
  windowSeconds: 900,
  lockoutSeconds: 300,
  maxLockoutSeconds: 3600,
  globalMaxFailures: 100,
};

/** Lockouts of an address are remembered this long, for the doubling. */
const LOCKOUT_MEMORY_SECONDS = 86_400;
/** Counters count on: the limit only exists because the port takes one. */
const NO_LIMIT = Number.MAX_SAFE_INTEGER;
const KEY_PREFIX = 'staff-auth:';

// === Bearer check

/**
 * Compares a presented bearer token with the expected one in constant time (lengths first), and says
 * why it failed.
 *
 * @example bearerVerdict('Bearer abc…', 'abc…') // 'ok'
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-2.1
 */
export function bearerVerdict(header: string | undefined, expected: string): BearerVerdict {
  if (header === undefined || header === '') return 'missing';
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  if (!m) return 'malformed';
  return secretMatches(m[1]!, expected) ? 'ok' : 'wrong';
}

/**
 * Compares a presented secret with the expected one in constant time (lengths first).
 *
 * @example secretMatches(form.token, settings.adminToken) // true
 * @see https://nodejs.org/api/crypto.html#cryptotimingsafeequala-b
 */
export function secretMatches(presented: string, expected: string): boolean {
  const a = Buffer.from(presented, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * True when the header carries exactly the expected bearer token (constant-time compare).
 *
 * @example bearerMatches('Bearer abc…', 'abc…') // true
 * @see https://nodejs.org/api/crypto.html#cryptotimingsafeequala-b
 */
export function bearerMatches(header: string | undefined, expected: string): boolean {
  return bearerVerdict(header, expected) === 'ok';
}

// === The guard

/**
 * Builds the guard middleware. Throws now when the token is shorter than 16 characters or the store is
 * missing.
 *
 * @example app.use(staffAuth({ token, counters: store.counters, kv: store.kv, log }))
 * @see https://www.rfc-editor.org/rfc/rfc6585#section-4
 */
export function staffAuth(options: StaffAuthOptions): Middleware {
  const label = options?.label ?? 'admin';
  if (!options || typeof options.token !== 'string' || options.token.length < 16) throw new TypeError(`staffAuth: the ${label} token must be at least 16 characters`);
  if (typeof options.counters?.incrementWithin !== 'function' || typeof options.kv?.get !== 'function')
    throw new TypeError('staffAuth: counters and kv (the shared store) are required');
  const limiter = attemptLimiter(options);

  return async function staffAuthGuard(ctx, next) {
    const header = ctx.get('authorization');
    const state = ctx.state as StaffState;
    if (options.optional && header === '') {
      state.staff = false;
      return next();
    }
    const address = clientAddress(ctx.req, options.trustedProxies);
    // reqId: the access log's request id (access-log.ts), so the audit line joins the request's line.
    const attempt = { address, method: ctx.method, path: ctx.path, reqId: (ctx.state as WebhookState).requestId };
    let refusal: Refusal | undefined;
    try {
      refusal = await limiter.lockedOut(address);
      if (!refusal) {
        const verdict = bearerVerdict(header, options.token);
        if (verdict === 'ok') {
          state.staff = true;
          return next();
        }
        refusal = await limiter.fail(address, verdict);
      }
    } catch (err) {
      options.log.error({ err: err instanceof Error ? err.message : String(err), ...attempt }, 'staff auth: the store is unreachable, refusing');
      ctx.status = 503;
      ctx.body = { ok: false, message: 'staff endpoints are unavailable: the store does not answer' };
      return;
    }
    auditRefusal(options.log, label, attempt, refusal);
    if (refusal.retryAfter !== undefined) {
      ctx.set('Retry-After', String(refusal.retryAfter));
      ctx.status = 429;
      ctx.body = { ok: false, message: `too many failed ${label} token attempts from this address; retry after ${refusal.retryAfter} s` };
      return;
    }
    ctx.set('WWW-Authenticate', 'Bearer');
    ctx.status = 401;
    ctx.body = { ok: false, message: `a valid ${label} bearer token is required (Authorization: Bearer …)` };
  };
}

// === Lockout steps

/** Why an attempt was refused, and when it may be retried (429) if locked out now. */
export interface Refusal {
  reason: Exclude<BearerVerdict, 'ok'> | 'locked_out';
  failures: number;
  /** Set when the answer is 429 (locked out now). */
  retryAfter?: number;
}

/**
 * The failure counters and lockouts of the guard, per client address, for another credential check
 * to share (the console's login form): the same counters, so failures at either count together.
 */
export interface AttemptLimiter {
  /** The refusal when the address is locked out now, else undefined. */
  lockedOut(address: string): Promise<Refusal | undefined>;
  /** Counts a failed attempt of the address; the refusal has `retryAfter` when that locked it out. */
  fail(address: string, reason: Exclude<BearerVerdict, 'ok'>): Promise<Refusal>;
}

/**
 * The guard's lockout policy over the shared store. Throws now on a bad policy.
 *
 * @example const limiter = attemptLimiter({ counters, kv, clock }); if (!(await limiter.lockedOut(addr))) …
 */
export function attemptLimiter(shared: Pick<StaffAuthShared, 'counters' | 'kv' | 'clock' | 'policy'>): AttemptLimiter {
  const limiter: Limiter = { counters: shared.counters, kv: shared.kv, clock: shared.clock ?? systemClock, policy: lockoutPolicy(shared.policy) };
  return {
    async lockedOut(address) {
      const bucket = addressBucket(address);
      const lockedFor = await lockedSeconds(limiter, bucket);
      return lockedFor > 0 ? { reason: 'locked_out', failures: await limiter.counters.get(failKey(bucket)), retryAfter: lockedFor } : undefined;
    },
    fail: (address, reason) => recordFailure(limiter, addressBucket(address), reason),
  };
}

interface Limiter {
  counters: CounterStore;
  kv: KeyValueStore;
  clock: Clock;
  policy: LockoutPolicy;
}

function lockoutPolicy(given: Partial<LockoutPolicy> | undefined): LockoutPolicy {
  const policy = { ...DEFAULT_LOCKOUT_POLICY, ...given };
  for (const [name, value] of Object.entries(policy))
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`staffAuth: policy.${name} must be a whole number ≥ 1 (got ${value})`);
  return policy;
}

const failKey = (bucket: string) => `${KEY_PREFIX}fail:${bucket}`;
const lockKey = (bucket: string) => `${KEY_PREFIX}lock:${bucket}`;
const lockoutsKey = (bucket: string) => `${KEY_PREFIX}lockouts:${bucket}`;
const GLOBAL_FAIL_KEY = `${KEY_PREFIX}fail:*`;

/** Seconds left of the address's lockout (0 when not locked out). */
async function lockedSeconds(limiter: Limiter, bucket: string): Promise<number> {
  const until = Number(await limiter.kv.get(lockKey(bucket)));
  if (!Number.isFinite(until)) return 0;
  const left = Math.ceil((until - limiter.clock.now()) / 1000);
  return left > 0 ? left : 0;
}

/** Counts a failure of the address (and of all addresses); locks the address out when over a limit. */
async function recordFailure(limiter: Limiter, bucket: string, reason: Exclude<BearerVerdict, 'ok'>): Promise<Refusal> {
  const { counters, policy } = limiter;
  const failures = (await counters.incrementWithin(failKey(bucket), 1, NO_LIMIT, policy.windowSeconds)).value;
  const everyone = (await counters.incrementWithin(GLOBAL_FAIL_KEY, 1, NO_LIMIT, policy.windowSeconds)).value;
  const threshold = everyone > policy.globalMaxFailures ? 1 : policy.maxFailures;
  if (failures < threshold) return { reason, failures };
  return { reason, failures, retryAfter: await lockOut(limiter, bucket) };
}

/** Locks the address out: the n-th lockout of a day lasts lockoutSeconds × 2^(n−1), capped. */
async function lockOut(limiter: Limiter, bucket: string): Promise<number> {
  const { counters, kv, clock, policy } = limiter;
  const n = (await counters.incrementWithin(lockoutsKey(bucket), 1, NO_LIMIT, LOCKOUT_MEMORY_SECONDS)).value;
  const seconds = Math.min(policy.maxLockoutSeconds, policy.lockoutSeconds * 2 ** Math.min(n - 1, 30));
  await kv.set(lockKey(bucket), String(clock.now() + seconds * 1000), seconds);
  return seconds;
}

// === Audit

/** The audit line (warn) of a refused attempt: address, method, path, reqId, reason, failures; never the token. */
export function auditRefusal(log: Logger, label: string, attempt: { address: string; method: string; path: string; reqId?: string }, refusal: Refusal): void {
  const { reason, failures, retryAfter } = refusal;
  log.warn(
    { audit: 'staff_auth', guard: label, ...attempt, reason, failures, ...(retryAfter !== undefined ? { lockedForSeconds: retryAfter } : {}) },
    reason === 'locked_out'
      ? `staff auth refused: ${attempt.address} is locked out for ${retryAfter} s more (${attempt.method} ${attempt.path})`
      : `staff auth failed: ${reason} ${label} token from ${attempt.address} (${attempt.method} ${attempt.path}), failure ${failures}` +
          (retryAfter !== undefined ? `; locked out for ${retryAfter} s` : ''),
  );
}
