/**
 * Argument checks shared by every store adapter, so memory, SQLite, Redis and PostgreSQL reject the
 * same bad calls the same way (the contract suite checks this).
 *
 * @example validateKey('store.kv.get', key); validateTtl('store.kv.set', ttlSeconds);
 * @see https://github.com/grammyjs/storages
 */

/**
 * Throws a TypeError unless `key` is a non-empty string.
 *
 * @example validateKey('kv.get', 'token') // ok
 * @see https://github.com/grammyjs/storages
 */
export function validateKey(where: string, key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) throw new TypeError(`${where}: key must be a non-empty string`);
}

/**
 * Throws a RangeError unless `ttlSeconds` is a finite number greater than 0 (fractions allowed; the
 * adapters keep millisecond precision).
 *
 * @example validateTtl('kv.set', 7200) // ok
 * @see https://github.com/grammyjs/storages
 */
export function validateTtl(where: string, ttlSeconds: unknown): asserts ttlSeconds is number {
  if (typeof ttlSeconds !== 'number' || !Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new RangeError(`${where}: ttlSeconds must be a finite number > 0`);
  }
}

/**
 * Throws unless `by` and `limit` are safe integers (counters are integers in every adapter: Redis
 * INCRBY and SQL BIGINT columns).
 *
 * @example validateIncrement('counters.incrementWithin', 1, 60) // ok
 * @see https://redis.io/docs/latest/commands/incrby/
 */
export function validateIncrement(where: string, by: unknown, limit: unknown): void {
  if (typeof by !== 'number' || !Number.isSafeInteger(by)) throw new TypeError(`${where}: by must be a safe integer`);
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit)) throw new TypeError(`${where}: limit must be a safe integer`);
}

/**
 * Milliseconds of a TTL in seconds, rounded up so a tiny TTL never becomes 0.
 *
 * @example ttlToMs(1.5) // → 1500
 * @see https://redis.io/docs/latest/commands/set/
 */
export function ttlToMs(ttlSeconds: number): number {
  return Math.max(1, Math.ceil(ttlSeconds * 1000));
}

/**
 * Throws a TypeError unless `value` is a string without NUL characters (PostgreSQL `text` cannot hold
 * U+0000, so every adapter refuses it alike; JSON and XML never contain a raw NUL).
 *
 * @example validateValue('kv.set', JSON.stringify(token)) // ok
 * @see https://www.postgresql.org/docs/current/datatype-character.html
 */
export function validateValue(where: string, value: unknown): asserts value is string {
  if (typeof value !== 'string') throw new TypeError(`${where}: value must be a string`);
  if (value.includes('\u0000')) throw new TypeError(`${where}: value must not contain NUL (U+0000)`);
}
