/**
 * In-process ledger: every method runs synchronously to completion, which makes each one atomic within
 * the process. For tests and single-process demos; state is lost on exit.
 *
 * @example const ledger = createMemoryLedger({ tags: ledgerTagRules() }); await ledger.recordGrant(input);
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import { clip } from '../lib/clip';
import { StoreError } from '../lib/store-error';
import type { LedgerTagRules } from '../rewards/bill-no';
import type { CampaignPause, GrantEvent, GrantFilter, GrantStatus, LedgerGrant, LedgerSummaryRow, Usage } from '../rewards/ledger';
import type { LedgerTx, SyncLedgerStorage } from '../rewards/ledger-plans';
import { activityBucketCount, activityBuckets, type ActivityRow } from './ledger-rows';

interface OutboxEntry {
  campaign: string;
  dueAt: number;
  leaseOwner: string | null;
  leaseUntil: number | null;
}

/** By character code (JavaScript's `<`): the order of SQLite's `ORDER BY` on text and of PostgreSQL's `COLLATE "C"` (ASCII and BMP names alike). */
function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function copy(g: LedgerGrant): LedgerGrant {
  return structuredClone(g);
}

/** Whether a grant matches a search filter (the memory twin of `grant-search-sql.ts`). */
function matches(g: LedgerGrant, f: GrantFilter): boolean {
  return (
    (f.openId === undefined || g.openId === f.openId) &&
    (f.billNo === undefined || g.billNo === f.billNo) &&
    (f.campaign === undefined || g.campaign === f.campaign) &&
    (!f.statuses?.length || f.statuses.includes(g.status)) &&
    (f.createdFrom === undefined || g.createdAt >= f.createdFrom) &&
    (f.createdBefore === undefined || g.createdAt < f.createdBefore)
  );
}

