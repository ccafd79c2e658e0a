/**
 * The outbox's sender for `kind: points` grants (a `GrantSender` of the reward-kind registry): it
 * sets the member's points on WeChat so that a retry, a crash or a second instance never adds them
 * twice, although WeChat's increment (`add_bonus`) is not idempotent.
 *
 * 1. **The ledger is the source of the member's total**: `initialBonus` (from activation) folded with
 *    the member's SENT points grants in ledger order (an `add` adds its points, an operator's `set`
 *    replaces the total) — {@link pointsTotal}.
 * 2. **The send is absolute**: `membercard/updateuser` with `bonus` = that total plus this grant, and
 *    the points-change text in `record_bonus`. Written twice, it is the same total.
 * 3. **One grant per member at a time, in ledger order**: the send holds a per-member lease in the
 *    shared kv store (`setIfAbsent` with a TTL longer than a request's timeout, across instances),
 *    and under it reads the member's grants; while an earlier grant of the member is still open this
 *    one gives the lease back and waits. So two totals are never in flight at once and a later total
 *    always includes every earlier grant.
 * 4. **Before a resend after an uncertain answer** (the grant is found SENDING), the sender reads
 *    `membercard/userinfo/get` and settles SENT without sending when WeChat already shows the total.
 *
 * @example senders: { points: createPointsSender({ ledger, members, cardIdOf, bonusApi, clock, log }) }
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Membership_Cards/Manage_Member_Card.html
 */
import { WeChatApiError } from '../api/errors';
import type { MemberCardBonusApi } from '../api/member-card-bonus';
import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import type { KeyValueStore } from '../store/ports';
import { OPEN_STATUSES, type GrantStatus, type Ledger, type LedgerGrant, type ReservationKind } from '../rewards/ledger';
import type { GrantSender, SendStep } from '../rewards/reward-kind';
import type { Member } from './member-store';

/** What the points sender needs of a member (a subset of the member port's `Member`). */
export type PointsMember = Pick<Member, 'cardId' | 'code' | 'openId' | 'initialBonus' | 'activatedAt'>;

/** The member look-ups the points sender and the CLI use. */
export interface PointsMembers {
  findByCode(cardId: string, code: string): Promise<PointsMember | undefined>;
  findByOpenId(openId: string, cardId?: string): Promise<PointsMember[]>;
}

export interface PointsSenderDeps {
  ledger: Pick<Ledger, 'markSending' | 'reschedule' | 'settle' | 'findGrants'>;
  members: PointsMembers;
  /** The card_id of a card of cards.yaml, once `cards sync` made it. */
  cardIdOf(cardName: string): Promise<string | undefined>;
  bonusApi: MemberCardBonusApi;
  /** The per-member lease (the shared kv store: Redis, SQLite or memory). */
  locks: Pick<KeyValueStore, 'setIfAbsent' | 'deleteIfEquals'>;
  /** Lifetime of the per-member lease in seconds (default 120; longer than a request's timeout). */
  leaseSeconds?: number;
  /** The card's points-change text from cards.yaml, used when the grant carries none. */
  recordBonusOf?(cardName: string): string | undefined;
  clock: Clock;
  log: Logger;
  /** How long a grant without an activated member card waits before it is tried again (default 1 h), and how often (default 24). */
  noMemberRetryMs?: number;
  noMemberAttempts?: number;
  /** The wait before a retry, from its base delay (default: the base; tests shorten it). */
  backoff?: (baseMs: number) => number;
}

/** Statuses whose points the member has. */
const CREDITED: readonly GrantStatus[] = ['SENT', 'RECEIVED'];
const RELEASE_ALL: ReservationKind[] = ['budget', 'per_user', 'follower_daily', 'merchant_daily'];
/** updateuser errcodes that mean "not applied and never will be". */
const DEFINITE = new Map<number, string>([
  [40056, 'WeChat does not know this member card code'],
  [40073, 'WeChat does not know the card'],
  [40127, 'the member card was deleted or is being gifted'],
  [43009, 'the card is not a member card with points (supply_bonus)'],
]);

/** One step of a member's points history: an `add` of N points, or an operator's `set` to N. */
export function pointsChange(g: Pick<LedgerGrant, 'payload'>): { set: number } | { add: number } {
  const set = g.payload.set;
  if (typeof set === 'number') return { set };
  return { add: Number(g.payload.points ?? 0) };
}

/**
 * The member's total from the ledger: `initial` folded with the credited grants, in ledger order.
 *
 * @example pointsTotal(100, [{ id: 1, status: 'SENT', payload: { points: 50 } }]) // → 150
 */
export function pointsTotal(initial: number, grants: readonly Pick<LedgerGrant, 'id' | 'status' | 'payload'>[]): number {
  let total = initial;
  for (const g of [...grants].sort((a, b) => a.id - b.id)) {
    if (!CREDITED.includes(g.status)) continue;
    const c = pointsChange(g);
    total = 'set' in c ? c.set : total + c.add;
  }
  return Math.max(0, total);
}

/**
 * The points grants of one member card (oldest first), for the sender and `cards member`.
 *
 * @example const history = await memberPointsGrants(ledger, 'gold', 'oUser1');
 */
