/**
 * The ledger ports: every grant, its bill number, its outbox entry and the limit reservations. The
 * ports belong to the rewards domain (they are shaped by what rewards need) and come in two:
 * {@link LedgerWrites} (the grant path and the outbox) and {@link LedgerReports} (the CLI's and the
 * console's queries); {@link Ledger} is both. Adapters live in `src/store/` and all pass one contract
 * suite (`test/rewards/ledger-contract.ts`):
 *
 * - `src/store/memory-ledger.ts`    `createMemoryLedger({ tags })`           (tests, one process)
 * - `src/store/sqlite-ledger.ts`    `SqliteLedger.create(db, { tags })`      (default; atomic across processes sharing the file)
 * - `src/store/postgres-ledger.ts`  `PostgresLedger.create(pool, { tags })`  (many instances; row locks, SKIP LOCKED)
 *
 * `tags` is `ledgerTagRules(BOT_BILLNO_TAG)` (`bill-no.ts`): the store factory hands each adapter the
 * bill-tag rules, so an adapter stores its tag without choosing it.
 *
 * ## Money rules (written once, in `ledger-plans.ts`; each adapter runs them in one transaction)
 * - `recordGrant` is ONE transaction: idempotency check on `(dedupeKey, ruleId)`, every reservation
 *   checked and added, the per-day bill sequence advanced, the grant row and its outbox entry
 *   inserted. Concurrent calls (threads, processes, instances) can never overshoot a reservation's
 *   `maxCount` / `maxAmountFen`, nor record the same key twice.
 * - A grant's `billNo` never changes.
 * - Outbox entries are claimed with a lease: a crashed worker's claim expires and another resumes.
 * - Status moves only forward (see {@link canMove}); reservations are released at most once, in the
 *   same transaction as the status change that releases them.
 *
 * @example
 * const { duplicate, grant } = await ledger.recordGrant(input);
 * const due = await ledger.claimDue({ owner: 'w1', now, leaseMs: 30_000, limit: 50 });
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import { fenToYuan } from '../lib/money';
import type { GrantOutcome } from './rewards-port';

// === Statuses

/**
 * Life of a grant. PENDING/DEFERRED wait in the outbox; SENDING means a send was attempted and its
 * outcome is not known yet (the worker queries before sending again); SENT/RECEIVED/RFUND_ING/REFUND
 * mirror `gethbinfo` (official spelling); FAILED is final (reason kept); REFUSED never reached the
 * outbox (a limit said no; reason kept); HELD is out of the outbox and waits for an operator: WeChat
 * Pay answered for this bill number with another packet's data (`re_openid` / `total_amount` / kind
 * not ours — a bill-number collision, reason `billno_collision: …`), so the grant is neither SENT nor
 * FAILED, is never retried with that bill number, and keeps its reservations until an operator acts
 * (see {@link BILLNO_COLLISION}). CANCELLED: an operator cancelled it before it was sent
 * (`redpack cancel`): out of the outbox, reservations released, never sent (who/why in
 * {@link LedgerGrant.operatorAction}).
 */
export type GrantStatus = 'PENDING' | 'DEFERRED' | 'SENDING' | 'SENT' | 'RECEIVED' | 'RFUND_ING' | 'REFUND' | 'FAILED' | 'REFUSED' | 'HELD' | 'CANCELLED';

export const GRANT_STATUSES = [
  'PENDING',
  'DEFERRED',
  'SENDING',
  'SENT',
  'RECEIVED',
  'RFUND_ING',
  'REFUND',
  'FAILED',
  'REFUSED',
  'HELD',
  'CANCELLED',
] as const satisfies readonly GrantStatus[];

/** Statuses that still sit in the outbox. */
export const OPEN_STATUSES: readonly GrantStatus[] = ['PENDING', 'DEFERRED', 'SENDING'];

const MOVES: Record<GrantStatus, readonly GrantStatus[]> = {
  PENDING: ['SENDING', 'SENT', 'RECEIVED', 'RFUND_ING', 'REFUND', 'FAILED', 'HELD'],
  DEFERRED: ['SENDING', 'SENT', 'RECEIVED', 'RFUND_ING', 'REFUND', 'FAILED', 'HELD'],
  SENDING: ['SENT', 'RECEIVED', 'RFUND_ING', 'REFUND', 'FAILED', 'HELD'],
  // Reconciliation may find that a packet recorded as SENT was another ledger's (a collision).
  SENT: ['RECEIVED', 'RFUND_ING', 'REFUND', 'HELD'],
  RFUND_ING: ['REFUND', 'HELD'],
  RECEIVED: [],
  REFUND: [],
  FAILED: [],
  REFUSED: [],
  // Nothing moves a held grant automatically: an operator decides (`redpack cancel`).
  HELD: [],
  // Only `Ledger.cancel` reaches it (never `settle`), and nothing leaves it.
  CANCELLED: [],
};

