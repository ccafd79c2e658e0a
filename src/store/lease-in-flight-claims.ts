/**
 * Wraps a {@link DedupeStore} so that a claim still IN FLIGHT expires after a short lease, while a
 * COMPLETED claim (the stored reply) keeps the full TTL the caller asks for.
 *
 * Why: the webhook claims a message for as long as WeChat may retry it (10 minutes) before handling
 * it. If the instance holding the claim dies mid-request, that claim would say "in flight" for the
 * whole 10 minutes, and every retry WeChat sends to the surviving instances would wait and answer
 * `success` — the follow (and its grant) would be lost. With a lease no longer than the webhook's
 * deadline (4.5 s), a live instance always finishes or answers before it runs out, and WeChat's next
 * retry (5 s after the lost attempt) claims the message afresh on a survivor. Running the handler a
 * second time is safe: grants are idempotent by `(message, rule)` in the ledger.
 *
 * A cross-cutting behaviour added by wrapping the port, as house rule 9 asks, so every adapter
 * (memory, SQLite, Redis, PostgreSQL) gets it unchanged.
 *
 * @example
 * const dedupe = leaseInFlightClaims(store.dedupe, { seconds: 4.5 });
 * createWebhook({ …, dedupe });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
import type { DedupeClaim, DedupeStore } from './ports';

/** Options of {@link leaseInFlightClaims}. */
export interface LeaseInFlightClaimsOptions {
  /** How long an in-flight claim lives, seconds (> 0; fractions allowed). Keep it below WeChat's 5 s retry timeout. */
  seconds: number;
}

/**
 * Returns a `DedupeStore` whose `claim()` asks the wrapped store for `min(ttl, seconds)`; `complete`,
 * `peek` and `release` pass through.
 *
 * @example const dedupe = leaseInFlightClaims(redisStore.dedupe, { seconds: 4.5 });
 * @see https://redis.io/docs/latest/develop/use/patterns/distributed-locks/
 */
export function leaseInFlightClaims(store: DedupeStore, options: LeaseInFlightClaimsOptions): DedupeStore {
  if (!store || typeof store.claim !== 'function' || typeof store.complete !== 'function') throw new TypeError('leaseInFlightClaims: store must be a DedupeStore');
  const seconds = options?.seconds;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) throw new TypeError('leaseInFlightClaims: seconds must be a finite number > 0');
  return {
    claim: function claim(key: string, ttlSeconds: number): Promise<DedupeClaim> {
      const lease = typeof ttlSeconds === 'number' && ttlSeconds > seconds ? seconds : ttlSeconds;
      return store.claim(key, lease);
    },
    complete: function complete(key: string, reply: string, ttlSeconds: number): Promise<void> {
      return store.complete(key, reply, ttlSeconds);
    },
    peek: function peek(key: string): Promise<DedupeClaim | undefined> {
      return store.peek(key);
    },
    release: function release(key: string): Promise<void> {
      return store.release(key);
    },
  };
}
