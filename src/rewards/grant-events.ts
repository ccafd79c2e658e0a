/**
 * A grant's history: an append-only list of events, one or two per state change, written by the
 * ledger plans (`ledger-plans.ts`) in the SAME transaction as the change they describe — so a change
 * is never without its event and an event never without its change, and a failing event write fails
 * (and rolls back) the change with it, loudly: it can never let a payment go on silently unrecorded.
 * Events are never updated or deleted. Grants recorded before the history existed simply have none
 * (the console then shows the grant's own timestamps).
 *
 * What the events say (type → when):
 * - `recorded`: the grant was recorded (PENDING, DEFERRED, or REFUSED by a check made before the ledger);
 * - `limits_checked`: the ledger checked the reservations (which keys; the refusal when one was exceeded);
 * - `sending`: the outbox marked an attempt (SENDING, attempt n) just before calling WeChat Pay;
 * - `answered`: WeChat Pay's answer to a send (`sendredpack` / `sendgroupredpack`), as the Pay client classified it;
 * - `queried`: the answer of `gethbinfo` (outbox before a resend, or reconciliation);
 * - `rescheduled`: the outbox put the grant back with an error (same bill number);
 * - `settled`: a settled status (SENT, RECEIVED, RFUND_ING, REFUND, FAILED, HELD);
 * - `cancelled` / `reissued`: an operator's action (who, why).
 *
 * @example const events = await ledger.grantEvents(grant.id); // oldest first
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import { clip } from '../lib/clip';
import type { PayWireCodes, RedpackQueryOutcome, RedpackSendOutcome } from '../pay/types';
import type { GrantEventType, LedgerGrant, NewGrantEvent, PayAnswer, Reservation } from './ledger';

// === The events of each change (pure; the plans append them)

/**
 * The events of a grant just recorded: `recorded`, then `limits_checked` when the ledger checked
 * reservations (a refusal decided before the ledger checked none).
 *
 * @example recordedEvents(grant, input.reservations, true)
 */
export function recordedEvents(g: LedgerGrant, reservations: readonly Reservation[], checked: boolean): NewGrantEvent[] {
  const base = { grantId: g.id, at: g.createdAt, status: g.status, answer: null };
  const recorded: NewGrantEvent = { ...base, type: 'recorded', detail: clip(recordedDetail(g)) };
  if (!checked) return [recorded];
  const keys = reservations.map((r) => r.key);
  const what = keys.length === 0 ? 'no limits to check' : `${keys.length} checked: ${keys.join(', ')}`;
  const detail = g.status === 'REFUSED' ? `${what}; refused (${g.outcome}): ${g.reason ?? ''}` : `${what}; all within`;
  return [recorded, { ...base, type: 'limits_checked', detail: clip(detail) }];
}

function recordedDetail(g: LedgerGrant): string {
  const parts = [g.billNo ? `bill ${g.billNo}` : 'no bill number'];
  if (g.reissueOf) parts.push(`reissue of ${g.reissueOf}`);
  if (g.status === 'REFUSED' && g.reason) parts.push(`refused (${g.outcome}): ${g.reason}`);
  else if (g.reason) parts.push(g.reason);
  return parts.join('; ');
}

/**
 * The events of a Pay answer and the change it led to: `answered` / `queried` (when there is an
 * answer), then the change's own event.
 *
 * @example withAnswer(answer, { grantId, at, type: 'settled', status: 'SENT', detail: null })
 */
export function withAnswer(answer: PayAnswer | undefined, event: Omit<NewGrantEvent, 'answer'>): NewGrantEvent[] {
  const own: NewGrantEvent = { ...event, detail: clip(event.detail), answer: null };
  if (!answer) return [own];
  const type: GrantEventType = answer.call === 'gethbinfo' ? 'queried' : 'answered';
  return [{ grantId: event.grantId, at: event.at, type, status: event.status, detail: null, answer: clipAnswer(answer) }, own];
}

function clipAnswer(a: PayAnswer): PayAnswer {
  const clipped: PayAnswer = {
    call: clip(a.call, 40) ?? '',
    outcome: clip(a.outcome, 40) ?? '',
    code: clip(a.code, 80),
    message: clip(a.message),
    detail: clip(a.detail, 80),
  };
  return { ...clipped, ...wire(a) };
}

/** WeChat Pay's raw `return_code` / `result_code` of an outcome or answer (each only when present, clipped). */
function wire(o: PayWireCodes): PayWireCodes {
  const returnCode = clip(o.returnCode, 40);
  const resultCode = clip(o.resultCode, 40);
  return { ...(returnCode ? { returnCode } : {}), ...(resultCode ? { resultCode } : {}) };
}

// === Pay answers as history

/**
 * A send's answer for the history.
 *
 * @example sendAnswer('sendredpack', { status: 'failed', code: 'SENDNUM_LIMIT', message: '该用户今日领取红包个数超过限制' })
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function sendAnswer(call: string, o: RedpackSendOutcome): PayAnswer {
  if (o.status === 'sent') return { call, outcome: 'sent', code: null, message: null, detail: o.sendListId || null, ...wire(o) };
  return { call, outcome: o.status, code: o.code, message: o.message, detail: null, ...wire(o) };
}

/**
 * A `gethbinfo` answer for the history (the status it answered in `detail`).
 *
 * @example queryAnswer({ status: 'not_found' }) // { call: 'gethbinfo', outcome: 'not_found', code: 'NOT_FOUND', … }
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_6&index=5
 */
export function queryAnswer(q: RedpackQueryOutcome): PayAnswer {
  const call = 'gethbinfo';
  if (q.status === 'found') return { call, outcome: 'found', code: null, message: q.info.reason ?? null, detail: q.info.status, ...wire(q) };
  if (q.status === 'not_found') return { call, outcome: 'not_found', code: 'NOT_FOUND', message: null, detail: null, ...wire(q) };
  return { call, outcome: 'error', code: q.code, message: q.message, detail: null, ...wire(q) };
}