/**
 * Reason prefix of a grant HELD because WeChat Pay answered its bill number with another packet's
 * data (`billno_collision: the answer says re_openid …`).
 */
export const BILLNO_COLLISION = 'billno_collision';

/**
 * Whether a grant may move from one status to another. Settling is idempotent: a move that is not
 * allowed (already there, or backwards) changes nothing.
 *
 * @example canMove('SENT', 'RECEIVED') // → true;  canMove('SENT', 'FAILED') // → false
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_6&index=5
 */
export function canMove(from: GrantStatus, to: GrantStatus): boolean {
  return MOVES[from].includes(to);
}

// === Reservations

/** What a reservation protects; `settle({ release })` names kinds to give back. */
export type ReservationKind = 'budget' | 'per_user' | 'follower_daily' | 'merchant_daily';

/**
 * One limit, reserved atomically with the grant. The ledger keeps a running `(count, amountFen)` per
 * `key`; the grant is refused with `outcome`/`reason` when adding would exceed `maxCount` or
 * `maxAmountFen` (null = no cap on that dimension). Reservations are checked in the given order, so the
 * first one listed wins when several are exhausted.
 *
 * Keys (built by `src/rewards/limits.ts`): `budget:<campaign>`, `per-user:<campaign>:<openId>`,
 * `follower-day:<yyyymmdd>:<openId>`, `merchant-day:<yyyymmdd>`.
 */
export interface Reservation {
  kind: ReservationKind;
  key: string;
  count: number;
  amountFen: number;
  maxCount: number | null;
  maxAmountFen: number | null;
  outcome: Exclude<GrantOutcome, 'granted'>;
  reason: string;
}

/** A reservation as stored with its grant (what to give back on release). */
export interface HeldReservation {
  kind: ReservationKind;
  key: string;
  count: number;
  amountFen: number;
}

/** Running totals of one reservation key. */
export interface Usage {
  count: number;
  amountFen: number;
}

/**
 * The first reservation that would overflow, or undefined when all fit. Pure; the record and reissue
 * plans (`ledger-plans.ts`) use it after the store has read (and, on PostgreSQL, locked) the usage.
 *
 * @example firstExceeded([{ ...r, maxCount: 1 }], () => ({ count: 1, amountFen: 100 })) // → r
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function firstExceeded(reservations: readonly Reservation[], usageOf: (key: string) => Usage): Reservation | undefined {
  for (const r of reservations) {
    const u = usageOf(r.key);
    const overCount = r.maxCount !== null && u.count + r.count > r.maxCount;
    const overAmount = r.maxAmountFen !== null && u.amountFen + r.amountFen > r.maxAmountFen;
    if (overCount || overAmount) return { ...r, reason: exceededReason(r, u, overCount) };
  }
  return undefined;
}

/**
 * The reservation's reason with what was used and what this grant asked for, so a refusal says the
 * true cause: "campaign budget (500.00 yuan) or packets (100) used up: 8.75 yuan and 3 packets used,
 * this grant 500.00 yuan would exceed 500.00 yuan" rather than "used up" alone. Per-follower
 * limits keep their reason (it is the whole story).
 */
export function exceededReason(r: Reservation, u: Usage, overCount: boolean): string {
  if (r.kind === 'per_user') return r.reason;
  const used = `${fenToYuan(u.amountFen)} yuan and ${u.count} packet${u.count === 1 ? '' : 's'} used`;
  const why = overCount
    ? `${u.count} of ${r.maxCount} packet${r.maxCount === 1 ? '' : 's'} used`
    : `${used}, this grant's ${fenToYuan(r.amountFen)} yuan would exceed ${fenToYuan(r.maxAmountFen ?? 0)} yuan`;
  return `${r.reason}: ${why}`;
}

// === Records