export async function memberPointsGrants(ledger: Pick<Ledger, 'findGrants'>, cardName: string, openId: string): Promise<LedgerGrant[]> {
  const out: LedgerGrant[] = [];
  for (let afterId: number | undefined; ;) {
    const page = await ledger.findGrants({ openId }, { limit: 500, order: 'oldest', ...(afterId !== undefined ? { afterId } : {}) });
    out.push(...page.filter((g) => g.kind === 'points' && g.payload.card === cardName));
    if (page.length < 500) return out;
    afterId = page[page.length - 1].id;
  }
}

/**
 * The outbox sender for `kind: points`.
 *
 * @example const send = createPointsSender(deps); await send(grant, { owner: 'w1' });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Membership_Cards/Manage_Member_Card.html
 */
export function createPointsSender(deps: PointsSenderDeps): GrantSender {
  const { ledger, members, bonusApi, clock, log } = deps;
  const noMemberRetryMs = deps.noMemberRetryMs ?? 60 * 60_000;
  const noMemberAttempts = deps.noMemberAttempts ?? 24;

  return async function sendPoints(g, ctx): Promise<SendStep> {
    const now = () => clock.now();
    const retry = async (reason: string, delayMs: number): Promise<SendStep> => {
      await ledger.reschedule(g.id, { owner: ctx.owner, dueAt: now() + (deps.backoff ? deps.backoff(delayMs) : delayMs), now: now(), lastError: reason });
      return 'retried';
    };
    const fail = async (reason: string, release: readonly ReservationKind[] = RELEASE_ALL): Promise<SendStep> => {
      await ledger.settle(g.id, { status: 'FAILED', now: now(), reason, release });
      log.warn({ grant: g.id, campaign: g.campaign, reason }, 'points grant failed');
      return 'failed';
    };
    const cardName = String(g.payload.card ?? '');
    const cardId = await deps.cardIdOf(cardName);
    if (!cardId) return retry(`member card "${cardName}" is not created yet: run "cards sync"`, 60_000);
    const code = typeof g.payload.code === 'string' ? g.payload.code : undefined;
    const member = code ? await members.findByCode(cardId, code) : (await members.findByOpenId(g.openId, cardId)).find((m) => m.activatedAt !== undefined);
    if (!member || member.activatedAt === undefined) {
      if (g.attempts + 1 >= noMemberAttempts) return fail(`the follower has no activated member card "${cardName}"`);
      return retry(`the follower has no activated member card "${cardName}" yet`, noMemberRetryMs);
    }

    // Before a resend after an uncertain answer: does WeChat already show this grant's total?
    const uncertain = g.status === 'SENDING';
    const lockKey = `points-lease:${cardId}:${member.code}`;
    const lockValue = `${ctx.owner}:${g.id}`;
    if (!(await deps.locks.setIfAbsent(lockKey, lockValue, deps.leaseSeconds ?? 120))) return retry('another points grant of this member is being sent', 2_000);
    try {
      return await underLease(g, ctx.owner, cardId, cardName, member, uncertain, retry, fail);
    } finally {
      await deps.locks.deleteIfEquals(lockKey, lockValue);
    }
  };

  async function underLease(
    g: LedgerGrant,
    owner: string,
    cardId: string,
    cardName: string,
    member: PointsMember,
    uncertain: boolean,
    retry: (reason: string, delayMs: number) => Promise<SendStep>,
    fail: (reason: string) => Promise<SendStep>,
  ): Promise<SendStep> {
    const now = () => clock.now();
    const history = await memberPointsGrants(ledger, cardName, member.openId);
    const ahead = history.find((x) => x.id < g.id && OPEN_STATUSES.includes(x.status));
    if (ahead) return retry(`waiting for points grant #${ahead.id} of this member (${ahead.status}): one total at a time, in ledger order`, 5_000);
    const total = pointsTotal(member.initialBonus, [...history.filter((x) => x.id !== g.id), { ...g, status: 'SENT' }]);
    if (uncertain) {
      try {
        const info = await bonusApi.userInfo(cardId, member.code);
        if (info.bonus === total) {
          await ledger.settle(g.id, { status: 'SENT', now: now() });
          log.info({ grant: g.id, total }, 'uncertain points send confirmed: WeChat shows the total');
          return 'settled';
        }
      } catch (err) {
        return retry(`uncertain points send; membercard/userinfo/get failed: ${describe(err)}`, 30_000);
      }
    }
    if (!(await ledger.markSending(g.id, { owner, now: now() }))) return 'skipped';
    const recordBonus = typeof g.payload.recordBonus === 'string' ? g.payload.recordBonus : deps.recordBonusOf?.(cardName);
    try {
      await bonusApi.setBonus({ cardId, code: member.code, bonus: total, ...(recordBonus ? { recordBonus } : {}) });
    } catch (err) {
      if (err instanceof WeChatApiError) {
        const definite = DEFINITE.get(err.errcode);
        if (definite && !uncertain) return fail(`${err.errcode}: ${definite}`);
        return retry(`${err.errcode} ${err.errmsg}`, 30_000 * Math.min(10, g.attempts + 1));
      }
      // Outcome unknown (timeout, reset, 5xx): the grant stays SENDING; the next try reads WeChat's total first.
      return retry(`outcome unknown: ${describe(err)}`, 10_000 * Math.min(10, g.attempts + 1));
    }
    await ledger.settle(g.id, { status: 'SENT', now: now() });
    log.info({ grant: g.id, campaign: g.campaign, card: cardName, total }, 'points grant sent');
    return 'sent';
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
