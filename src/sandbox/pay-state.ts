/**
 * The one state object of the Pay sandbox: its settings (merchant, key, bound appids, limits, answer
 * shapes), the merchant's balance, the packets it paid by bill number, every request received, the
 * fault settings and the seeded PRNG they draw from. Every area module (`pay-send-routes.ts`,
 * `pay-query-routes.ts`) and the money rules (`pay-money.ts`) read and change it; with a state file
 * the bills and the balance survive a restart (written by {@link persist}, read by {@link createPayState}).
 *
 * @example const state = createPayState(config); persist(state);
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import type { RedpackStatus } from '../pay/types';
import { seededRandom } from './api-faults';
import type { PaySandboxEndpoint } from './pay-validate';

// === Public types

/** Fault injection; rates are probabilities 0–1 drawn from the seeded PRNG, checked in this order. */
export interface PaySandboxFaults {
  /** Added before every answer. */
  latencyMs?: number;
  /** Destroy the connection without an answer. */
  resetRate?: number;
  /** Answer HTTP 503 with an HTML page. */
  http5xxRate?: number;
  /** Never answer (the client's timeout fires); the socket is destroyed only by close(). */
  timeoutRate?: number;
  /** Answer 200 with a body that is not WeChat Pay XML. */
  garbageRate?: number;
  /** Answer `SYSTEMERROR`. */
  systemErrorRate?: number;
  /**
   * For reset / 5xx / timeout / garbage / SYSTEMERROR on a send: the share of them for which the packet
   * WAS paid before the answer went wrong (default 0.5; 1 = always paid, 0 = never).
   */
  paidShare?: number;
  /** Pay, but answer with a corrupted `sign`. */
  badSignatureRate?: number;
  /** Pay with status SENDING and answer `PROCESSING` (settles on the next query or re-send: SENT, or FAILED — see `processingFailShare`). */
  processingRate?: number;
  /**
   * Of the PROCESSING packets, the share that end FAILED instead of SENT (default 0): WeChat's risk
   * control stopped them (gethbinfo `status` FAILED with `reason`), the money goes back and a re-send of
   * the bill answers NO_AUTH.
   */
  processingFailShare?: number;
  /** Answer this err_code to sends (nothing paid), e.g. NOTENOUGH, API_METHOD_CLOSED. Re-entry of a paid bill still wins. */
  errCode?: string;
  /** How many sends get `errCode` (default: every one until cleared). */
  errCodeTimes?: number;
  /** Endpoints the rate faults apply to (default: all three). `errCode` applies to sends only. */
  endpoints?: PaySandboxEndpoint[];
}

/** One red packet the sandbox paid. */
export interface SandboxPayment {
  billNo: string;
  endpoint: 'sendredpack' | 'sendgroupredpack';
  openId: string;
  amountFen: number;
  totalNum: number;
  wxappid: string;
  subMchId?: string;
  /**
   * How often money left for this bill number: incremented by every payout recorded for the bill
   * (so a broken re-entry would show 2), taken back when a SENDING packet ends FAILED (0).
   */
  timesPaid: number;
  /** gethbinfo `reason` of a FAILED packet. */
  failReason?: string;
  /** Decided when the packet was accepted as PROCESSING: it ends FAILED, not SENT. */
  endsFailed?: boolean;
  /** When the unclaimed packet turned RFUND_ING (24 h after it was sent). */
  refundingAt?: number;
  sendListId: string;
  detailId: string;
  status: RedpackStatus;
  sentAt: number;
  receivedAt?: number;
  refundedAt?: number;
  receivedBy?: { openId: string; amountFen: number; receivedAt: number }[];
  /** The request fields of the paying call, without `sign` and `nonce_str`. */
  fields: Record<string, string>;
}

/** One request as received. */
export interface SandboxPayCall {
  endpoint: PaySandboxEndpoint | string;
  /** Raw fields as parsed (including `sign`/`nonce_str`); empty when the body was not XML. */
  fields: Record<string, string>;
  /** CN of the client certificate. */
  certCn: string;
  at: number;
  /** What happened: an err_code, SUCCESS, or the fault (RESET, HTTP_503, TIMEOUT, GARBAGE, BAD_SIGNATURE). */
  outcome: string;
  /** Whether this call paid. */
  paid: boolean;
}

// === State

