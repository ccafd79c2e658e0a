/**
 * Fault injection for the API sandbox: latency, timeouts (the request is held and never answered),
 * connection resets, −1 "system busy" answers and HTTP 5xx, chosen by rates drawn from a seeded PRNG
 * (so a test run is reproducible), or queued one by one with `failNext`.
 *
 * @example
 * sandbox.faults.set({ http5xxRate: 0.2, seed: 42 });
 * sandbox.faults.failNext('reset', { path: '/cgi-bin/message/custom/send' });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html
 */

/**
 * What may go wrong with one request. `lost` (queued with `failNext` only): the request IS handled —
 * its change is applied — and then the connection is destroyed, so the caller never learns it worked.
 */
export type FaultKind = 'timeout' | 'reset' | 'error' | 'http5xx' | 'lost';

export interface FaultSettings {
  /** Delay before every answer (ms). */
  latencyMs?: number;
  /** Share of requests held unanswered until the client gives up. */
  timeoutRate?: number;
  /** Share of requests whose connection is destroyed (ECONNRESET / socket hang up). */
  resetRate?: number;
  /** Share of requests answered `{"errcode":-1,"errmsg":"system error"}`. */
  errorRate?: number;
  /** Share of requests answered with HTTP 502/503. */
  http5xxRate?: number;
  /** PRNG seed (default 1). Setting faults restarts the sequence. */
  seed?: number;
  /** Only requests to these paths are affected (default: every path). */
  paths?: string[];
}

/** The fault controls of a running sandbox. */
export interface FaultControl {
  /** Replaces the current settings (and restarts the PRNG with `seed`). */
  set(settings: FaultSettings): void;
  /** Removes every setting and queued fault. */
  clear(): void;
  /** Makes the next `count` (default 1) requests (to `path`, if given) fail with `kind`. */
  failNext(kind: FaultKind, options?: { count?: number; path?: string }): void;
  readonly settings: Readonly<FaultSettings>;
  /** How many faults of each kind were applied so far. */
  readonly applied: Readonly<Record<FaultKind, number>>;
}

/**
 * mulberry32: a small, fast, seedable PRNG (uniform in [0, 1)).
 * @example const rand = seededRandom(42); rand(); // always the same first value for seed 42
 * @see https://gist.github.com/tommyettinger/46a874533244883189143505d203312c
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return function next(): number {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function checkRate(name: string, v: number | undefined): void {
  if (v !== undefined && !(Number.isFinite(v) && v >= 0 && v <= 1)) throw new RangeError(`faults: ${name} must be between 0 and 1`);
}

/** The fault state machine behind {@link FaultControl}; `pick(path)` decides one request's fate. */
export class Faults implements FaultControl {
  private current: FaultSettings = {};
  private rand = seededRandom(1);
  private queue: { kind: FaultKind; path?: string }[] = [];
  private readonly counts: Record<FaultKind, number> = { timeout: 0, reset: 0, error: 0, http5xx: 0, lost: 0 };

  get settings(): Readonly<FaultSettings> {
    return this.current;
  }
  get applied(): Readonly<Record<FaultKind, number>> {
    return { ...this.counts };
  }

  set(settings: FaultSettings): void {
    for (const k of ['timeoutRate', 'resetRate', 'errorRate', 'http5xxRate'] as const) checkRate(k, settings[k]);
    if (settings.latencyMs !== undefined && !(settings.latencyMs >= 0)) throw new RangeError('faults: latencyMs must be ≥ 0');
    this.current = { ...settings };
    this.rand = seededRandom(settings.seed ?? 1);
  }

  clear(): void {
    this.current = {};
    this.queue = [];
    this.rand = seededRandom(1);
  }

  failNext(kind: FaultKind, options: { count?: number; path?: string } = {}): void {
    const count = options.count ?? 1;
    for (let i = 0; i < count; i++) this.queue.push({ kind, path: options.path });
  }

  /** Latency to apply to a request to `path`. */
  latency(path: string): number {
    return this.applies(path) ? (this.current.latencyMs ?? 0) : 0;
  }

  /** The fault for one request to `path`, if any (consumes a queued fault or PRNG draws). */
  pick(path: string): FaultKind | undefined {
    const qi = this.queue.findIndex((q) => q.path === undefined || q.path === path);
    if (qi >= 0) {
      const [q] = this.queue.splice(qi, 1);
      this.counts[q.kind]++;
      return q.kind;
    }
    if (!this.applies(path)) return undefined;
    const order: [FaultKind, number | undefined][] = [
      ['reset', this.current.resetRate],
      ['timeout', this.current.timeoutRate],
      ['http5xx', this.current.http5xxRate],
      ['error', this.current.errorRate],
    ];
    for (const [kind, rate] of order) {
      if (!rate) continue;
      if (this.rand() < rate) {
        this.counts[kind]++;
        return kind;
      }
    }
    return undefined;
  }

  private applies(path: string): boolean {
    return this.current.paths === undefined || this.current.paths.includes(path);
  }
}
