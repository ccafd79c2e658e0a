/**
 * The money rules of the ledger, written once: what recording, settling, cancelling and reissuing a
 * grant do, as plans over a small transactional port ({@link LedgerTx}). A plan is a generator: it
 * yields storage steps ("find this key", "lock these usage rows", "insert this grant") and decides
 * from their answers; it does no I/O itself. Each adapter implements the steps with its storage
 * (a Map, better-sqlite3 statements, `pg` queries) and runs each plan inside ONE of its transactions
 * ({@link runPlan} for synchronous stores, {@link runPlanAsync} for PostgreSQL), so every adapter
 * applies the same rules in the same order and the contract suite (`test/rewards/ledger-contract.ts`)
 * checks only that the storage steps are faithful.
 *
 * Adapters import only this module's types; {@link withLedgerRules} puts the plans over an
 * adapter's storage (the composition root and the CLI call it).
 *
 * @example
 * const ledger = withLedgerRules(SqliteLedger.create(db, { tags: ledgerTagRules(billTag) }));
 * await ledger.recordGrant(input); // planRecord, run in one group-commit transaction
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import { clip } from '../lib/clip';
import { BILL_NO_LENGTH, formatBillNo, withLedgerTag } from './bill-no';
import { recordedEvents, withAnswer } from './grant-events';
import {
  cancelRefusal,
  canMove,
  firstExceeded,
  LedgerError,
  reissueLimitRefusal,
  reissueRefusal,
  type CancelResult,
  type GrantStatus,
  type HeldReservation,
  type Ledger,
  type LedgerGrant,
  type NewGrantEvent,
  type OperatorInput,
  type PayAnswer,
  type RecordGrantInput,
  type RecordGrantResult,
  type ReissueResult,
  type Reservation,
  type ReservationKind,
  type SettleInput,
  type Usage,
} from './ledger';

// === Rules shared by the plans

/** Every reservation kind (a cancel gives them all back). */
export const ALL_RESERVATION_KINDS: readonly ReservationKind[] = ['budget', 'per_user', 'follower_daily', 'merchant_daily'];

/** Statuses whose outbox entry is removed by `settle` (HELD: never retried automatically). */
export const SETTLED_STATUSES: readonly GrantStatus[] = ['SENT', 'RECEIVED', 'RFUND_ING', 'REFUND', 'FAILED', 'HELD'];

/** Statuses that end a grant's life (`settled_at` is set). */
export const FINAL_STATUSES: readonly GrantStatus[] = ['RECEIVED', 'REFUND', 'FAILED', 'REFUSED'];

/**
 * The part of each reservation a grant keeps (what `settle` gives back on release).
 *
 * @example heldReservations(input.reservations) // [{ kind: 'budget', key: 'budget:welcome', count: 1, amountFen: 100 }]
 */
export function heldReservations(reservations: readonly Reservation[]): HeldReservation[] {
  return reservations.map(({ kind, key, count, amountFen }) => ({ kind, key, count, amountFen }));
}

// === The transactional port

/** A grant about to be inserted: every field but the id the store assigns. */
export type NewGrant = Omit<LedgerGrant, 'id'>;

/** The fields of a stored grant that a plan changes (written together by {@link LedgerTx.update}). */
export type GrantChange = Pick<
  LedgerGrant,
  'status' | 'reason' | 'sendListId' | 'nextAttemptAt' | 'updatedAt' | 'sentAt' | 'settledAt' | 'operatorAction' | 'reissuedAs'
>;

/** Added to (or, negative, taken from) one usage key. */
export interface UsageDelta {
  key: string;
  count: number;
  amountFen: number;
}

/** A granted grant to insert with its bill number drawn from the prefix's sequence (see {@link LedgerTx.insertGranted}). */
export interface GrantedWrite {
  /** The grant; its `billNo` is the one `billNoOf(seq)` returns. */
  grant: Omit<NewGrant, 'billNo'>;
  /** The tagged prefix whose per-day sequence is advanced. */
  seqPrefix: string;
  /** Digits of the zero-padded sequence (`BILL_NO_LENGTH - seqPrefix.length`), for stores that format in SQL. */
  seqDigits: number;
  /** The bill number of a sequence value; throws when the day's sequence is exhausted. */
  billNoOf(seq: number): string;
  /** Usage to add (distinct keys, sorted). */
  usage: readonly UsageDelta[];
  /** When the outbox entry is first due. */
  dueAt: number;
}