/** The settings of a sandbox, checked and defaulted by `startPaySandbox`. */
export interface PayStateConfig {
  mchId: string;
  key: string;
  /** Official Account appids bound to the merchant. */
  appIds: ReadonlySet<string>;
  /** Sub-merchants of this service provider. */
  subMchIds: ReadonlySet<string>;
  clock: Clock;
  amountRules: { defaultRangeFen: readonly [number, number]; sceneRangeFen: readonly [number, number] };
  perUserDailyCount: number;
  perUserDailyAmountFen: number;
  merchantDailyAmountFen: number;
  refundAfterMs: number;
  refundSettleMs: number;
  /** No limit when empty. */
  sendRate: { perSecond?: number; perMinute?: number };
  answerSign: 'sends' | 'none' | 'all';
  reentryMismatch: 'first_result' | 'fatal_error';
  /** Where the bills and the balance are kept between runs (none: memory only). */
  stateFile?: string;
  log?: Logger;
}

/** Everything the Pay sandbox knows. */
export interface PayState {
  readonly config: Readonly<PayStateConfig>;
  balanceFen: number;
  /** Paid packets by bill number. */
  readonly payments: Map<string, SandboxPayment>;
  /** Every request received, in order. */
  readonly calls: SandboxPayCall[];
  faults: PaySandboxFaults;
  /** How many more sends get `faults.errCode`. */
  errCodeLeft: number;
  /** The last send_listid / detail_id sequence number. */
  seq: number;
  /** The seeded PRNG the faults draw from. */
  readonly random: () => number;
}

/**
 * The state of a sandbox: from its state file when there is one, else empty with `balanceFen`.
 *
 * @example const state = createPayState(config, { balanceFen: 100_000_000, seed: 1 });
 */
export function createPayState(config: PayStateConfig, start: { balanceFen: number; seed: number }): PayState {
  const state: PayState = {
    config,
    balanceFen: start.balanceFen,
    payments: new Map(),
    calls: [],
    faults: {},
    errCodeLeft: Infinity,
    seq: 0,
    random: seededRandom(start.seed),
  };
  if (config.stateFile !== undefined) {
    const saved = loadPayState(config.stateFile, config.mchId);
    if (saved) {
      for (const p of saved.payments) state.payments.set(p.billNo, p);
      state.balanceFen = saved.balanceFen;
      state.seq = saved.seq;
    }
  }
  return state;
}

/**
 * Writes the state file (when there is one): temp file + rename, so a crash leaves the old or the new state.
 *
 * @example state.balanceFen = 0; persist(state);
 */
export function persist(state: PayState): void {
  const { stateFile, mchId } = state.config;
  if (stateFile !== undefined) savePayState(stateFile, { version: 1, mchId, balanceFen: state.balanceFen, seq: state.seq, payments: [...state.payments.values()] });
}

/** Whether the rate faults apply to `endpoint`. */
export function faultsApply(state: PayState, endpoint: PaySandboxEndpoint): boolean {
  return state.faults.endpoints === undefined || state.faults.endpoints.includes(endpoint);
}

/** One draw of the PRNG against `rate` (never true for an unset or zero rate). */
export function roll(state: PayState, rate: number | undefined): boolean {
  return rate !== undefined && rate > 0 && state.random() < rate;
}

// === State file

/** What the state file holds. */
export interface PayStateFile {
  version: 1;
  mchId: string;
  balanceFen: number;
  seq: number;
  payments: SandboxPayment[];
}

/**
 * Reads a state file written by {@link savePayState}; undefined when there is none yet. A file that is
 * not a sandbox state, or another merchant's, throws with the file named and the fix.
 */
export function loadPayState(file: string, mchId: string): PayStateFile | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let state: Partial<PayStateFile>;
  try {
    state = JSON.parse(text) as Partial<PayStateFile>;
  } catch {
    throw new Error(`sandbox state ${file} is not JSON: move it away to start with an empty sandbox`);
  }
  if (state.version !== 1 || !Array.isArray(state.payments) || !Number.isSafeInteger(state.balanceFen) || !Number.isSafeInteger(state.seq))
    throw new Error(`sandbox state ${file} is not a Pay sandbox state (version 1): move it away to start with an empty sandbox`);
  if (state.mchId !== mchId)
    throw new Error(`sandbox state ${file} belongs to merchant ${String(state.mchId)}, not ${mchId}: use another data folder or move the file away`);
  return state as PayStateFile;
}

/** Writes the state: a temp file beside it (mode 0600), then rename, so readers see the old or the new file whole. */
export function savePayState(file: string, state: PayStateFile): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state), { mode: 0o600 });
  fs.renameSync(tmp, file);
}
