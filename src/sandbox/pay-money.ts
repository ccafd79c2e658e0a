/**
 * The money rules of the Pay sandbox, over its state: every payout debits the balance and is counted
 * on its bill (`timesPaid`); a SENDING packet settles on the next query or re-send (SENT, or FAILED
 * with the money back); unclaimed packets turn RFUND_ING after 24 h and REFUND later; the merchant's
 * send rate and the per-day counts and amounts are what WeChat Pay's limits are checked against.
 *
 * @example sweep(state); const today = paidToday(state, (p) => p.openId === openId);
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_6&index=5
 */
import { shanghaiParts } from '../lib/clock';
import type { PayState, SandboxPayment } from './pay-state';
import type { PayRefusal } from './pay-validate';

/** gethbinfo `reason` of a packet WeChat's risk control stopped, and the err_code_des of NO_AUTH. */
export const RISK_REFUSAL = '发放失败,此请求可能存在风险,已被微信拦截';

/**
 * Money leaves for one bill: debits the balance and counts the payout on the bill's record (created
 * on the first payout). Every payout goes through here, so `timesPaid` counts them all.
 */
export function recordPayout(state: PayState, packet: Omit<SandboxPayment, 'timesPaid'>): SandboxPayment {
  state.balanceFen -= packet.amountFen;
  const p = state.payments.get(packet.billNo) ?? { ...packet, timesPaid: 0 };
  p.timesPaid += 1;
  state.payments.set(p.billNo, p);
  return p;
}

/** The money goes back: the packet is REFUND from `now`. */
export function refund(state: PayState, p: SandboxPayment, now: number): void {
  p.status = 'REFUND';
  p.refundedAt = now;
  state.balanceFen += p.amountFen;
}

/** Unclaimed packets: SENT → RFUND_ING after refundAfterMs, → REFUND refundSettleMs later (each seen on the next request). */
export function sweep(state: PayState): void {
  const { refundAfterMs, refundSettleMs } = state.config;
  const now = state.config.clock.now();
  for (const p of state.payments.values()) {
    if (p.status === 'SENT' && now - p.sentAt >= refundAfterMs) {
      p.status = 'RFUND_ING';
      p.refundingAt = p.sentAt + refundAfterMs;
    }
    if (p.status === 'RFUND_ING' && now - (p.refundingAt ?? p.sentAt) >= refundSettleMs) refund(state, p, now);
  }
}

/** A SENDING packet settles on the next query or re-send: SENT, or FAILED with the money back. */
export function settleSending(state: PayState, p: SandboxPayment): void {
  if (p.status !== 'SENDING') return;
  if (!p.endsFailed) {
    p.status = 'SENT';
    return;
  }
  p.status = 'FAILED';
  p.failReason = RISK_REFUSAL;
  p.timesPaid -= 1;
  state.balanceFen += p.amountFen;
}

/** Count and amount of today's (Beijing) packets that `filter` keeps, FAILED ones left out. */
export function paidToday(state: PayState, filter: (p: SandboxPayment) => boolean): { count: number; amount: number } {
  const today = shanghaiParts(state.config.clock.now()).ymd;
  let count = 0;
  let amount = 0;
  for (const p of state.payments.values()) {
    if (p.status === 'FAILED' || shanghaiParts(p.sentAt).ymd !== today || !filter(p)) continue;
    count += 1;
    amount += p.amountFen;
  }
  return { count, amount };
}

/** FREQ_LIMIT when one more send now would exceed the merchant's send rate (options.sendRate). */
export function rateRefusal(state: PayState): PayRefusal | undefined {
  const { sendRate } = state.config;
  const now = state.config.clock.now();
  const windows: [number | undefined, number, string][] = [
    [sendRate.perSecond, 1000, 'second'],
    [sendRate.perMinute, 60_000, 'minute'],
  ];
  for (const [limit, ms, per] of windows) {
    if (limit === undefined) continue;
    let sent = 0;
    for (const p of state.payments.values()) if (Math.floor(p.sentAt / ms) === Math.floor(now / ms)) sent += 1;
    if (sent >= limit) return { errCode: 'FREQ_LIMIT', des: `超过频率限制,请稍后再试 (the merchant sends at most ${limit} per ${per})` };
  }
  return undefined;
}

/** The next send_listid and detail_id (WeChat's shapes, with the Beijing date). */
export function nextIds(state: PayState): { sendListId: string; detailId: string } {
  state.seq += 1;
  const ymd = shanghaiParts(state.config.clock.now()).ymd;
  return { sendListId: `10000000${ymd}${String(state.seq).padStart(14, '0')}`, detailId: `10000417${ymd}${String(state.seq).padStart(15, '0')}` };
}

/** Who opened a packet when the test names nobody: the payee, or for a group packet the payee and friends. */
function defaultClaims(p: SandboxPayment): { openId: string; amountFen: number }[] {
  if (p.totalNum === 1) return [{ openId: p.openId, amountFen: p.amountFen }];
  const share = Math.floor(p.amountFen / p.totalNum);
  return Array.from({ length: p.totalNum }, (_, i) => ({
    openId: i === 0 ? p.openId : `${p.openId.slice(0, 28)}_${i}`,
    amountFen: i === 0 ? p.amountFen - share * (p.totalNum - 1) : share,
  }));
}

/** The follower opens the packet: SENT → RECEIVED. Throws when the bill is unknown or not SENT. */
export function receive(state: PayState, billNo: string, claims?: { openId: string; amountFen: number }[]): void {
  const p = state.payments.get(billNo);
  if (!p) throw new Error(`sandbox: no red packet ${billNo}`);
  sweep(state);
  settleSending(state, p);
  if (p.status !== 'SENT' && p.status !== 'SENDING') throw new Error(`sandbox: red packet ${billNo} is ${p.status}, not SENT`);
  const now = state.config.clock.now();
  p.status = 'RECEIVED';
  p.receivedAt = now;
  p.receivedBy = (claims ?? defaultClaims(p)).map((c) => ({ ...c, receivedAt: now }));
}

/** Refunds SENT (and RFUND_ING) packets older than `olderThanMs` at once; returns their bill numbers. */
export function refundUnclaimed(state: PayState, olderThanMs: number): string[] {
  const now = state.config.clock.now();
  const refunded: string[] = [];
  for (const p of state.payments.values()) {
    if ((p.status === 'SENT' || p.status === 'RFUND_ING') && now - p.sentAt >= olderThanMs) {
      refund(state, p, now);
      refunded.push(p.billNo);
    }
  }
  return refunded;
}