/**
 * The storage steps a ledger adapter offers inside ONE of its transactions. Synchronous here; a store
 * whose steps are asynchronous implements {@link AsyncLedgerTx}. Reads that say "lock" keep the row
 * unchanged by others until the transaction ends (SQLite and memory: the whole store is locked
 * anyway; PostgreSQL: `FOR UPDATE`).
 */
export interface LedgerTx {
  /** The grant recorded under `(dedupeKey, ruleId)`. */
  findByKey(dedupeKey: string, ruleId: string): LedgerGrant | undefined;
  /** The grant with this bill number, locked. */
  lockByBill(billNo: string): LedgerGrant | undefined;
  /** The grant with this id, locked. */
  lockById(id: number): LedgerGrant | undefined;
  /** Locks the usage rows of `keys` (distinct, sorted: the lock order) and returns their totals (absent: none used). */
  lockUsage(keys: readonly string[]): ReadonlyMap<string, Usage>;
  /**
   * Inserts a grant without a bill number; undefined when `(dedupeKey, ruleId)` is taken by a
   * concurrent commit (PostgreSQL only: memory and SQLite hold the whole store, so after `findByKey`
   * in the same plan it cannot be taken).
   */
  insert(grant: NewGrant): LedgerGrant | undefined;
  /**
   * Advances the sequence of `seqPrefix`, inserts the grant with bill number `billNoOf(seq)`, adds the
   * usage and queues the outbox entry; returns the grant and the sequence drawn, or undefined when
   * `(dedupeKey, ruleId)` is taken. (One step, so PostgreSQL can do it in one statement.)
   */
  insertGranted(write: GrantedWrite): { grant: LedgerGrant; seq: number } | undefined;
  /** Writes `change` when the grant is still in status `from`; false when it is not. */
  update(id: number, from: GrantStatus, change: GrantChange): boolean;
  /** Removes a grant's outbox entry (if any). */
  dequeue(grantId: number): void;
  /** Adds each delta to its usage key (distinct keys, sorted). */
  addUsage(deltas: readonly UsageDelta[]): void;
  /**
   * Marks an attempt under the caller's live lease (status SENDING, attempts + 1, `updated_at`): the
   * new attempt count, or undefined when the lease is gone or the grant is no longer open.
   */
  markAttempt(id: number, owner: string, now: number): number | undefined;
  /**
   * Gives the caller's lease back with the entry due at `dueAt` (and the grant's `next_attempt_at`,
   * `last_error` when given, `updated_at`): the grant's status, or undefined when the caller holds no lease.
   */
  moveDue(id: number, opts: { owner: string; dueAt: number; now: number; lastError: string | null }): GrantStatus | undefined;
  /** Appends events to grants' histories (append-only; see `grant-events.ts`). */
  appendEvents(events: readonly NewGrantEvent[]): void;
}

/** {@link LedgerTx} for stores whose steps are asynchronous (PostgreSQL). */
export type AsyncLedgerTx = { [K in keyof LedgerTx]: (...args: Parameters<LedgerTx[K]>) => Promise<ReturnType<LedgerTx[K]>> };

type Step = { [K in keyof LedgerTx]: { name: K; args: Parameters<LedgerTx[K]> } }[keyof LedgerTx];

/** A plan: yields the storage steps it needs, receives their answers, returns the method's result. */
export type LedgerPlan<T> = Generator<Step, T, unknown>;

function* step<K extends keyof LedgerTx>(name: K, ...args: Parameters<LedgerTx[K]>): Generator<Step, ReturnType<LedgerTx[K]>, unknown> {
  return (yield { name, args } as Step) as ReturnType<LedgerTx[K]>;
}

/**
 * Runs a plan on synchronous steps (call it inside the store's transaction).
 *
 * @example const ok = runPlan(planSettle(id, input), steps);
 */
export function runPlan<T>(plan: LedgerPlan<T>, tx: LedgerTx): T {
  let next = plan.next();
  while (!next.done) {
    const { name, args } = next.value;
    next = plan.next((tx[name] as (...a: unknown[]) => unknown)(...args));
  }
  return next.value;
}