/** What `recordGrant` needs. Built by `createRewards` (and the batch sender). */
export interface RecordGrantInput {
  dedupeKey: string;
  ruleId: string;
  campaign: string;
  openId: string;
  amountFen: number;
  /** `red_packet` today; stored for other reward kinds. */
  kind: string;
  /** Epoch ms of the request. */
  now: number;
  /**
   * `mch_id + yyyymmdd` (see `billNoPrefix`): the ledger adds its own tag (`withLedgerTag`), draws the
   * next sequence of that prefix inside the transaction and stores `formatBillNo(taggedPrefix, seq)`.
   * Card grants pass `cardGrantRefPrefix` instead (`CARD + yyyymmdd`): their own sequence, so a
   * coupon never takes a red-packet bill number.
   */
  billNoPrefix: string;
  /** Everything the worker sends, snapshotted now so every retry sends identical parameters. */
  payload: Record<string, unknown>;
  /** When the worker may first send it (now, or the end of quiet hours when deferred). */
  dueAt: number;
  /** Recorded as DEFERRED (quiet hours) rather than PENDING. */
  deferred: boolean;
  /** Checked and added atomically; any overflow → REFUSED with that reservation's outcome. */
  reservations: readonly Reservation[];
  /** Decided before the ledger (window, quiet hours in refuse mode, paused, …): recorded as REFUSED. */
  refusal?: { outcome: Exclude<GrantOutcome, 'granted'>; reason: string };
  /** Reason text stored on a granted row (e.g. "deferred until 08:00"). */
  note?: string;
}

/** A grant as stored. */
export interface LedgerGrant {
  id: number;
  dedupeKey: string;
  ruleId: string;
  kind: string;
  campaign: string;
  openId: string;
  amountFen: number;
  /**
   * The red packet's `mch_billno`; for a card grant its reference (`CARD…`, see `cardGrantRefPrefix`;
   * ledgers of earlier versions gave card grants a bill number, which stays as it was). Null only for
   * REFUSED grants.
   */
  billNo: string | null;
  status: GrantStatus;
  /** The outcome answered the first time (a retry answers the same). */
  outcome: GrantOutcome;
  reason: string | null;
  attempts: number;
  /** When the outbox may pick it next (null once settled). */
  nextAttemptAt: number | null;
  lastError: string | null;
  sendListId: string | null;
  payload: Record<string, unknown>;
  reservations: HeldReservation[];
  createdAt: number;
  updatedAt: number;
  sentAt: number | null;
  settledAt: number | null;
  /** Last reconciliation query. */
  checkedAt: number | null;
  /** An operator cancelled or reissued this grant: who, why, when. */
  operatorAction: OperatorAction | null;
  /** On a reissued grant: the bill number of the failed grant it re-pays. */
  reissueOf: string | null;
  /** On a failed grant that was reissued: the new grant's bill number. */
  reissuedAs: string | null;
}

/** `recordGrant`'s answer: `duplicate` when the key was already recorded (the first grant is returned). */
export interface RecordGrantResult {
  duplicate: boolean;
  grant: LedgerGrant;
}

/** A campaign held back by the worker (config error) or an operator. */
export interface CampaignPause {
  campaign: string;
  reason: string;
  by: 'worker' | 'operator';
  pausedAt: number;
}

/** One line of the ledger report. */
export interface LedgerSummaryRow {
  campaign: string;
  status: GrantStatus;
  count: number;
  amountFen: number;
}

/** What `settle` does. */
export interface SettleInput {
  status: Exclude<GrantStatus, 'PENDING' | 'DEFERRED' | 'SENDING' | 'REFUSED'>;
  now: number;
  sendListId?: string;
  reason?: string;
  /**
   * Reservation kinds to give back (FAILED: all; REFUND with restore_budget_on_refund: ['budget']).
   * Only with a final status (RECEIVED, REFUND, FAILED): any other settle with a release throws.
   */
  release?: readonly ReservationKind[];
  /** The WeChat Pay answer that decided this settlement, kept in the grant's history. */
  answer?: PayAnswer;
}

// === History (see `grant-events.ts`)

/** What happened to a grant (see `grant-events.ts`, which builds the events). */
export type GrantEventType = 'recorded' | 'limits_checked' | 'sending' | 'answered' | 'queried' | 'rescheduled' | 'settled' | 'cancelled' | 'reissued';

export const GRANT_EVENT_TYPES = [
  'recorded',
  'limits_checked',
  'sending',
  'answered',
  'queried',
  'rescheduled',
  'settled',
  'cancelled',
  'reissued',
] as const satisfies readonly GrantEventType[];

