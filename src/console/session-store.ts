/**
 * Console sessions, kept server-side in the shared key-value store (so every instance sees them and
 * a logout revokes at once): the cookie carries a random secret; the store keeps, under the SHA-256 of
 * that secret, the session's non-secret id (for the audit), its CSRF token and its times. A session
 * ends `idleSeconds` after its last use or `absoluteSeconds` after the login, whichever comes first
 * (the key's TTL; the times are checked on read too).
 *
 * @example
 * const sessions = sessionStore({ kv, clock });
 * const { secret, session } = await sessions.create(); // secret → the cookie
 * await sessions.get(secret); // the session, touched; undefined when unknown, expired or revoked
 * await sessions.revoke(secret);
 * @see https://cheatsheetseries.owasp.org/cheatsheets/Session_Management_Cheat_Sheet.html
 */
import { createHash, randomBytes } from 'node:crypto';
import { type Clock, systemClock } from '../lib/clock';
import type { KeyValueStore } from '../store/ports';

export interface ConsoleSession {
  /** Non-secret id, for the audit. */
  id: string;
  csrf: string;
  createdAt: number;
  lastSeenAt: number;
}

export interface SessionPolicy {
  /** Ends this long after the last request (default 8 h). */
  idleSeconds: number;
  /** Ends this long after the login, whatever the use (default 24 h). */
  absoluteSeconds: number;
}

export const DEFAULT_SESSION_POLICY: SessionPolicy = { idleSeconds: 8 * 3600, absoluteSeconds: 24 * 3600 };

export interface SessionStore {
  readonly policy: SessionPolicy;
  create(): Promise<{ secret: string; session: ConsoleSession }>;
  /** The live session of a cookie secret (its idle time restarted), or undefined. */
  get(secret: string | undefined): Promise<ConsoleSession | undefined>;
  revoke(secret: string | undefined): Promise<void>;
}

const KEY_PREFIX = 'console:session:';
/** The idle clock is restarted at most this often (a store write per request is not needed). */
const TOUCH_EVERY_MS = 60_000;
const SECRET = /^[A-Za-z0-9_-]{43}$/;

const keyOf = (secret: string) => KEY_PREFIX + createHash('sha256').update(secret).digest('hex');
const random = (bytes: number) => randomBytes(bytes).toString('base64url');

export function sessionStore(o: { kv: KeyValueStore; clock?: Clock; policy?: Partial<SessionPolicy> }): SessionStore {
  const clock = o.clock ?? systemClock;
  const policy = { ...DEFAULT_SESSION_POLICY, ...o.policy };
  const ttl = (s: ConsoleSession, now: number) => Math.min(policy.idleSeconds, Math.ceil((s.createdAt + policy.absoluteSeconds * 1000 - now) / 1000));

  return {
    policy,
    async create() {
      const now = clock.now();
      const secret = random(32);
      const session: ConsoleSession = { id: randomBytes(6).toString('hex'), csrf: random(32), createdAt: now, lastSeenAt: now };
      await o.kv.set(keyOf(secret), JSON.stringify(session), ttl(session, now));
      return { secret, session };
    },
    async get(secret) {
      if (secret === undefined || !SECRET.test(secret)) return undefined;
      const raw = await o.kv.get(keyOf(secret));
      if (raw === undefined) return undefined;
      const s = JSON.parse(raw) as ConsoleSession;
      const now = clock.now();
      const left = ttl(s, now);
      if (left <= 0 || now - s.lastSeenAt >= policy.idleSeconds * 1000) {
        await o.kv.delete(keyOf(secret));
        return undefined;
      }
      if (now - s.lastSeenAt >= TOUCH_EVERY_MS) {
        s.lastSeenAt = now;
        await o.kv.set(keyOf(secret), JSON.stringify(s), left);
      }
      return s;
    },
    async revoke(secret) {
      if (secret !== undefined && SECRET.test(secret)) await o.kv.delete(keyOf(secret));
    },
  };
}
