/**
 * An operator's points change (`cards points add|set CODE N --reason --by`) and the member view
 * (`cards member`): both read the member's total from the ledger ({@link pointsTotal}), and a change
 * is a points grant recorded in the same ledger (kind `points`, the operator and the reason kept on
 * the row) that the outbox sends like any other — one total at a time per member, absolute, never
 * twice. A dry run runs the same checks and records nothing.
 *
 * @example const r = await changeMemberPoints(deps, { cardName: 'gold', code, mode: 'add', n: 50, by: 'alice', reason: 'goodwill', dryRun: false });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Membership_Cards/Manage_Member_Card.html
 */
import { randomBytes } from 'node:crypto';
import { pointsGrantRefPrefix } from '../rewards/bill-no';
import { OPEN_STATUSES, type Ledger, type LedgerGrant } from '../rewards/ledger';
import { operatorInputProblem } from '../rewards/operator-actions';
import type { Member } from './member-store';
import { MAX_BONUS } from './points-campaign-schema';
import { memberPointsGrants, pointsChange, pointsTotal } from './points-sender';

/** The rule id of an operator's points grant. */
export const OPERATOR_POINTS_RULE = 'cli:cards-points';

export interface MemberPointsDeps {
  ledger: Pick<Ledger, 'findGrants' | 'recordGrant'>;
  members: { findByCode(cardId: string, code: string): Promise<Member | undefined> };
  cardIdOf(cardName: string): Promise<string | undefined>;
}

export interface PointsChangeInput {
  cardName: string;
  code: string;
  mode: 'add' | 'set';
  n: number;
  by: string;
  reason: string;
  now: number;
  dryRun: boolean;
}

export type PointsChangeResult = { ok: true; recorded: boolean; grant?: LedgerGrant; member: Member; before: number; after: number } | { ok: false; message: string };

/** The member's total now (credited grants) and once every open grant is sent. */
export function memberTotals(member: Pick<Member, 'initialBonus'>, history: readonly LedgerGrant[]): { total: number; projected: number } {
  const total = pointsTotal(member.initialBonus, history);
  const projected = pointsTotal(
    member.initialBonus,
    history.map((g) => (OPEN_STATUSES.includes(g.status) ? { ...g, status: 'SENT' as const } : g)),
  );
  return { total, projected };
}

/**
 * Checks and (unless a dry run) records an operator's points change.
 *
 * @example await changeMemberPoints(deps, { cardName: 'gold', code: '1000…', mode: 'set', n: 0, by: 'alice', reason: 'reset', now, dryRun: true })
 */
export async function changeMemberPoints(deps: MemberPointsDeps, input: PointsChangeInput): Promise<PointsChangeResult> {
  const problem = operatorInputProblem(input.by, input.reason);
  if (problem) return { ok: false, message: problem };
  if (!Number.isSafeInteger(input.n)) return { ok: false, message: `N must be an integer, not "${input.n}"` };
  if (input.mode === 'add' && input.n === 0) return { ok: false, message: 'adding 0 points changes nothing' };
  const cardId = await deps.cardIdOf(input.cardName);
  if (!cardId) return { ok: false, message: `member card "${input.cardName}" is not created yet: run "cards sync"` };
  const member = await deps.members.findByCode(cardId, input.code);
  if (!member) return { ok: false, message: `no member of ${input.cardName} has that code` };
  if (member.activatedAt === undefined) return { ok: false, message: 'the member has not activated the card: points cannot be set yet' };
  const history = await memberPointsGrants(deps.ledger, input.cardName, member.openId);
  const { projected } = memberTotals(member, history);
  const after = input.mode === 'set' ? input.n : projected + input.n;
  if (after < 0) return { ok: false, message: `the member would have ${after} points (has ${projected} once open grants are sent): points cannot go below 0` };
  if (after > MAX_BONUS) return { ok: false, message: `the member would have ${after} points: at most ${MAX_BONUS}` };
  if (input.dryRun) return { ok: true, recorded: false, member, before: projected, after };
  const change = input.mode === 'set' ? { set: input.n } : { points: input.n };
  const { grant } = await deps.ledger.recordGrant({
    dedupeKey: `op:points:${input.now}:${randomBytes(6).toString('hex')}`,
    ruleId: OPERATOR_POINTS_RULE,
    campaign: `@operator:${input.cardName}`,
    openId: member.openId,
    amountFen: 0,
    kind: 'points',
    now: input.now,
    billNoPrefix: pointsGrantRefPrefix(input.now),
    payload: {
      card: input.cardName,
      code: member.code,
      openId: member.openId,
      ...change,
      by: input.by.trim(),
      reason: input.reason.trim(),
      recordBonus: clipRecord(input.reason),
    },
    dueAt: input.now,
    deferred: false,
    reservations: [],
    note: `points ${input.mode} ${input.n} by ${input.by.trim()}: ${input.reason.trim()}`,
  });
  return { ok: true, recorded: true, grant, member, before: projected, after };
}

/** `record_bonus` holds at most 42 characters. */
function clipRecord(reason: string): string {
  const r = reason.trim();
  return r.length > 42 ? r.slice(0, 42) : r;
}

/** One line of a member's points history. */
export interface PointsHistoryLine {
  ref: string;
  at: number;
  status: string;
  change: string;
  source: string;
}

/**
 * A member's points history from the ledger (oldest first).
 *
 * @example pointsHistory(await memberPointsGrants(ledger, 'gold', openId))
 */
export function pointsHistory(history: readonly LedgerGrant[]): PointsHistoryLine[] {
  return history.map((g) => {
    const c = pointsChange(g);
    const by = typeof g.payload.by === 'string' ? `${g.payload.by}: ${String(g.payload.reason ?? '')}` : `${g.campaign} (${g.ruleId})`;
    return { ref: g.billNo ?? `#${g.id}`, at: g.createdAt, status: g.status, change: 'set' in c ? `= ${c.set}` : `${c.add >= 0 ? '+' : ''}${c.add}`, source: by };
  });
}