/**
 * A WeChat Pay answer as the Pay client classified it (`RedpackSendOutcome` / `RedpackQueryOutcome`):
 * the call, the outcome, the `err_code` (or the client's own code when WeChat did not answer one:
 * `HTTP_502`, `CLIENT_ERROR`, `RESULT_FAIL`, …) and `err_code_des` / `return_msg` (or the client's
 * message). A sent packet's `send_listid` and a query's `status` are kept in `detail`; WeChat's own
 * `return_code` / `result_code` beside them when it answered.
 */
export interface PayAnswer {
  /** `sendredpack`, `sendgroupredpack` or `gethbinfo`. */
  call: string;
  /** `sent`, `uncertain`, `config`, `failed`, `collision` (sends); `found`, `not_found`, `error` (queries). */
  outcome: string;
  code: string | null;
  message: string | null;
  /** `send_listid` of a sent packet, or the status `gethbinfo` answered. */
  detail: string | null;
  /** WeChat Pay's raw `return_code` / `result_code`, when it answered them (none for a network error or a local refusal). */
  returnCode?: string;
  resultCode?: string;
}

/** One event of a grant's history, as stored. */
export interface GrantEvent {
  id: number;
  grantId: number;
  /** Epoch ms. */
  at: number;
  type: GrantEventType;
  /** The grant's status after the event. */
  status: GrantStatus;
  /** What a person reads: the reason, the limits checked, the attempt number, who acted. */
  detail: string | null;
  answer: PayAnswer | null;
}

/** An event about to be appended (the store assigns the id). */
export type NewGrantEvent = Omit<GrantEvent, 'id'>;

// === Search (the console's ledger page and its CSV export)

/**
 * Which grants a search returns: every given field must match (absent: any). `createdFrom` is
 * inclusive and `createdBefore` exclusive (epoch ms; the console passes Beijing day bounds).
 */
export interface GrantFilter {
  openId?: string;
  billNo?: string;
  campaign?: string;
  /** Any of these statuses (absent or empty: any status). */
  statuses?: readonly GrantStatus[];
  createdFrom?: number;
  createdBefore?: number;
}

/**
 * One page of a search: `order` by id (`newest` first by default); `offset` skips rows (the console's
 * pages), `afterId` continues after a row in that order (keyset paging: the CSV export streams with it).
 */
export interface GrantPage {
  limit: number;
  offset?: number;
  afterId?: number;
  order?: 'newest' | 'oldest';
}

// === Operator actions (`redpack cancel` / `redpack reissue`)

/** Who decided, why, and when (recorded on the grant; `by` is the operator's name). */
export interface OperatorInput {
  by: string;
  reason: string;
  now: number;
}

/** An operator's decision as recorded on the grant it concerns. */
export interface OperatorAction {
  action: 'cancelled' | 'reissued';
  by: string;
  reason: string;
  at: number;
}

/** Why an operator action changed nothing. */
export type OperatorRefusalCode = 'unknown_bill' | 'not_red_packet' | 'already_sent' | 'in_flight' | 'closed' | 'not_failed' | 'already_reissued' | 'limit';

/** An operator action refused: nothing changed. `grant` is the grant as it is (when there is one). */
export interface OperatorRefusal {
  ok: false;
  code: OperatorRefusalCode;
  message: string;
  grant?: LedgerGrant;
}

export type CancelResult = { ok: true; grant: LedgerGrant } | OperatorRefusal;
/** `grant` is the new grant (new bill number, `reissueOf` = the old bill); `original` the failed one. */
export type ReissueResult = { ok: true; grant: LedgerGrant; original: LedgerGrant } | OperatorRefusal;

/** Statuses `redpack cancel` accepts: nothing was sent (PENDING, DEFERRED) or an operator holds it (HELD). */
export const CANCELLABLE_STATUSES: readonly GrantStatus[] = ['PENDING', 'DEFERRED', 'HELD'];

function refusal(code: OperatorRefusalCode, message: string, grant?: LedgerGrant): OperatorRefusal {
  return { ok: false, code, message, ...(grant ? { grant } : {}) };
}

