/**
 * In-process ledger: every method runs synchronously to completion, which makes each one atomic within
 * the process. For tests and single-process demos; state is lost on exit.
 *
 * @example const ledger = createMemoryLedger(); await ledger.recordGrant(input);
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import { formatBillNo, newLedgerTag, wantedLedgerTag, withLedgerTag } from '../rewards/bill-no';
import {
  cancelRefusal,
  canMove,
  firstExceeded,
  OPEN_STATUSES,
  reissueLimitRefusal,
  reissueRefusal,
  type CampaignPause,
  type CancelResult,
  type GrantStatus,
  type Ledger,
  type LedgerGrant,
  type LedgerSummaryRow,
  type RecordGrantInput,
  type RecordGrantResult,
  type ReissueResult,
  type SettleInput,
  type Usage,
} from '../rewards/ledger';
import { ALL_RESERVATION_KINDS, FINAL_STATUSES, heldReservations, SETTLED_STATUSES } from './ledger-rows';

interface OutboxEntry {
  campaign: string;
  dueAt: number;
  leaseOwner: string | null;
  leaseUntil: number | null;
}

function copy(g: LedgerGrant): LedgerGrant {
  return structuredClone(g);
}

/**
 * Builds an empty in-memory ledger.
 *
 * @example const ledger = createMemoryLedger();
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function createMemoryLedger(options: { billTag?: string } = {}): Ledger {
  const billTag = wantedLedgerTag(options.billTag) ?? newLedgerTag();
  const grants = new Map<number, LedgerGrant>();
  const byKey = new Map<string, number>();
  const byBill = new Map<string, number>();
  const outbox = new Map<number, OutboxEntry>();
  const usage = new Map<string, Usage>();
  const seq = new Map<string, number>();
  const paused = new Map<string, CampaignPause>();
  let nextId = 1;

  const usageOf = (key: string): Usage => usage.get(key) ?? { count: 0, amountFen: 0 };
  const keyOf = (dedupeKey: string, ruleId: string) => JSON.stringify([dedupeKey, ruleId]);

  function insert(input: RecordGrantInput, fields: Partial<LedgerGrant>): LedgerGrant {
    const g: LedgerGrant = {
      id: nextId++,
      dedupeKey: input.dedupeKey,
      ruleId: input.ruleId,
      kind: input.kind,
      campaign: input.campaign,
      openId: input.openId,
      amountFen: input.amountFen,
      billNo: null,
      status: 'REFUSED',
      outcome: 'failed',
      reason: null,
      attempts: 0,
      nextAttemptAt: null,
      lastError: null,
      sendListId: null,
      payload: structuredClone(input.payload),
      reservations: [],
      createdAt: input.now,
      updatedAt: input.now,
      sentAt: null,
      settledAt: null,
      checkedAt: null,
      operatorAction: null,
      reissueOf: null,
      reissuedAs: null,
      ...fields,
    };
    grants.set(g.id, g);
    byKey.set(keyOf(input.dedupeKey, input.ruleId), g.id);
    if (g.billNo) byBill.set(g.billNo, g.id);
    return g;
  }

  function release(g: LedgerGrant, kinds?: readonly string[]): void {
    for (const r of g.reservations) {
      if (!kinds?.includes(r.kind)) continue;
      const u = usageOf(r.key);
      usage.set(r.key, { count: u.count - r.count, amountFen: u.amountFen - r.amountFen });
    }
  }

  function recordOne(input: RecordGrantInput): RecordGrantResult {
    const existing = byKey.get(keyOf(input.dedupeKey, input.ruleId));
    if (existing !== undefined) return { duplicate: true, grant: copy(grants.get(existing)!) };
    const refusal = input.refusal ?? firstExceeded(input.reservations, usageOf);
    if (refusal) {
      const g = insert(input, { status: 'REFUSED', outcome: refusal.outcome, reason: refusal.reason, settledAt: input.now });
      return { duplicate: false, grant: copy(g) };
    }
    const prefix = withLedgerTag(input.billNoPrefix, billTag);
    const n = (seq.get(prefix) ?? 0) + 1;
    const billNo = formatBillNo(prefix, n);
    seq.set(prefix, n);
    for (const r of input.reservations) {
      const u = usageOf(r.key);
      usage.set(r.key, { count: u.count + r.count, amountFen: u.amountFen + r.amountFen });
    }
    const g = insert(input, {
      billNo,
      status: input.deferred ? 'DEFERRED' : 'PENDING',
      outcome: 'granted',
      reason: input.note ?? null,
      nextAttemptAt: input.dueAt,
      reservations: heldReservations(input.reservations),
    });
    outbox.set(g.id, { campaign: g.campaign, dueAt: input.dueAt, leaseOwner: null, leaseUntil: null });
    return { duplicate: false, grant: copy(g) };
  }

  const ledger: Ledger = {
    billTag,
    async recordGrant(input: RecordGrantInput): Promise<RecordGrantResult> {
      return recordOne(input);
    },

    async cancel(billNo, { by, reason, now }): Promise<CancelResult> {
      const id = byBill.get(billNo);
      const g = id === undefined ? undefined : grants.get(id)!;
      const refused = cancelRefusal(g && copy(g), billNo);
      if (refused || !g) return refused!;
      g.status = 'CANCELLED';
      g.operatorAction = { action: 'cancelled', by, reason, at: now };
      g.updatedAt = now;
      g.settledAt = now;
      g.nextAttemptAt = null;
      outbox.delete(g.id);
      release(g, ALL_RESERVATION_KINDS);
      return { ok: true, grant: copy(g) };
    },

    async reissue(billNo, { by, reason, now, grant: input }): Promise<ReissueResult> {
      const id = byBill.get(billNo);
      const old = id === undefined ? undefined : grants.get(id)!;
      const refused = reissueRefusal(old && copy(old), billNo) ?? reissueLimitRefusal(input.reservations, usageOf, old!);
      if (refused || !old) return refused!;
      const { grant } = recordOne(input);
      const g = grants.get(grant.id)!;
      g.reissueOf = billNo;
      old.reissuedAs = g.billNo;
      old.operatorAction = { action: 'reissued', by, reason, at: now };
      old.updatedAt = now;
      return { ok: true, grant: copy(g), original: copy(old) };
    },

    async claimDue({ owner, now, leaseMs, limit }) {
      const due = [...outbox.entries()]
        .filter(([, e]) => e.dueAt <= now && (e.leaseUntil === null || e.leaseUntil <= now) && !paused.has(e.campaign))
        .sort(([a, x], [b, y]) => x.dueAt - y.dueAt || a - b)
        .slice(0, limit);
      return due.map(([id, e]) => {
        e.leaseOwner = owner;
        e.leaseUntil = now + leaseMs;
        return copy(grants.get(id)!);
      });
    },

    async markSending(id, { owner, now }) {
      const e = outbox.get(id);
      const g = grants.get(id);
      if (!e || !g || e.leaseOwner !== owner || e.leaseUntil === null || e.leaseUntil <= now) return false;
      if (!OPEN_STATUSES.includes(g.status)) return false;
      g.status = 'SENDING';
      g.attempts += 1;
      g.updatedAt = now;
      return true;
    },

    async reschedule(id, { owner, dueAt, now, lastError }) {
      const e = outbox.get(id);
      const g = grants.get(id);
      if (!e || !g || e.leaseOwner !== owner) return;
      e.dueAt = dueAt;
      e.leaseOwner = null;
      e.leaseUntil = null;
      g.nextAttemptAt = dueAt;
      if (lastError !== undefined) g.lastError = lastError;
      g.updatedAt = now;
    },

    async settle(id, input: SettleInput) {
      const g = grants.get(id);
      if (!g || !canMove(g.status, input.status)) return false;
      g.status = input.status;
      g.updatedAt = input.now;
      if (input.sendListId) g.sendListId = input.sendListId;
      if (input.reason !== undefined) g.reason = input.reason;
      if (input.status !== 'FAILED' && input.status !== 'HELD' && g.sentAt === null) g.sentAt = input.now;
      if (FINAL_STATUSES.includes(input.status)) g.settledAt = input.now;
      g.nextAttemptAt = null;
      if (SETTLED_STATUSES.includes(input.status)) outbox.delete(id);
      release(g, input.release);
      return true;
    },

    async markChecked(id, now) {
      const g = grants.get(id);
      if (g) g.checkedAt = now;
    },

    async getGrant(id) {
      const g = grants.get(id);
      return g && copy(g);
    },
    async findByBillNo(billNo) {
      const id = byBill.get(billNo);
      return id === undefined ? undefined : copy(grants.get(id)!);
    },
    async findByKey(dedupeKey, ruleId) {
      const id = byKey.get(keyOf(dedupeKey, ruleId));
      return id === undefined ? undefined : copy(grants.get(id)!);
    },
    async listByStatus(statuses: readonly GrantStatus[], opts = {}) {
      return [...grants.values()]
        .filter(
          (g) =>
            statuses.includes(g.status) &&
            (opts.sentBefore === undefined || (g.sentAt ?? g.createdAt) <= opts.sentBefore) &&
            (opts.kind === undefined || g.kind === opts.kind),
        )
        .sort((a, b) => (a.checkedAt ?? -1) - (b.checkedAt ?? -1) || a.id - b.id)
        .slice(0, opts.limit ?? Infinity)
        .map(copy);
    },
    async listAll(opts = {}) {
      return [...grants.values()]
        .filter((g) => (opts.campaign === undefined || g.campaign === opts.campaign) && g.id > (opts.afterId ?? 0))
        .sort((a, b) => a.id - b.id)
        .slice(0, opts.limit ?? Infinity)
        .map(copy);
    },
    async summary() {
      const rows = new Map<string, LedgerSummaryRow>();
      for (const g of grants.values()) {
        const k = JSON.stringify([g.campaign, g.status]);
        const row = rows.get(k) ?? { campaign: g.campaign, status: g.status, count: 0, amountFen: 0 };
        row.count += 1;
        row.amountFen += g.amountFen;
        rows.set(k, row);
      }
      return [...rows.values()].sort((a, b) => a.campaign.localeCompare(b.campaign) || a.status.localeCompare(b.status));
    },
    async openCount() {
      return outbox.size;
    },
    async usage(key) {
      return { ...usageOf(key) };
    },
    async pauseCampaign(campaign, { reason, by, now }) {
      if (!paused.has(campaign)) paused.set(campaign, { campaign, reason, by, pausedAt: now });
    },
    async resumeCampaign(campaign) {
      return paused.delete(campaign);
    },
    async pausedCampaigns() {
      return [...paused.values()].map((p) => ({ ...p }));
    },
    async close() {
      return undefined;
    },
  };
  return ledger;
}
