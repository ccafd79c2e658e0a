/**
 * What the ledger page shows of a grant and of its history, as plain values (the HTML views and the
 * JSON API show the same): amounts in yuan with two decimals, times in Beijing time with the zone.
 * The openid is shown (operators search by it); the payload is not (it is what the worker sends, not
 * what an operator reads), and the ledger holds no secret and no card code (codes live with the card
 * tracker). A grant recorded before the history was kept gets its history from its own timestamps.
 *
 * @example const detail = await grantDetail(ledger, 42); // { grant, history, fromTimestamps } | undefined
 */
import { beijingTime } from '../lib/clock';
import { fenToYuan } from '../lib/money';
import type { GrantEvent, LedgerGrant, LedgerReports, LedgerWrites, PayAnswer } from '../rewards/ledger';

/** A grant as the page shows it. */
export interface GrantView {
  id: number;
  billNo: string | null;
  campaign: string;
  kind: string;
  openId: string;
  amountYuan: string;
  status: string;
  outcome: string;
  reason: string | null;
  attempts: number;
  createdAt: string;
  sentAt: string | null;
  settledAt: string | null;
  checkedAt: string | null;
  nextAttemptAt: string | null;
  lastError: string | null;
  sendListId: string | null;
  operatorAction: { action: string; by: string; reason: string; at: string } | null;
  reissueOf: string | null;
  reissuedAs: string | null;
}

/** One line of a grant's history as the page shows it. */
export interface HistoryView {
  at: string;
  type: string;
  status: string;
  detail: string | null;
  answer: PayAnswer | null;
}

export interface GrantDetail {
  grant: GrantView;
  history: HistoryView[];
  /** True when the ledger kept no history for this grant (recorded before it did): `history` comes from its timestamps. */
  fromTimestamps: boolean;
}

const timeOrNull = (ms: number | null): string | null => (ms === null ? null : beijingTime(ms));

/** A grant as the page shows it. */
export function grantView(g: LedgerGrant): GrantView {
  return {
    id: g.id,
    billNo: g.billNo,
    campaign: g.campaign,
    kind: g.kind,
    openId: g.openId,
    amountYuan: fenToYuan(g.amountFen),
    status: g.status,
    outcome: g.outcome,
    reason: g.reason,
    attempts: g.attempts,
    createdAt: beijingTime(g.createdAt),
    sentAt: timeOrNull(g.sentAt),
    settledAt: timeOrNull(g.settledAt),
    checkedAt: timeOrNull(g.checkedAt),
    nextAttemptAt: timeOrNull(g.nextAttemptAt),
    lastError: g.lastError,
    sendListId: g.sendListId,
    operatorAction: g.operatorAction ? { ...g.operatorAction, at: beijingTime(g.operatorAction.at) } : null,
    reissueOf: g.reissueOf,
    reissuedAs: g.reissuedAs,
  };
}

const eventView = (e: GrantEvent): HistoryView => ({ at: beijingTime(e.at), type: e.type, status: e.status, detail: e.detail, answer: e.answer });

/** The history a grant's own timestamps tell (for grants recorded before the ledger kept one). */
function historyFromTimestamps(g: LedgerGrant): HistoryView[] {
  const out: HistoryView[] = [{ at: beijingTime(g.createdAt), type: 'recorded', status: g.status === 'REFUSED' ? 'REFUSED' : 'PENDING', detail: null, answer: null }];
  if (g.sentAt !== null)
    out.push({ at: beijingTime(g.sentAt), type: 'settled', status: 'SENT', detail: g.sendListId ? `send_listid ${g.sendListId}` : null, answer: null });
  if (g.settledAt !== null && g.status !== 'REFUSED') out.push({ at: beijingTime(g.settledAt), type: 'settled', status: g.status, detail: g.reason, answer: null });
  if (g.checkedAt !== null) out.push({ at: beijingTime(g.checkedAt), type: 'queried', status: g.status, detail: 'last reconciliation query', answer: null });
  return out;
}

/**
 * A grant and its history, or undefined when the ledger has no such grant.
 *
 * @example await grantDetail(deps.ledger, Number(ctx.params.id))
 */
export async function grantDetail(ledger: Pick<LedgerWrites, 'getGrant'> & Pick<LedgerReports, 'grantEvents'>, id: number): Promise<GrantDetail | undefined> {
  const g = await ledger.getGrant(id);
  if (!g) return undefined;
  const events = await ledger.grantEvents(id);
  return { grant: grantView(g), history: events.length > 0 ? events.map(eventView) : historyFromTimestamps(g), fromTimestamps: events.length === 0 };
}