/**
 * Why `redpack cancel` must not cancel this grant, or undefined when it may. Pure: the cancel plan
 * (`ledger-plans.ts`) calls it on the row the store has locked, so a worker that marked the grant SENDING a
 * moment earlier wins, and a worker that comes after finds it CANCELLED (`markSending` refuses).
 *
 * @example cancelRefusal(await ledger.findByBillNo(bill), bill)?.message
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function cancelRefusal(g: LedgerGrant | undefined, billNo: string): OperatorRefusal | undefined {
  if (!g) return refusal('unknown_bill', `no grant with bill number ${billNo} in this ledger`);
  if (g.kind !== 'red_packet') return refusal('not_red_packet', `${billNo} is a ${g.kind} grant, not a red packet`, g);
  if (CANCELLABLE_STATUSES.includes(g.status)) return undefined;
  switch (g.status) {
    case 'SENDING':
      return refusal(
        'in_flight',
        `${billNo} is SENDING: a send was attempted and WeChat Pay has not said yet whether it paid — it cannot be cancelled; ` +
          `the outbox queries it next (see "redpack status ${billNo} --query")`,
        g,
      );
    case 'SENT':
    case 'RECEIVED':
    case 'RFUND_ING':
    case 'REFUND':
      return refusal('already_sent', `${billNo} was already sent (${g.status}): a paid red packet cannot be cancelled`, g);
    default:
      return refusal('closed', `${billNo} is ${g.status}${g.status === 'CANCELLED' ? ' already' : ''}: nothing to cancel`, g);
  }
}

/**
 * Why `redpack reissue` must not re-pay this grant, or undefined when it may: only a FAILED red
 * packet, and only once (the old grant then links to the new one). Pure, called by the reissue plan
 * (`ledger-plans.ts`) on the row the store has locked.
 *
 * @example reissueRefusal(grant, bill) // { code: 'not_failed', … } for a SENT grant
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function reissueRefusal(g: LedgerGrant | undefined, billNo: string): OperatorRefusal | undefined {
  if (!g) return refusal('unknown_bill', `no grant with bill number ${billNo} in this ledger`);
  if (g.kind !== 'red_packet') return refusal('not_red_packet', `${billNo} is a ${g.kind} grant, not a red packet`, g);
  if (g.reissuedAs !== null)
    return refusal(
      'already_reissued',
      `${billNo} was already reissued as ${g.reissuedAs}${g.operatorAction ? ` by ${g.operatorAction.by}` : ''}: a grant is reissued once`,
      g,
    );
  if (g.status !== 'FAILED') return refusal('not_failed', `${billNo} is ${g.status}, not FAILED: only a failed red packet can be reissued`, g);
  return undefined;
}

/**
 * The refusal for a reissue whose new grant would exceed a limit (nothing recorded), or undefined.
 *
 * @example reissueLimitRefusal(input.reservations, usageOf, original)
 */
export function reissueLimitRefusal(reservations: readonly Reservation[], usageOf: (key: string) => Usage, original: LedgerGrant): OperatorRefusal | undefined {
  const over = firstExceeded(reservations, usageOf);
  return over ? refusal('limit', `the new grant would be refused (${over.outcome}): ${over.reason}; nothing was recorded`, original) : undefined;
}

// === The ports

/**
 * What the grant path and the outbox write through: record a grant, lease and settle outbox
 * entries, operator cancel/reissue, campaign pauses, and the few reads those writes need (a grant by
 * key or id, a reservation's usage, the paused campaigns). Used by `createRewards`, the outbox
 * worker, reconciliation and the card sender.
 *
 * @example const { duplicate, grant } = await ledger.recordGrant(input);
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export interface LedgerWrites {
  /**
   * This ledger's tag inside its bill numbers (three digits, drawn when the ledger was created and
   * kept with it), so two ledgers on one mch_id never number a bill alike. See `withLedgerTag`.
   */
  readonly billTag: string;
  /** Records a grant (or its refusal) atomically; see the module doc. */
  recordGrant(input: RecordGrantInput): Promise<RecordGrantResult>;
  /**
   * Leases up to `limit` due outbox entries (due, lease free or expired, campaign not paused), oldest
   * first. PostgreSQL uses `FOR UPDATE SKIP LOCKED`, so concurrent workers never claim the same entry
   * while a lease is live.
   */
  claimDue(opts: { owner: string; now: number; leaseMs: number; limit: number }): Promise<LedgerGrant[]>;
  /**
   * Marks an attempt (status SENDING, attempts + 1) just before calling WeChat Pay. Returns false when
   * the caller's lease is gone or the grant is no longer open — then it must not send.
   */
  markSending(id: number, opts: { owner: string; now: number; answer?: PayAnswer }): Promise<boolean>;
  /**
   * Gives the lease back and sets when to try again (same bill number), with the last error; with
   * `lastError` or `answer` (the Pay answer that made it wait), the grant's history says so.
   */
  reschedule(id: number, opts: { owner: string; dueAt: number; now: number; lastError?: string; answer?: PayAnswer }): Promise<void>;
  /**
   * Moves a grant to a settled status when {@link canMove} allows it, removes its outbox entry (for
   * SENT and later, FAILED or HELD), and releases the named reservations (a final status only) — all in one transaction. Returns
   * false when nothing changed (already settled that way or further).
   */
  settle(id: number, input: SettleInput): Promise<boolean>;
  /** Records that reconciliation looked at a grant. */
  markChecked(id: number, now: number): Promise<void>;
  /**
   * Cancels a grant not yet sent (or HELD), in one transaction: status CANCELLED with who/why, out of
   * the outbox (even while a worker holds its lease: that worker's `markSending` then fails), every
   * reservation released. Refused (nothing changed) per {@link cancelRefusal}.
   */
  cancel(billNo: string, input: OperatorInput): Promise<CancelResult>;
  /**
   * Reissues a FAILED red packet as a new grant (`grant`, planned by `planReissue`: a new bill
   * number, reservations checked), in one transaction with the old grant's link and who/why. Exactly
   * once, across processes: refused per {@link reissueRefusal} / {@link reissueLimitRefusal}, and the
   * new grant's `(dedupeKey, ruleId)` and `reissueOf` are unique.
   */
  reissue(billNo: string, input: OperatorInput & { grant: RecordGrantInput }): Promise<ReissueResult>;
  pauseCampaign(campaign: string, opts: { reason: string; by: CampaignPause['by']; now: number }): Promise<void>;
  /** Returns true when the campaign was paused. */
  resumeCampaign(campaign: string): Promise<boolean>;
  getGrant(id: number): Promise<LedgerGrant | undefined>;
  findByKey(dedupeKey: string, ruleId: string): Promise<LedgerGrant | undefined>;
  pausedCampaigns(): Promise<CampaignPause[]>;
  usage(key: string): Promise<Usage>;
}