/**
 * Runs a plan on asynchronous steps (call it inside the store's transaction).
 *
 * @example const ok = await runPlanAsync(planSettle(id, input), pgSteps(client));
 */
export async function runPlanAsync<T>(plan: LedgerPlan<T>, tx: AsyncLedgerTx): Promise<T> {
  let next = plan.next();
  while (!next.done) {
    const { name, args } = next.value;
    next = plan.next(await (tx[name] as (...a: unknown[]) => Promise<unknown>)(...args));
  }
  return next.value;
}

/**
 * A plan's insert met a concurrent commit of the same `(dedupeKey, ruleId)` (or `reissueOf`). The
 * transaction is rolled back and the plan runs again, which then finds what that commit wrote (only
 * PostgreSQL, at READ COMMITTED, can see this).
 */
export class GrantKeyTaken extends LedgerError {
  constructor() {
    super('ledger: a concurrent request recorded this (dedupeKey, ruleId) first');
  }
}

// === A ledger: the plans over an adapter's storage

/**
 * What a ledger adapter implements: the storage steps in its transactions, and the outbox and
 * reporting operations that are storage alone. `recordGrant`, `settle`, `cancel` and `reissue` are
 * the plans', added by {@link withLedgerRules}.
 */
export type LedgerStorage = SyncLedgerStorage | AsyncLedgerStorage;

type StorageOnly = Omit<Ledger, 'recordGrant' | 'settle' | 'cancel' | 'reissue' | 'markSending' | 'reschedule'>;

/** A store whose steps are synchronous (memory; SQLite inside its group commit). */
export interface SyncLedgerStorage extends StorageOnly {
  /** Runs `fn` in ONE transaction (it may be run again, from the start, when the store retries). */
  transact<T>(fn: (tx: LedgerTx) => T): Promise<T>;
}

/** A store whose steps are asynchronous (PostgreSQL). */
export interface AsyncLedgerStorage extends StorageOnly {
  /** Runs `fn` in ONE transaction (it may be run again, from the start, when the store retries). */
  transactAsync<T>(fn: (tx: AsyncLedgerTx) => Promise<T>): Promise<T>;
}

/** How many times a plan runs when a concurrent commit keeps taking its key first. */
const KEY_TAKEN_ATTEMPTS = 5;