/**
 * Builds an empty in-memory ledger; `tags` (from `ledgerTagRules(BOT_BILLNO_TAG)`) gives it its bill tag.
 *
 * @example const ledger = createMemoryLedger({ tags: ledgerTagRules() });
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function createMemoryLedger(options: { tags: LedgerTagRules }): SyncLedgerStorage {
  const billTag = options.tags.forNewLedger();
  const grants = new Map<number, LedgerGrant>();
  const byKey = new Map<string, number>();
  const byBill = new Map<string, number>();
  const outbox = new Map<number, OutboxEntry>();
  const usage = new Map<string, Usage>();
  const seq = new Map<string, number>();
  const paused = new Map<string, CampaignPause>();
  const events: GrantEvent[] = [];
  let nextId = 1;

  const usageOf = (key: string): Usage => usage.get(key) ?? { count: 0, amountFen: 0 };
  const keyOf = (dedupeKey: string, ruleId: string) => JSON.stringify([dedupeKey, ruleId]);

  function addUsage(deltas: readonly { key: string; count: number; amountFen: number }[]): void {
    for (const d of deltas) {
      const u = usageOf(d.key);
      usage.set(d.key, { count: u.count + d.count, amountFen: u.amountFen + d.amountFen });
    }
  }

  function insert(fields: Omit<LedgerGrant, 'id'>): LedgerGrant {
    const g: LedgerGrant = { id: nextId++, ...structuredClone(fields) };
    grants.set(g.id, g);
    byKey.set(keyOf(g.dedupeKey, g.ruleId), g.id);
    if (g.billNo) byBill.set(g.billNo, g.id);
    return copy(g);
  }

  /** The storage steps of the plans (synchronous, so each plan runs atomically in this process). */
  const steps: LedgerTx = {
    findByKey(dedupeKey, ruleId) {
      const id = byKey.get(keyOf(dedupeKey, ruleId));
      return id === undefined ? undefined : copy(grants.get(id)!);
    },
    lockByBill(billNo) {
      const id = byBill.get(billNo);
      return id === undefined ? undefined : copy(grants.get(id)!);
    },
    lockById(id) {
      const g = grants.get(id);
      return g && copy(g);
    },
    lockUsage(keys) {
      return new Map(keys.map((k) => [k, { ...usageOf(k) }]));
    },
    insert,
    insertGranted({ grant, seqPrefix, billNoOf, usage: deltas, dueAt }) {
      const n = (seq.get(seqPrefix) ?? 0) + 1;
      const billNo = billNoOf(n);
      // As SQL's UNIQUE (bill_no): checked before anything changes (this store has no rollback).
      if (byBill.has(billNo)) throw new StoreError(`ledger: bill number ${billNo} is taken by another grant (unique bill_no)`);
      seq.set(seqPrefix, n);
      const g = insert({ ...grant, billNo });
      addUsage(deltas);
      outbox.set(g.id, { campaign: g.campaign, dueAt, leaseOwner: null, leaseUntil: null });
      return { grant: g, seq: n };
    },
    update(id, from, change) {
      const g = grants.get(id);
      if (!g || g.status !== from) return false;
      Object.assign(g, structuredClone(change));
      return true;
    },
    dequeue(id) {
      outbox.delete(id);
    },
    addUsage,
    markAttempt(id, owner, now) {
      const e = outbox.get(id);
      const g = grants.get(id);
      if (!e || !g || e.leaseOwner !== owner || e.leaseUntil === null || e.leaseUntil <= now) return undefined;
      if (g.status !== 'PENDING' && g.status !== 'DEFERRED' && g.status !== 'SENDING') return undefined;
      g.status = 'SENDING';
      g.attempts += 1;
      g.updatedAt = now;
      return g.attempts;
    },
    moveDue(id, { owner, dueAt, now, lastError }) {
      const e = outbox.get(id);
      const g = grants.get(id);
      if (!e || !g || e.leaseOwner !== owner) return undefined;
      e.dueAt = dueAt;
      e.leaseOwner = null;
      e.leaseUntil = null;
      g.nextAttemptAt = dueAt;
      if (lastError !== null) g.lastError = lastError;
      g.updatedAt = now;
      return g.status;
    },
    appendEvents(added) {
      for (const e of added) events.push({ id: events.length + 1, ...structuredClone(e) });
    },
  };

  const ledger: SyncLedgerStorage = {
    billTag,
    async transact(fn) {
      return fn(steps);
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

    async markChecked(id, now) {
      const g = grants.get(id);
      if (g) g.checkedAt = now;
    },

    async getGrant(id) {
      return steps.lockById(id);
    },
    async findByBillNo(billNo) {
      return steps.lockByBill(billNo);
    },
    async findByKey(dedupeKey, ruleId) {
      return steps.findByKey(dedupeKey, ruleId);
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
      return [...rows.values()].sort((a, b) => byCodePoint(a.campaign, b.campaign) || byCodePoint(a.status, b.status));
    },
    async openCount() {
      return outbox.size;
    },
    async activity(window) {
      activityBucketCount(window);
      const rows: ActivityRow[] = [];
      const count = (what: ActivityRow['what'], at: number | null) => {
        if (at !== null && at >= window.since && at < window.until) rows.push({ what, bucket: Math.floor((at - window.since) / window.bucketMs), n: 1 });
      };
      for (const g of grants.values()) {
        if (window.campaign !== undefined && g.campaign !== window.campaign) continue;
        if (g.outcome === 'granted') count('g', g.createdAt);
        count('s', g.sentAt);
        if (g.status === 'RECEIVED') count('c', g.settledAt);
        if (g.status === 'REFUND') count('r', g.settledAt);
      }
      return activityBuckets(window, rows);
    },
    async findGrants(filter, page) {
      const oldest = page.order === 'oldest';
      const after = page.afterId;
      return [...grants.values()]
        .filter((g) => matches(g, filter) && (after === undefined || (oldest ? g.id > after : g.id < after)))
        .sort((a, b) => (oldest ? a.id - b.id : b.id - a.id))
        .slice(page.offset ?? 0, (page.offset ?? 0) + page.limit)
        .map(copy);
    },
    async countGrants(filter) {
      return [...grants.values()].filter((g) => matches(g, filter)).length;
    },
    async grantEvents(grantId) {
      return events.filter((e) => e.grantId === grantId).map((e) => structuredClone(e));
    },
    async usage(key) {
      return { ...usageOf(key) };
    },
    async pauseCampaign(campaign, { reason, by, now }) {
      if (!paused.has(campaign)) paused.set(campaign, { campaign, reason: clip(reason) ?? '', by, pausedAt: now });
    },
    async resumeCampaign(campaign) {
      return paused.delete(campaign);
    },
    async pausedCampaigns() {
      return [...paused.values()].sort((a, b) => byCodePoint(a.campaign, b.campaign)).map((p) => ({ ...p }));
    },
    async close() {
      return undefined;
    },
  };
  return ledger;
}