/**
 * The reporting queries of the CLI and the console (`redpack status`, `ledger summary`, CSV export):
 * reads only.
 *
 * @example const rows = await ledger.summary();
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_6&index=5
 */
export interface LedgerReports {
  findByBillNo(billNo: string): Promise<LedgerGrant | undefined>;
  /**
   * Grants in the given statuses, least recently checked first (reconciliation, reports); with
   * `kind`, only grants of that reward kind (`red_packet`, `card`).
   */
  listByStatus(statuses: readonly GrantStatus[], opts?: { limit?: number; sentBefore?: number; kind?: string }): Promise<LedgerGrant[]>;
  /** Every grant, oldest first (CSV export, tests). */
  listAll(opts?: { campaign?: string; limit?: number; afterId?: number }): Promise<LedgerGrant[]>;
  /** Counts and amounts per campaign and status. */
  summary(): Promise<LedgerSummaryRow[]>;
  /** Grants still in the outbox. */
  openCount(): Promise<number>;
  /** One page of the grants matching `filter` (see {@link GrantFilter}, {@link GrantPage}). */
  findGrants(filter: GrantFilter, page: GrantPage): Promise<LedgerGrant[]>;
  /** How many grants match `filter`. */
  countGrants(filter: GrantFilter): Promise<number>;
  /** A grant's history, oldest first (empty for grants recorded before the history was kept). */
  grantEvents(grantId: number): Promise<GrantEvent[]>;
  /**
   * The console's chart: per `bucketMs` from `since` (inclusive) to `until` (exclusive), how many
   * grants were recorded as granted (`createdAt`), sent (`sentAt`), claimed (RECEIVED, `settledAt`) and
   * refunded (REFUND, `settledAt`); every bucket listed, oldest first, zeros included. At most 2000
   * buckets (RangeError otherwise).
   */
  activity(window: ActivityWindow): Promise<ActivityBucket[]>;
}

/** The span and bucket size of {@link LedgerReports.activity}; `campaign` narrows it to one campaign. */
export interface ActivityWindow {
  since: number;
  until: number;
  bucketMs: number;
  campaign?: string;
}

/** One bucket of {@link LedgerReports.activity}: its start (epoch ms) and counts. */
export interface ActivityBucket {
  start: number;
  grants: number;
  sends: number;
  claims: number;
  refunds: number;
}

/** A whole ledger, as every adapter implements it: both ports and `close()`. */
export interface Ledger extends LedgerWrites, LedgerReports {
  close(): Promise<void>;
}

/** An unexpected store failure inside the ledger (not a business refusal); defined beside `StoreError` (lib/store-error.ts). */
export { LedgerError } from '../lib/store-error';