/**
 * The ledger of an adapter's storage: its own operations, plus `recordGrant`, `settle`, `cancel`,
 * `reissue`, `markSending` and `reschedule` run as plans in one of its transactions each (each
 * writes its events to the grant's history in that transaction).
 *
 * @example const ledger = withLedgerRules(SqliteLedger.create(db, { tags: ledgerTagRules(billTag) }));
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function withLedgerRules(storage: LedgerStorage): Ledger {
  async function run<T>(make: () => LedgerPlan<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await ('transactAsync' in storage ? storage.transactAsync((tx) => runPlanAsync(make(), tx)) : storage.transact((tx) => runPlan(make(), tx)));
      } catch (error) {
        if (!(error instanceof GrantKeyTaken) || attempt >= KEY_TAKEN_ATTEMPTS) throw error;
      }
    }
  }
  const s = storage;
  return {
    get billTag() {
      return s.billTag;
    },
    recordGrant: (input) => run(() => planRecord(input, s.billTag)),
    settle: (id, input) => run(() => planSettle(id, input)),
    cancel: (billNo, input) => run(() => planCancel(billNo, input)),
    reissue: (billNo, input) => run(() => planReissue(billNo, input, s.billTag)),
    // The storage's own operations, bound (not wrapped): a call goes straight to the adapter.
    markSending: (id, opts) => run(() => planMarkSending(id, opts)),
    reschedule: (id, opts) => run(() => planReschedule(id, opts)),
    claimDue: s.claimDue.bind(s),
    markChecked: s.markChecked.bind(s),
    pauseCampaign: s.pauseCampaign.bind(s),
    resumeCampaign: s.resumeCampaign.bind(s),
    getGrant: s.getGrant.bind(s),
    findByKey: s.findByKey.bind(s),
    pausedCampaigns: s.pausedCampaigns.bind(s),
    usage: s.usage.bind(s),
    findByBillNo: s.findByBillNo.bind(s),
    listByStatus: s.listByStatus.bind(s),
    listAll: s.listAll.bind(s),
    summary: s.summary.bind(s),
    openCount: s.openCount.bind(s),
    activity: s.activity.bind(s),
    findGrants: s.findGrants.bind(s),
    countGrants: s.countGrants.bind(s),
    grantEvents: s.grantEvents.bind(s),
    close: s.close.bind(s),
  };
}

// === Record

/**
 * Plans `recordGrant`: idempotency on `(dedupeKey, ruleId)` → every reservation checked against its
 * locked usage (the first that would overflow refuses) → the bill number drawn from the tagged
 * prefix's sequence → usage added → grant and outbox rows.
 *
 * @example const { duplicate, grant } = runPlan(planRecord(input, billTag), steps);
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function* planRecord(input: RecordGrantInput, billTag: string): LedgerPlan<RecordGrantResult> {
  const known = yield* step('findByKey', input.dedupeKey, input.ruleId);
  if (known) return { duplicate: true, grant: known };
  const usage = yield* step('lockUsage', usageKeys(input.reservations));
  const refusal = input.refusal ?? firstExceeded(input.reservations, usageIn(usage));
  if (refusal) {
    const refused = yield* step('insert', {
      ...newGrant(input),
      billNo: null,
      outcome: refusal.outcome,
      reason: refusal.reason,
      settledAt: input.now,
    });
    if (!refused) throw new GrantKeyTaken();
    yield* step('appendEvents', recordedEvents(refused, input.reservations, !input.refusal));
    return { duplicate: false, grant: refused };
  }
  return { duplicate: false, grant: yield* recordGranted(input, billTag, null) };
}

/** The granted grant's steps (bill number, usage, outbox) once its reservations fit. */
function* recordGranted(input: RecordGrantInput, billTag: string, reissueOf: string | null): LedgerPlan<LedgerGrant> {
  const seqPrefix = withLedgerTag(input.billNoPrefix, billTag);
  const grant = {
    ...newGrant(input),
    status: input.deferred ? ('DEFERRED' as const) : ('PENDING' as const),
    outcome: 'granted' as const,
    reason: input.note ?? null,
    nextAttemptAt: input.dueAt,
    reservations: heldReservations(input.reservations),
    reissueOf,
  };
  const done = yield* step('insertGranted', {
    grant,
    seqPrefix,
    seqDigits: BILL_NO_LENGTH - seqPrefix.length,
    billNoOf: (seq) => formatBillNo(seqPrefix, seq),
    usage: usageDeltas(input.reservations, 1),
    dueAt: input.dueAt,
  });
  if (!done) throw new GrantKeyTaken();
  // A store that formats the number itself (PostgreSQL) must agree; this also throws (and so rolls
  // back) when the day's sequence is exhausted.
  if (formatBillNo(seqPrefix, done.seq) !== done.grant.billNo) throw new LedgerError('ledger: bill number mismatch');
  yield* step('appendEvents', recordedEvents(done.grant, input.reservations, true));
  return done.grant;
}

/** A REFUSED grant of the input, bill number aside (the fields a granted one overrides). */
function newGrant(input: RecordGrantInput): Omit<NewGrant, 'billNo'> {
  return {
    dedupeKey: input.dedupeKey,
    ruleId: input.ruleId,
    kind: input.kind,
    campaign: input.campaign,
    openId: input.openId,
    amountFen: input.amountFen,
    status: 'REFUSED',
    outcome: 'failed',
    reason: null,
    attempts: 0,
    nextAttemptAt: null,
    lastError: null,
    sendListId: null,
    payload: input.payload,
    reservations: [],
    createdAt: input.now,
    updatedAt: input.now,
    sentAt: null,
    settledAt: null,
    checkedAt: null,
    operatorAction: null,
    reissueOf: null,
    reissuedAs: null,
  };
}

/** The usage keys of some reservations: distinct and sorted (the order every store locks them in). */
function usageKeys(reservations: readonly { key: string }[]): string[] {
  return [...new Set(reservations.map((r) => r.key))].sort();
}

function usageIn(usage: ReadonlyMap<string, Usage>): (key: string) => Usage {
  return (key) => usage.get(key) ?? { count: 0, amountFen: 0 };
}

