/**
 * The ledger contract: one scenario every adapter (memory, SQLite, PostgreSQL) must pass.
 */
import { billNoPrefix } from '../../src/rewards/bill-no';
import type { Ledger, RecordGrantInput, Reservation } from '../../src/rewards/ledger';
import { MCH_ID, T0, type LedgerFactory } from './helpers';

let keys = 0;

export function grantInput(overrides: Partial<RecordGrantInput> = {}): RecordGrantInput {
  keys += 1;
  const now = overrides.now ?? T0;
  return {
    dedupeKey: `msg:${keys}`,
    ruleId: 'follow',
    campaign: 'c1',
    openId: `oUser${keys}`,
    amountFen: 100,
    kind: 'red_packet',
    now,
    billNoPrefix: billNoPrefix(MCH_ID, now),
    payload: { kind: 'normal', sendName: 's' },
    dueAt: now,
    deferred: false,
    reservations: [],
    ...overrides,
  };
}

export function budget(maxCount: number | null, maxAmountFen: number | null = null, campaign = 'c1'): Reservation {
  return { kind: 'budget', key: `budget:${campaign}`, count: 1, amountFen: 100, maxCount, maxAmountFen, outcome: 'campaign_over', reason: 'budget used up' };
}

export function perUser(openId: string, campaign = 'c1'): Reservation {
  return {
    kind: 'per_user',
    key: `per-user:${campaign}:${openId}`,
    count: 1,
    amountFen: 100,
    maxCount: 1,
    maxAmountFen: null,
    outcome: 'already_claimed',
    reason: 'already received',
  };
}

