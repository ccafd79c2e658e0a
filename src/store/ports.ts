/**
 * Storage ports: the small interfaces the rest of the bot depends on. Adapters (memory, SQLite, Redis,
 * PostgreSQL) implement them and all pass one contract suite (`test/store/contract.ts`).
 *
 * Keys are plain strings; adapters add their own namespace prefix. TTLs are in seconds.
 */

/**
 * The `code` of the error a store rejects with when another process held its lock for longer than the
 * store waits (SQLite's `StoreBusyError`): nothing was applied, and the same step may succeed later.
 */
export const STORE_BUSY = 'STORE_BUSY';

/**
 * True for a store's "busy: locked by another process" error (see {@link STORE_BUSY}).
 *
 * @example try { await store.dedupe.claim(key, 600) } catch (e) { if (isStoreBusy(e)) … }
 */
export function isStoreBusy(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === STORE_BUSY;
}

/** Key-value with expiry: the token cache, locks, cached replies. */
export interface KeyValueStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlSeconds?: number): Promise<void>;
  /** Atomically sets the key only when it is absent (or expired). Returns true when it was set. */
  setIfAbsent(key: string, value: string, ttlSeconds?: number): Promise<boolean>;
  /** Deletes the key only when its current value equals `expected`. Returns true when it deleted. */
  deleteIfEquals(key: string, expected: string): Promise<boolean>;
  delete(key: string): Promise<void>;
}

/** What a de-duplication claim found. */
export type DedupeClaim =
  /** First sight of the key: the caller owns it and must `complete` or `release` it. */
  | { state: 'new' }
  /** Another request handled it already: answer with the same reply. */
  | { state: 'done'; reply: string }
  /** Another request is handling it right now. */
  | { state: 'in-flight' };

/** Atomic claim of an inbound message, so WeChat's retries run the handler once. */
export interface DedupeStore {
  claim(key: string, ttlSeconds: number): Promise<DedupeClaim>;
  /** Records the rendered reply of a claimed key; later claims see `{ state: 'done', reply }`. */
  complete(key: string, reply: string, ttlSeconds: number): Promise<void>;
  /** Reads the current state without claiming (undefined when unknown). */
  peek(key: string): Promise<DedupeClaim | undefined>;
  /** Gives a claimed key up (the handler failed), so a retry runs it again. */
  release(key: string): Promise<void>;
}

/** What {@link BindingStore.bind} found for a signed request. */
export type Binding =
  /** First sight of the key: it is bound to this digest now. */
  | 'bound'
  /** Already bound to this same digest: a retry of the same request. */
  | 'same'
  /** Already bound to another digest: the signed URL is being reused for another body. */
  | 'other';

/**
 * Binds a signed webhook request to the first message it carried. WeChat's plain-mode `signature`
 * covers only token, timestamp and nonce, not the body, so one captured URL would otherwise carry any
 * body for the whole timestamp window. Atomic across processes; a binding is never overwritten,
 * extended or released before it expires.
 */
export interface BindingStore {
  /**
   * Binds `key` to `digest` for `ttlSeconds` unless it is bound already, and says which it was.
   *
   * @example await store.bindings.bind(`sig:${timestamp}:${nonce}:${signature}`, sha256Hex(body), 661) // → 'bound'
   */
  bind(key: string, digest: string, ttlSeconds: number): Promise<Binding>;
}

/** Windowed counters for rate limits shared by every worker. */
export interface CounterStore {
  /**
   * Adds `by` to the counter unless that would exceed `limit`. The counter expires `ttlSeconds` after
   * its first increment. Atomic across processes.
   */
  incrementWithin(key: string, by: number, limit: number, ttlSeconds: number): Promise<{ allowed: boolean; value: number }>;
  get(key: string): Promise<number>;
}

/** Everything an adapter provides. Rewards add their ledger port beside these. */
export interface Store {
  readonly driver: 'memory' | 'sqlite' | 'redis' | 'postgres' | string;
  kv: KeyValueStore;
  dedupe: DedupeStore;
  /** Signed requests bound to their first body (the webhook's replay guard). */
  bindings: BindingStore;
  counters: CounterStore;
  /** Resolves when the backing store answers; rejects otherwise (used by /healthz). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