/** Reservations summed per key (sorted), times `sign` (1: reserve, -1: give back). */
function usageDeltas(reservations: readonly HeldReservation[], sign: 1 | -1): UsageDelta[] {
  const sums = new Map<string, UsageDelta>();
  for (const r of reservations) {
    const d = sums.get(r.key) ?? { key: r.key, count: 0, amountFen: 0 };
    sums.set(r.key, { key: r.key, count: d.count + sign * r.count, amountFen: d.amountFen + sign * r.amountFen });
  }
  return usageKeys(reservations).map((k) => sums.get(k)!);
}

/** What a grant gives back when `kinds` are released. */
function released(g: LedgerGrant, kinds: readonly ReservationKind[] | undefined): UsageDelta[] {
  return usageDeltas(
    g.reservations.filter((r) => kinds?.includes(r.kind)),
    -1,
  );
}

function changeOf(g: LedgerGrant): GrantChange {
  const { status, reason, sendListId, nextAttemptAt, updatedAt, sentAt, settledAt, operatorAction, reissuedAs } = g;
  return { status, reason, sendListId, nextAttemptAt, updatedAt, sentAt, settledAt, operatorAction, reissuedAs };
}

// === Settle

/**
 * Plans `settle`: the move must be allowed ({@link canMove}); SENT and later (or FAILED, HELD) leave
 * the outbox; the named reservations are given back — all in the one transaction. Only a move to a
 * final status ({@link FINAL_STATUSES}) may give reservations back: a final status is reached once,
 * so they are given back at most once (a HELD grant's come back with `cancel`, which releases all).
 *
 * @example runPlan(planSettle(id, { status: 'SENT', now, sendListId }), steps) // → true
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_6&index=5
 */
export function* planSettle(id: number, input: SettleInput): LedgerPlan<boolean> {
  const g = yield* step('lockById', id);
  if (!g || !canMove(g.status, input.status)) return false;
  if (input.release?.length && !FINAL_STATUSES.includes(input.status))
    throw new LedgerError(`ledger: settle to ${input.status} cannot give reservations back (only a final status does: ${FINAL_STATUSES.join(', ')})`);
  const change: GrantChange = {
    ...changeOf(g),
    status: input.status,
    updatedAt: input.now,
    sendListId: input.sendListId ?? g.sendListId,
    reason: input.reason === undefined ? g.reason : clip(input.reason),
    sentAt: input.status !== 'FAILED' && input.status !== 'HELD' && g.sentAt === null ? input.now : g.sentAt,
    settledAt: FINAL_STATUSES.includes(input.status) ? input.now : g.settledAt,
    nextAttemptAt: null,
  };
  if (!(yield* step('update', id, g.status, change))) return false;
  if (SETTLED_STATUSES.includes(input.status)) yield* step('dequeue', id);
  if (input.release?.length) yield* step('addUsage', released(g, input.release));
  yield* step('appendEvents', withAnswer(input.answer, { grantId: id, at: input.now, type: 'settled', status: input.status, detail: settledDetail(g, change, input) }));
  return true;
}

/** What a settlement changed, for its history event: "SENDING → FAILED; SENDNUM_LIMIT: …; released: budget". */
function settledDetail(g: LedgerGrant, change: GrantChange, input: SettleInput): string {
  const parts = [`${g.status} → ${input.status}`];
  if (change.reason !== g.reason && change.reason) parts.push(change.reason);
  if (change.sendListId !== g.sendListId && change.sendListId) parts.push(`send_listid ${change.sendListId}`);
  if (input.release?.length) parts.push(`released: ${input.release.join(', ')}`);
  return parts.join('; ');
}

// === Outbox attempts