export function runLedgerContract(name: string, factory: LedgerFactory): void {
  describe(`${name} (ledger contract)`, () => {
    let ledger: Ledger;
    let close: () => Promise<void>;
    let another: () => Promise<Ledger>;

    beforeEach(async () => {
      ({ ledger, close, another } = await factory());
    });

    /** The n-th bill of a Beijing day: mch_id + yyyymmdd + this ledger's tag + 7 sequence digits. */
    const bill = (ymd: string, n: number) => `${MCH_ID}${ymd}${ledger.billTag}${String(n).padStart(7, '0')}`;

    it('should carry a three-digit tag, 100-999, in every bill number', async () => {
      expect(ledger.billTag).toMatch(/^[1-9]\d{2}$/);
      const { grant } = await ledger.recordGrant(grantInput());
      expect(grant.billNo!.slice(MCH_ID.length + 8, MCH_ID.length + 11)).toBe(ledger.billTag);
    });
    afterEach(async () => {
      await close();
    });

    describe('recordGrant', () => {
      it('should record a PENDING grant with a 28-character bill number and an outbox entry', async () => {
        const input = grantInput({ reservations: [budget(10)] });
        const { duplicate, grant } = await ledger.recordGrant(input);
        expect(duplicate).toBe(false);
        expect(grant).toMatchObject({ status: 'PENDING', outcome: 'granted', campaign: 'c1', amountFen: 100, attempts: 0 });
        expect(grant.billNo).toBe(bill('20260302', 1));
        expect(grant.billNo).toHaveLength(28);
        expect(grant.payload).toEqual(input.payload);
        expect(grant.reservations).toEqual([{ kind: 'budget', key: 'budget:c1', count: 1, amountFen: 100 }]);
        expect(await ledger.openCount()).toBe(1);
        expect(await ledger.usage('budget:c1')).toEqual({ count: 1, amountFen: 100 });
      });

      it('should return the first grant for a repeated (dedupeKey, ruleId) and change nothing', async () => {
        const input = grantInput({ reservations: [budget(10)] });
        const first = await ledger.recordGrant(input);
        const again = await ledger.recordGrant({ ...input, amountFen: 999, now: T0 + 5000 });
        expect(again.duplicate).toBe(true);
        expect(again.grant).toEqual(first.grant);
        expect(await ledger.usage('budget:c1')).toEqual({ count: 1, amountFen: 100 });
        const other = await ledger.recordGrant({ ...input, ruleId: 'other-rule' });
        expect(other.duplicate).toBe(false);
        expect(other.grant.billNo).toBe(bill('20260302', 2));
      });

      it('should refuse with the first exhausted reservation, record the reason and reserve nothing', async () => {
        const a = await ledger.recordGrant(grantInput({ openId: 'oA', reservations: [perUser('oA'), budget(1)] }));
        expect(a.grant.outcome).toBe('granted');
        const b = await ledger.recordGrant(grantInput({ openId: 'oA', reservations: [perUser('oA'), budget(1)] }));
        expect(b.grant).toMatchObject({ status: 'REFUSED', outcome: 'already_claimed', reason: 'already received', billNo: null });
        const c = await ledger.recordGrant(grantInput({ openId: 'oB', reservations: [perUser('oB'), budget(1)] }));
        expect(c.grant).toMatchObject({ status: 'REFUSED', outcome: 'campaign_over' });
        expect(await ledger.usage('per-user:c1:oB')).toEqual({ count: 0, amountFen: 0 });
        expect(await ledger.usage('budget:c1')).toEqual({ count: 1, amountFen: 100 });
        expect(await ledger.openCount()).toBe(1);
      });

      it('should cap amounts as well as counts', async () => {
        const r = (amountFen: number): Reservation => ({ ...budget(null, 250), amountFen });
        expect((await ledger.recordGrant(grantInput({ amountFen: 200, reservations: [r(200)] }))).grant.outcome).toBe('granted');
        expect((await ledger.recordGrant(grantInput({ amountFen: 60, reservations: [r(60)] }))).grant.outcome).toBe('campaign_over');
        expect((await ledger.recordGrant(grantInput({ amountFen: 50, reservations: [r(50)] }))).grant.outcome).toBe('granted');
        expect(await ledger.usage('budget:c1')).toEqual({ count: 2, amountFen: 250 });
      });

      it('should record a refusal decided before the ledger', async () => {
        const { grant } = await ledger.recordGrant(grantInput({ refusal: { outcome: 'outside_hours', reason: 'quiet hours' }, reservations: [budget(5)] }));
        expect(grant).toMatchObject({ status: 'REFUSED', outcome: 'outside_hours', reason: 'quiet hours', billNo: null });
        expect(await ledger.usage('budget:c1')).toEqual({ count: 0, amountFen: 0 });
      });

      it('should number bills per merchant-day prefix', async () => {
        const day2 = T0 + 24 * 3600 * 1000;
        const a = await ledger.recordGrant(grantInput());
        const b = await ledger.recordGrant(grantInput());
        const c = await ledger.recordGrant(grantInput({ now: day2, billNoPrefix: billNoPrefix(MCH_ID, day2) }));
        expect([a.grant.billNo, b.grant.billNo, c.grant.billNo]).toEqual([bill('20260302', 1), bill('20260302', 2), bill('20260303', 1)]);
        expect((await ledger.findByBillNo(b.grant.billNo!))?.id).toBe(b.grant.id);
      });

      it('should grant exactly the cap under 100 concurrent requests, and one grant per key', async () => {
        const results = await Promise.all(
          Array.from({ length: 100 }, (_, i) => ledger.recordGrant(grantInput({ openId: `oC${i}`, reservations: [perUser(`oC${i}`), budget(50)] }))),
        );
        expect(results.filter((r) => r.grant.outcome === 'granted')).toHaveLength(50);
        expect(results.filter((r) => r.grant.outcome === 'campaign_over')).toHaveLength(50);
        const bills = results.map((r) => r.grant.billNo).filter(Boolean);
        expect(new Set(bills).size).toBe(50);
        const same = grantInput({ openId: 'oSame', reservations: [perUser('oSame'), budget(1000)] });
        const triple = await Promise.all([1, 2, 3].map(() => ledger.recordGrant({ ...same })));
        expect(triple.filter((r) => !r.duplicate)).toHaveLength(1);
        expect(new Set(triple.map((r) => r.grant.id)).size).toBe(1);
        expect(await ledger.usage('budget:c1')).toEqual({ count: 51, amountFen: 5100 });
      });
    });

    describe('claimDue', () => {
      it('should lease due entries to one owner until the lease expires', async () => {
        const { grant } = await ledger.recordGrant(grantInput());
        const later = await ledger.recordGrant(grantInput({ dueAt: T0 + 60_000, deferred: true }));
        expect(later.grant.status).toBe('DEFERRED');
        const mine = await ledger.claimDue({ owner: 'w1', now: T0, leaseMs: 1000, limit: 10 });
        expect(mine.map((g) => g.id)).toEqual([grant.id]);
        expect(await ledger.claimDue({ owner: 'w2', now: T0 + 999, leaseMs: 1000, limit: 10 })).toEqual([]);
        const taken = await ledger.claimDue({ owner: 'w2', now: T0 + 1000, leaseMs: 100_000, limit: 10 });
        expect(taken.map((g) => g.id)).toEqual([grant.id]);
        expect(await ledger.markSending(grant.id, { owner: 'w1', now: T0 + 1000 })).toBe(false);
        expect(await ledger.markSending(grant.id, { owner: 'w2', now: T0 + 1000 })).toBe(true);
        const due = await ledger.claimDue({ owner: 'w3', now: T0 + 60_000, leaseMs: 1000, limit: 10 });
        expect(due.map((g) => g.id)).toEqual([later.grant.id]);
      });

      it('should hold a paused campaign until it is resumed', async () => {
        await ledger.recordGrant(grantInput({ campaign: 'held' }));
        const free = await ledger.recordGrant(grantInput({ campaign: 'free' }));
        await ledger.pauseCampaign('held', { reason: 'NOTENOUGH', by: 'worker', now: T0 });
        await ledger.pauseCampaign('held', { reason: 'second', by: 'operator', now: T0 + 1 });
        expect(await ledger.pausedCampaigns()).toEqual([{ campaign: 'held', reason: 'NOTENOUGH', by: 'worker', pausedAt: T0 }]);
        expect((await ledger.claimDue({ owner: 'w', now: T0, leaseMs: 10, limit: 10 })).map((g) => g.id)).toEqual([free.grant.id]);
        expect(await ledger.resumeCampaign('held')).toBe(true);
        expect(await ledger.resumeCampaign('held')).toBe(false);
        expect((await ledger.claimDue({ owner: 'w', now: T0 + 10, leaseMs: 10, limit: 10 })).map((g) => g.campaign).sort()).toEqual(['free', 'held']);
      });
    });

    describe('markSending / reschedule', () => {
      it('should count attempts, keep the bill number and put the entry back with its error', async () => {
        const { grant } = await ledger.recordGrant(grantInput());
        await ledger.claimDue({ owner: 'w1', now: T0, leaseMs: 5000, limit: 1 });
        expect(await ledger.markSending(grant.id, { owner: 'w1', now: T0 })).toBe(true);
        await ledger.reschedule(grant.id, { owner: 'w2', dueAt: T0, now: T0, lastError: 'not mine' });
        await ledger.reschedule(grant.id, { owner: 'w1', dueAt: T0 + 2000, now: T0, lastError: 'SYSTEMERROR: busy' });
        const g = (await ledger.getGrant(grant.id))!;
        expect(g).toMatchObject({ status: 'SENDING', attempts: 1, lastError: 'SYSTEMERROR: busy', nextAttemptAt: T0 + 2000, billNo: grant.billNo });
        expect(await ledger.claimDue({ owner: 'w3', now: T0 + 1999, leaseMs: 5000, limit: 1 })).toEqual([]);
        const again = await ledger.claimDue({ owner: 'w3', now: T0 + 2000, leaseMs: 5000, limit: 1 });
        expect(again[0]).toMatchObject({ id: grant.id, status: 'SENDING', billNo: grant.billNo });
      });
    });

    describe('settle', () => {
      it('should move forward only, leave the outbox, and release reservations once', async () => {
        const { grant } = await ledger.recordGrant(grantInput({ openId: 'oF', reservations: [perUser('oF'), budget(10)] }));
        expect(await ledger.settle(grant.id, { status: 'FAILED', now: T0 + 1, reason: 'OPENID_ERROR: no', release: ['budget', 'per_user'] })).toBe(true);
        expect(await ledger.settle(grant.id, { status: 'FAILED', now: T0 + 2, release: ['budget', 'per_user'] })).toBe(false);
        expect(await ledger.settle(grant.id, { status: 'SENT', now: T0 + 3 })).toBe(false);
        expect(await ledger.usage('budget:c1')).toEqual({ count: 0, amountFen: 0 });
        expect(await ledger.usage('per-user:c1:oF')).toEqual({ count: 0, amountFen: 0 });
        expect(await ledger.openCount()).toBe(0);
        expect(await ledger.getGrant(grant.id)).toMatchObject({ status: 'FAILED', reason: 'OPENID_ERROR: no', settledAt: T0 + 1, sentAt: null });
      });

      it('should go SENT → REFUND and give back only the named reservations', async () => {
        const { grant } = await ledger.recordGrant(grantInput({ openId: 'oR', reservations: [perUser('oR'), budget(10)] }));
        expect(await ledger.settle(grant.id, { status: 'SENT', now: T0 + 1, sendListId: 'L1' })).toBe(true);
        expect(await ledger.settle(grant.id, { status: 'SENT', now: T0 + 2, sendListId: 'L2' })).toBe(false);
        expect(await ledger.settle(grant.id, { status: 'FAILED', now: T0 + 2 })).toBe(false);
        expect(await ledger.openCount()).toBe(0);
        expect(await ledger.settle(grant.id, { status: 'REFUND', now: T0 + 3, release: ['budget'] })).toBe(true);
        expect(await ledger.settle(grant.id, { status: 'REFUND', now: T0 + 4, release: ['budget'] })).toBe(false);
        expect(await ledger.usage('budget:c1')).toEqual({ count: 0, amountFen: 0 });
        expect(await ledger.usage('per-user:c1:oR')).toEqual({ count: 1, amountFen: 100 });
        expect(await ledger.getGrant(grant.id)).toMatchObject({ status: 'REFUND', sendListId: 'L1', sentAt: T0 + 1, settledAt: T0 + 3 });
      });

      it('should hold a grant (bill-number collision): out of the outbox, reservations kept, not sent, moved by nothing', async () => {
        const { grant } = await ledger.recordGrant(grantInput({ openId: 'oH', reservations: [perUser('oH'), budget(10)] }));
        const reason = 'billno_collision: sendredpack: the answer for this mch_billno says re_openid oX, not oH';
        expect(await ledger.settle(grant.id, { status: 'HELD', now: T0 + 1, reason })).toBe(true);
        for (const status of ['HELD', 'SENT', 'RECEIVED', 'REFUND', 'FAILED'] as const)
          expect(await ledger.settle(grant.id, { status, now: T0 + 2, release: ['budget'] })).toBe(false);
        expect(await ledger.openCount()).toBe(0);
        expect(await ledger.claimDue({ owner: 'w', now: T0 + 10_000_000, leaseMs: 1000, limit: 10 })).toEqual([]);
        expect(await ledger.usage('budget:c1')).toEqual({ count: 1, amountFen: 100 });
        expect(await ledger.getGrant(grant.id)).toMatchObject({ status: 'HELD', reason, billNo: grant.billNo, sentAt: null, settledAt: null });
        expect((await ledger.listByStatus(['HELD'])).map((g) => g.id)).toEqual([grant.id]);
        expect(await ledger.summary()).toContainEqual({ campaign: 'c1', status: 'HELD', count: 1, amountFen: 100 });
      });

      it('should hold a SENT grant that reconciliation finds to be another packet', async () => {
        const { grant } = await ledger.recordGrant(grantInput());
        expect(await ledger.settle(grant.id, { status: 'SENT', now: T0 + 1, sendListId: 'L1' })).toBe(true);
        expect(await ledger.settle(grant.id, { status: 'HELD', now: T0 + 2, reason: 'billno_collision: gethbinfo: total_amount 500, not 100' })).toBe(true);
        expect(await ledger.getGrant(grant.id)).toMatchObject({ status: 'HELD', sentAt: T0 + 1, settledAt: null });
      });
    });

    describe('cancel', () => {
      const who = { by: 'alice', reason: 'wrong follower', now: T0 + 50 };

      it('should cancel a pending grant: CANCELLED with who/why, out of the outbox, every reservation released', async () => {
        const { grant } = await ledger.recordGrant(grantInput({ openId: 'oK', reservations: [perUser('oK'), budget(10)] }));
        const done = await ledger.cancel(grant.billNo!, who);
        expect(done).toMatchObject({ ok: true, grant: { id: grant.id, status: 'CANCELLED', settledAt: T0 + 50, nextAttemptAt: null } });
        const g = (await ledger.getGrant(grant.id))!;
        expect(g.operatorAction).toEqual({ action: 'cancelled', by: 'alice', reason: 'wrong follower', at: T0 + 50 });
        expect(g).toMatchObject({ status: 'CANCELLED', billNo: grant.billNo, sentAt: null });
        expect(await ledger.openCount()).toBe(0);
        expect(await ledger.usage('budget:c1')).toEqual({ count: 0, amountFen: 0 });
        expect(await ledger.usage('per-user:c1:oK')).toEqual({ count: 0, amountFen: 0 });
        expect(await ledger.claimDue({ owner: 'w', now: T0 + 10_000_000, leaseMs: 1000, limit: 10 })).toEqual([]);
        expect(await ledger.summary()).toEqual([{ campaign: 'c1', status: 'CANCELLED', count: 1, amountFen: 100 }]);
      });

      it('should win over a worker that holds the lease: that worker can no longer mark it SENDING, settle or put it back', async () => {
        const { grant } = await ledger.recordGrant(grantInput({ reservations: [budget(10)] }));
        expect(await ledger.claimDue({ owner: 'w1', now: T0, leaseMs: 60_000, limit: 10 })).toHaveLength(1);
        expect((await ledger.cancel(grant.billNo!, who)).ok).toBe(true);
        expect(await ledger.markSending(grant.id, { owner: 'w1', now: T0 + 1 })).toBe(false);
        await ledger.reschedule(grant.id, { owner: 'w1', dueAt: T0 + 2, now: T0 + 2, lastError: 'x' });
        for (const status of ['SENT', 'FAILED', 'HELD'] as const) expect(await ledger.settle(grant.id, { status, now: T0 + 3 })).toBe(false);
        expect(await ledger.openCount()).toBe(0);
        expect(await ledger.getGrant(grant.id)).toMatchObject({ status: 'CANCELLED' });
        expect(await ledger.usage('budget:c1')).toEqual({ count: 0, amountFen: 0 });
      });

      it('should refuse when the worker marked it SENDING first, and cancel a HELD grant', async () => {
        const { grant } = await ledger.recordGrant(grantInput({ reservations: [budget(10)] }));
        await ledger.claimDue({ owner: 'w1', now: T0, leaseMs: 60_000, limit: 10 });
        expect(await ledger.markSending(grant.id, { owner: 'w1', now: T0 + 1 })).toBe(true);
        expect(await ledger.cancel(grant.billNo!, who)).toMatchObject({ ok: false, code: 'in_flight', grant: { status: 'SENDING' } });
        expect(await ledger.settle(grant.id, { status: 'HELD', now: T0 + 2, reason: 'billno_collision: x' })).toBe(true);
        expect(await ledger.cancel(grant.billNo!, who)).toMatchObject({ ok: true, grant: { status: 'CANCELLED' } });
        expect(await ledger.usage('budget:c1')).toEqual({ count: 0, amountFen: 0 });
      });

      it('should refuse an unknown bill, a sent, failed or cancelled grant and a card grant, changing nothing', async () => {
        expect(await ledger.cancel('1900000109202603020000000404', who)).toMatchObject({ ok: false, code: 'unknown_bill' });
        const sent = await ledger.recordGrant(grantInput({ reservations: [budget(10)] }));
        await ledger.settle(sent.grant.id, { status: 'SENT', now: T0 + 1 });
        expect(await ledger.cancel(sent.grant.billNo!, who)).toMatchObject({ ok: false, code: 'already_sent', message: expect.stringContaining('SENT') });
        const failed = await ledger.recordGrant(grantInput());
        await ledger.settle(failed.grant.id, { status: 'FAILED', now: T0 + 1, reason: 'OPENID_ERROR: x' });
        expect(await ledger.cancel(failed.grant.billNo!, who)).toMatchObject({ ok: false, code: 'closed' });
        const twice = await ledger.recordGrant(grantInput());
        expect((await ledger.cancel(twice.grant.billNo!, who)).ok).toBe(true);
        expect(await ledger.cancel(twice.grant.billNo!, { ...who, by: 'bob' })).toMatchObject({ ok: false, code: 'closed', grant: { operatorAction: { by: 'alice' } } });
        const card = await ledger.recordGrant(grantInput({ kind: 'card', amountFen: 0 }));
        expect(await ledger.cancel(card.grant.billNo!, who)).toMatchObject({ ok: false, code: 'not_red_packet' });
        expect(await ledger.getGrant(sent.grant.id)).toMatchObject({ status: 'SENT', operatorAction: null });
        expect(await ledger.usage('budget:c1')).toEqual({ count: 1, amountFen: 100 });
      });
    });

    describe('reissue', () => {
      const who = { by: 'alice', reason: 'openid corrected upstream', now: T0 + 60 };
      /** The new grant of a reissue, as `planReissue` builds it. */
      const reissueOf = (bill: string, reservations: Reservation[] = [budget(10)]) =>
        grantInput({ dedupeKey: `reissue:${bill}`, openId: 'oF', now: T0 + 60, dueAt: T0 + 60, reservations, note: `reissue of ${bill}` });

      async function failedGrant(): Promise<string> {
        const { grant } = await ledger.recordGrant(grantInput({ openId: 'oF', reservations: [budget(10)] }));
        await ledger.settle(grant.id, { status: 'FAILED', now: T0 + 1, reason: 'NO_AUTH: risk', release: ['budget'] });
        return grant.billNo!;
      }

      it('should record a new grant with a new bill number, linked both ways, with who/why on the old one', async () => {
        const bill = await failedGrant();
        const r = await ledger.reissue(bill, { ...who, grant: reissueOf(bill) });
        if (!r.ok) throw new Error(r.message);
        expect(r.grant).toMatchObject({ status: 'PENDING', outcome: 'granted', openId: 'oF', reissueOf: bill, reissuedAs: null, reason: `reissue of ${bill}` });
        expect(r.grant.billNo).not.toBe(bill);
        expect(r.grant.billNo).toBe(bill.slice(0, -1) + '2');
        expect(r.original).toMatchObject({ status: 'FAILED', reason: 'NO_AUTH: risk', reissuedAs: r.grant.billNo });
        expect(r.original.operatorAction).toEqual({ action: 'reissued', by: 'alice', reason: 'openid corrected upstream', at: T0 + 60 });
        expect(await ledger.findByBillNo(bill)).toEqual(r.original);
        expect(await ledger.findByBillNo(r.grant.billNo!)).toEqual(r.grant);
        expect(await ledger.usage('budget:c1')).toEqual({ count: 1, amountFen: 100 });
        expect(await ledger.openCount()).toBe(1);
        expect((await ledger.claimDue({ owner: 'w', now: T0 + 60, leaseMs: 1000, limit: 10 })).map((g) => g.billNo)).toEqual([r.grant.billNo]);
      });

      it('should refuse an unknown bill, a grant that did not fail, a second reissue and one over a limit, recording nothing', async () => {
        expect(await ledger.reissue('1900000109202603020000000404', { ...who, grant: reissueOf('x') })).toMatchObject({ ok: false, code: 'unknown_bill' });
        const pending = await ledger.recordGrant(grantInput());
        expect(await ledger.reissue(pending.grant.billNo!, { ...who, grant: reissueOf(pending.grant.billNo!) })).toMatchObject({
          ok: false,
          code: 'not_failed',
          message: expect.stringContaining('PENDING'),
        });
        const bill = await failedGrant();
        const full = { ...budget(1), count: 1 };
        await ledger.recordGrant(grantInput({ reservations: [full] })); // the budget's only packet
        expect(await ledger.reissue(bill, { ...who, grant: reissueOf(bill, [full]) })).toMatchObject({
          ok: false,
          code: 'limit',
          message: expect.stringContaining('budget used up'),
        });
        expect(await ledger.findByBillNo(bill)).toMatchObject({ reissuedAs: null, operatorAction: null });
        const first = await ledger.reissue(bill, { ...who, grant: reissueOf(bill) });
        expect(first.ok).toBe(true);
        const again = await ledger.reissue(bill, { ...who, by: 'bob', grant: reissueOf(bill) });
        expect(again).toMatchObject({ ok: false, code: 'already_reissued', grant: { operatorAction: { by: 'alice' } } });
        expect(await ledger.reissue(first.ok ? first.grant.billNo! : '', { ...who, grant: reissueOf('y') })).toMatchObject({ ok: false, code: 'not_failed' });
        expect((await ledger.listAll()).filter((g) => g.reissueOf === bill)).toHaveLength(1);
      });

      it('should reissue exactly once when several handles on the store ask at the same time', async () => {
        const bill = await failedGrant();
        const handles = [ledger, ...(await Promise.all([1, 2, 3].map(() => another())))];
        const results = await Promise.all(
          Array.from({ length: 12 }, (_, i) => handles[i % handles.length].reissue(bill, { ...who, by: `op${i}`, grant: reissueOf(bill) })),
        );
        const won = results.filter((r) => r.ok);
        expect(won).toHaveLength(1);
        expect(results.filter((r) => !r.ok).map((r) => (r.ok ? '' : r.code))).toEqual(Array(11).fill('already_reissued'));
        const all = await ledger.listAll();
        expect(all.filter((g) => g.reissueOf === bill)).toHaveLength(1);
        expect(await ledger.usage('budget:c1')).toEqual({ count: 1, amountFen: 100 });
        expect(await ledger.openCount()).toBe(1);
      });
    });

    describe('reports', () => {
      it('should summarise per campaign and status and list by status, least recently checked first', async () => {
        const a = await ledger.recordGrant(grantInput({ campaign: 'a', amountFen: 100 }));
        const b = await ledger.recordGrant(grantInput({ campaign: 'a', amountFen: 250 }));
        await ledger.recordGrant(grantInput({ campaign: 'b', refusal: { outcome: 'limit_reached', reason: 'x' } }));
        await ledger.settle(a.grant.id, { status: 'SENT', now: T0 });
        await ledger.settle(b.grant.id, { status: 'SENT', now: T0 });
        await ledger.markChecked(a.grant.id, T0 + 5);
        expect(await ledger.summary()).toEqual([
          { campaign: 'a', status: 'SENT', count: 2, amountFen: 350 },
          { campaign: 'b', status: 'REFUSED', count: 1, amountFen: 100 },
        ]);
        expect((await ledger.listByStatus(['SENT'])).map((g) => g.id)).toEqual([b.grant.id, a.grant.id]);
        expect((await ledger.listByStatus(['SENT'], { limit: 1 })).map((g) => g.id)).toEqual([b.grant.id]);
        expect(await ledger.listByStatus(['SENT'], { sentBefore: T0 - 1 })).toEqual([]);
        const card = await ledger.recordGrant(grantInput({ campaign: 'coupon', kind: 'card', amountFen: 0 }));
        await ledger.settle(card.grant.id, { status: 'SENT', now: T0 });
        expect((await ledger.listByStatus(['SENT'], { kind: 'red_packet' })).map((g) => g.id)).toEqual([b.grant.id, a.grant.id]);
        expect((await ledger.listByStatus(['SENT'], { kind: 'card' })).map((g) => g.id)).toEqual([card.grant.id]);
        expect((await ledger.listAll({ campaign: 'a' })).map((g) => g.id)).toEqual([a.grant.id, b.grant.id]);
        expect((await ledger.listAll({ afterId: a.grant.id, limit: 1 })).map((g) => g.id)).toEqual([b.grant.id]);
        expect(await ledger.findByKey(a.grant.dedupeKey, a.grant.ruleId)).toMatchObject({ id: a.grant.id, checkedAt: T0 + 5 });
        expect(await ledger.findByKey('nope', 'nope')).toBeUndefined();
      });

      it('should count grants, sends, claims and refunds per bucket of the window (activity)', async () => {
        const H = 3_600_000;
        const at = (h: number, campaign = 'a') => ledger.recordGrant(grantInput({ campaign, now: T0 + h * H }));
        const g0 = await at(0);
        const g1 = await at(0.5);
        const g2 = await at(1);
        const g3 = await at(2, 'b');
        await ledger.recordGrant(grantInput({ campaign: 'a', now: T0 + 1.5 * H, refusal: { outcome: 'limit_reached', reason: 'x' } }));
        await at(-1); // before the window
        await at(3); // at `until`: outside (exclusive)
        await ledger.settle(g0.grant.id, { status: 'SENT', now: T0 + 0.1 * H });
        await ledger.settle(g0.grant.id, { status: 'RECEIVED', now: T0 + 1.2 * H });
        await ledger.settle(g1.grant.id, { status: 'SENT', now: T0 + 0.6 * H });
        await ledger.settle(g1.grant.id, { status: 'REFUND', now: T0 + 2.5 * H });
        await ledger.settle(g2.grant.id, { status: 'FAILED', now: T0 + 1.1 * H });
        await ledger.settle(g3.grant.id, { status: 'SENT', now: T0 + 2.1 * H });
        const window = { since: T0, until: T0 + 3 * H, bucketMs: H };
        expect(await ledger.activity(window)).toEqual([
          { start: T0, grants: 2, sends: 2, claims: 0, refunds: 0 },
          { start: T0 + H, grants: 1, sends: 0, claims: 1, refunds: 0 },
          { start: T0 + 2 * H, grants: 1, sends: 1, claims: 0, refunds: 1 },
        ]);
        expect((await ledger.activity({ ...window, campaign: 'b' })).map((b) => [b.grants, b.sends])).toEqual([
          [0, 0],
          [0, 0],
          [1, 1],
        ]);
        expect(await ledger.activity({ since: T0 + 10 * H, until: T0 + 10 * H + 1, bucketMs: H })).toEqual([
          { start: T0 + 10 * H, grants: 0, sends: 0, claims: 0, refunds: 0 },
        ]);
        await expect(ledger.activity({ since: T0, until: T0 + 3000 * H, bucketMs: H })).rejects.toThrow(RangeError);
        await expect(ledger.activity({ since: T0, until: T0, bucketMs: H })).rejects.toThrow(RangeError);
      });
    });
  });
}