/**
 * Plans `markSending`: the attempt is marked under the caller's live lease, and the history gets
 * `sending` (after `queried` when a `gethbinfo` answer led to this resend).
 *
 * @example runPlan(planMarkSending(id, { owner, now }), steps) // → true
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function* planMarkSending(id: number, opts: { owner: string; now: number; answer?: PayAnswer }): LedgerPlan<boolean> {
  const attempt = yield* step('markAttempt', id, opts.owner, opts.now);
  if (attempt === undefined) return false;
  yield* step('appendEvents', withAnswer(opts.answer, { grantId: id, at: opts.now, type: 'sending', status: 'SENDING', detail: `attempt ${attempt}` }));
  return true;
}

/**
 * Plans `reschedule`: the lease is given back with the new due time; the history gets `rescheduled`
 * (after the Pay answer, when there is one) when there is an error or an answer to tell — a wait for
 * quiet hours or the send rate alone is not history.
 *
 * @example runPlan(planReschedule(id, { owner, dueAt, now, lastError: 'SYSTEMERROR: …' }), steps)
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function* planReschedule(id: number, opts: { owner: string; dueAt: number; now: number; lastError?: string; answer?: PayAnswer }): LedgerPlan<void> {
  const lastError = clip(opts.lastError);
  const status = yield* step('moveDue', id, { owner: opts.owner, dueAt: opts.dueAt, now: opts.now, lastError });
  if (status === undefined || (lastError === null && !opts.answer)) return;
  const detail = `due again ${new Date(opts.dueAt).toISOString()}${lastError ? `: ${lastError}` : ''}`;
  yield* step('appendEvents', withAnswer(opts.answer, { grantId: id, at: opts.now, type: 'rescheduled', status, detail }));
}

// === Operator actions

/**
 * Plans `cancel`: refused per {@link cancelRefusal} on the locked grant; else CANCELLED with who/why,
 * out of the outbox, every reservation given back.
 *
 * @example runPlan(planCancel('1900000109…', { by: 'li', reason: 'duplicate', now }), steps)
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function* planCancel(billNo: string, input: OperatorInput): LedgerPlan<CancelResult> {
  const g = yield* step('lockByBill', billNo);
  const refused = cancelRefusal(g, billNo);
  if (refused || !g) return refused!;
  const change: GrantChange = {
    ...changeOf(g),
    status: 'CANCELLED',
    operatorAction: { action: 'cancelled', by: clip(input.by) ?? '', reason: clip(input.reason) ?? '', at: input.now },
    updatedAt: input.now,
    settledAt: input.now,
    nextAttemptAt: null,
  };
  if (!(yield* step('update', g.id, g.status, change))) throw new LedgerError('ledger: cancel lost its row');
  yield* step('dequeue', g.id);
  yield* step('addUsage', released(g, ALL_RESERVATION_KINDS));
  const who = change.operatorAction!;
  yield* step('appendEvents', withAnswer(undefined, { grantId: g.id, at: input.now, type: 'cancelled', status: 'CANCELLED', detail: `by ${who.by}: ${who.reason}` }));
  return { ok: true, grant: { ...g, ...change } };
}

/**
 * Plans `reissue`: refused per {@link reissueRefusal} on the locked failed grant, or when the new
 * grant would exceed a limit (nothing recorded); else the new grant (new bill number, `reissueOf`
 * the old one) and the old grant's link and who/why.
 *
 * @example runPlan(planReissue(bill, { by, reason, now, grant: plan.input }, billTag), steps)
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function* planReissue(billNo: string, input: OperatorInput & { grant: RecordGrantInput }, billTag: string): LedgerPlan<ReissueResult> {
  const old = yield* step('lockByBill', billNo);
  const refused = reissueRefusal(old, billNo);
  if (refused || !old) return refused!;
  const next = input.grant;
  if (yield* step('findByKey', next.dedupeKey, next.ruleId)) throw new LedgerError(`ledger: reissue of ${billNo} found its new grant recorded already`);
  const usage = yield* step('lockUsage', usageKeys(next.reservations));
  if (next.refusal) throw new LedgerError(`ledger: the reissue of ${billNo} was planned refused (${next.refusal.outcome}); nothing was recorded`);
  const over = reissueLimitRefusal(next.reservations, usageIn(usage), old);
  if (over) return over;
  const grant = yield* recordGranted(next, billTag, billNo);
  const change: GrantChange = {
    ...changeOf(old),
    operatorAction: { action: 'reissued', by: clip(input.by) ?? '', reason: clip(input.reason) ?? '', at: input.now },
    updatedAt: input.now,
    reissuedAs: grant.billNo,
  };
  if (!(yield* step('update', old.id, old.status, change))) throw new LedgerError(`ledger: ${billNo} was reissued meanwhile`);
  const who = change.operatorAction!;
  const detail = `as ${grant.billNo} by ${who.by}: ${who.reason}`;
  yield* step('appendEvents', withAnswer(undefined, { grantId: old.id, at: input.now, type: 'reissued', status: old.status, detail }));
  return { ok: true, grant, original: { ...old, ...change } };
}
