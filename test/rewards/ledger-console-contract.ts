/**
 * The ledger queries of the console, one scenario every adapter (memory, SQLite, PostgreSQL) must
 * pass: the grant search (`findGrants` / `countGrants`: filters, paging, hostile values bound, never
 * spliced) and a grant's history (`grantEvents`: what each change appends, in its own transaction).
 */
import type { GrantEventType, Ledger } from '../../src/rewards/ledger';
import { budget, grantInput, perUser } from './ledger-contract';
import { T0 } from './helpers';

export type FreshLedger = () => Promise<{ ledger: Ledger; close(): Promise<void> }>;

const HOUR = 3_600_000;
const types = async (ledger: Ledger, id: number): Promise<GrantEventType[]> => (await ledger.grantEvents(id)).map((e) => e.type);

export function runLedgerConsoleContract(name: string, fresh: FreshLedger): void {
  describe(`${name} (console queries)`, () => {
    let ledger: Ledger;
    let close: () => Promise<void>;
    beforeEach(async () => {
      ({ ledger, close } = await fresh());
    });
    afterEach(async () => {
      await close();
    });

    describe('findGrants and countGrants', () => {
      /** Six grants: two campaigns, three followers, an hour apart; the last one refused. */
      async function seed(): Promise<number[]> {
        const ids: number[] = [];
        for (let i = 0; i < 6; i++) {
          const input = grantInput({ campaign: i % 2 ? 'c2' : 'c1', openId: `oF${i % 3}`, now: T0 + i * HOUR, reservations: i === 5 ? [budget(0, null, 'c2')] : [] });
          ids.push((await ledger.recordGrant(input)).grant.id);
        }
        return ids;
      }

      it('should filter by follower, bill number, campaign, statuses and a created range, and count the same', async () => {
        const ids = await seed();
        const all = await ledger.findGrants({}, { limit: 100 });
        expect(all.map((g) => g.id)).toEqual([...ids].reverse());
        expect(await ledger.countGrants({})).toBe(6);
        const byOpenId = await ledger.findGrants({ openId: 'oF1' }, { limit: 100 });
        expect(byOpenId.map((g) => g.id)).toEqual([ids[4], ids[1]]);
        const bill = all.find((g) => g.id === ids[2])!.billNo!;
        expect((await ledger.findGrants({ billNo: bill }, { limit: 100 })).map((g) => g.id)).toEqual([ids[2]]);
        expect(await ledger.countGrants({ campaign: 'c2' })).toBe(3);
        expect((await ledger.findGrants({ statuses: ['REFUSED'] }, { limit: 100 })).map((g) => g.id)).toEqual([ids[5]]);
        expect(await ledger.countGrants({ statuses: ['PENDING', 'REFUSED'] })).toBe(6);
        expect(await ledger.countGrants({ statuses: [] })).toBe(6);
        // From inclusive, before exclusive.
        const range = { createdFrom: T0 + HOUR, createdBefore: T0 + 3 * HOUR };
        expect((await ledger.findGrants(range, { limit: 100 })).map((g) => g.id)).toEqual([ids[2], ids[1]]);
        expect(await ledger.countGrants(range)).toBe(2);
        expect(await ledger.countGrants({ ...range, campaign: 'c2', openId: 'oF1' })).toBe(1);
      });

      it('should page newest first with offset, and oldest first with a keyset that covers every row once', async () => {
        const ids = await seed();
        expect((await ledger.findGrants({}, { limit: 2, offset: 2 })).map((g) => g.id)).toEqual([ids[3], ids[2]]);
        expect(await ledger.findGrants({}, { limit: 2, offset: 6 })).toEqual([]);
        const seen: number[] = [];
        let after: number | undefined;
        for (;;) {
          const page = await ledger.findGrants({ campaign: 'c1' }, { limit: 2, order: 'oldest', ...(after === undefined ? {} : { afterId: after }) });
          if (page.length === 0) break;
          seen.push(...page.map((g) => g.id));
          after = page[page.length - 1]!.id;
        }
        expect(seen).toEqual([ids[0], ids[2], ids[4]]);
        expect((await ledger.findGrants({}, { limit: 10, afterId: ids[2] })).map((g) => g.id)).toEqual([ids[1], ids[0]]);
      });

      it('should bind hostile values as values: no injection, no wildcards', async () => {
        await seed();
        await ledger.recordGrant(grantInput({ campaign: "c'1", openId: '%' }));
        for (const hostile of ["' OR '1'='1", "oF1' --", '%', '_F1', 'oF1"; DROP TABLE ledger_grants; --'])
          expect(await ledger.countGrants({ openId: hostile === '%' ? '_' : hostile })).toBe(0);
        expect(await ledger.countGrants({ campaign: "c'1" })).toBe(1);
        expect(await ledger.countGrants({ openId: '%' })).toBe(1);
        expect(await ledger.countGrants({ campaign: 'c_' })).toBe(0);
        expect(await ledger.countGrants({ statuses: ["PENDING') OR 1=1 --" as never] })).toBe(0);
        expect(await ledger.countGrants({})).toBe(7);
      });
    });

    describe('grantEvents', () => {
      it('should record a grant with its limits checked, and a refusal with the reservation that refused', async () => {
        const { grant } = await ledger.recordGrant(grantInput({ openId: 'oA', reservations: [budget(10), perUser('oA')] }));
        const events = await ledger.grantEvents(grant.id);
        expect(events).toMatchObject([
          { grantId: grant.id, type: 'recorded', status: 'PENDING', at: T0, answer: null, detail: expect.stringContaining(grant.billNo!) },
          { type: 'limits_checked', status: 'PENDING', detail: '2 checked: budget:c1, per-user:c1:oA; all within' },
        ]);
        const again = await ledger.recordGrant(grantInput({ openId: 'oA', reservations: [perUser('oA')] }));
        expect(await ledger.grantEvents(again.grant.id)).toMatchObject([
          { type: 'recorded', status: 'REFUSED' },
          { type: 'limits_checked', status: 'REFUSED', detail: expect.stringContaining('refused (already_claimed): already received') },
        ]);
        const paused = await ledger.recordGrant(grantInput({ refusal: { outcome: 'campaign_over', reason: 'paused by li' } }));
        expect(await types(ledger, paused.grant.id)).toEqual(['recorded']);
      });

      it('should add nothing for a duplicate, nor for a settle or reschedule that changes nothing', async () => {
        const input = grantInput();
        const { grant } = await ledger.recordGrant(input);
        await ledger.recordGrant(input);
        await ledger.reschedule(grant.id, { owner: 'nobody', dueAt: T0 + 1, now: T0, lastError: 'x' });
        expect(await ledger.settle(grant.id, { status: 'SENT', now: T0 + 1 })).toBe(true);
        expect(await ledger.settle(grant.id, { status: 'SENT', now: T0 + 2 })).toBe(false);
        expect(await types(ledger, grant.id)).toEqual(['recorded', 'limits_checked', 'settled']);
      });

      it('should tell a send: sending, the answer, rescheduled, the query, settled', async () => {
        const { grant } = await ledger.recordGrant(grantInput());
        await ledger.claimDue({ owner: 'w1', now: T0, leaseMs: 60_000, limit: 10 });
        expect(await ledger.markSending(grant.id, { owner: 'w1', now: T0 + 1 })).toBe(true);
        const uncertain = { call: 'sendredpack', outcome: 'uncertain', code: 'SYSTEMERROR', message: '系统繁忙,请稍后再试', detail: null };
        await ledger.reschedule(grant.id, { owner: 'w1', dueAt: T0 + 1000, now: T0 + 2, lastError: 'SYSTEMERROR: 系统繁忙', answer: uncertain });
        // A wait without an error (quiet hours, the send rate) is no history.
        await ledger.claimDue({ owner: 'w1', now: T0 + 1000, leaseMs: 60_000, limit: 10 });
        await ledger.reschedule(grant.id, { owner: 'w1', dueAt: T0 + 2000, now: T0 + 1001 });
        await ledger.claimDue({ owner: 'w1', now: T0 + 2000, leaseMs: 60_000, limit: 10 });
        const notFound = { call: 'gethbinfo', outcome: 'not_found', code: 'NOT_FOUND', message: null, detail: null };
        expect(await ledger.markSending(grant.id, { owner: 'w1', now: T0 + 2001, answer: notFound })).toBe(true);
        const sent = { call: 'sendredpack', outcome: 'sent', code: null, message: null, detail: '1000041701201412170000000001' };
        expect(await ledger.settle(grant.id, { status: 'SENT', now: T0 + 2002, sendListId: sent.detail, answer: sent })).toBe(true);
        const events = await ledger.grantEvents(grant.id);
        expect(events.map((e) => [e.type, e.status, e.at])).toEqual([
          ['recorded', 'PENDING', T0],
          ['limits_checked', 'PENDING', T0],
          ['sending', 'SENDING', T0 + 1],
          ['answered', 'SENDING', T0 + 2],
          ['rescheduled', 'SENDING', T0 + 2],
          ['queried', 'SENDING', T0 + 2001],
          ['sending', 'SENDING', T0 + 2001],
          ['answered', 'SENT', T0 + 2002],
          ['settled', 'SENT', T0 + 2002],
        ]);
        expect(events[2]!.detail).toBe('attempt 1');
        expect(events[3]!.answer).toEqual(uncertain);
        expect(events[4]!.detail).toContain('SYSTEMERROR: 系统繁忙');
        expect(events[5]!.answer).toEqual(notFound);
        expect(events[6]!.detail).toBe('attempt 2');
        expect(events[7]!.answer).toEqual(sent);
        expect(events[8]!.detail).toBe(`SENDING → SENT; send_listid ${sent.detail}`);
        expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
      });

      it('should tell a failure with what was released, a cancel and a reissue with who and why', async () => {
        const failed = (await ledger.recordGrant(grantInput({ reservations: [budget(10)] }))).grant;
        const answer = { call: 'sendredpack', outcome: 'failed', code: 'SENDNUM_LIMIT', message: '该用户今日领取红包个数超过限制', detail: null };
        await ledger.settle(failed.id, { status: 'FAILED', now: T0 + 5, reason: 'SENDNUM_LIMIT: 该用户今日领取红包个数超过限制', release: ['budget'], answer });
        const [, , answered, settled] = await ledger.grantEvents(failed.id);
        expect(answered).toMatchObject({ type: 'answered', status: 'FAILED', answer });
        expect(settled).toMatchObject({ type: 'settled', status: 'FAILED', detail: 'PENDING → FAILED; SENDNUM_LIMIT: 该用户今日领取红包个数超过限制; released: budget' });

        const r = await ledger.reissue(failed.billNo!, { by: 'li', reason: 'limit lifted', now: T0 + 10, grant: grantInput({ now: T0 + 10 }) });
        if (!r.ok) throw new Error(r.message);
        expect((await ledger.grantEvents(failed.id)).at(-1)).toMatchObject({ type: 'reissued', status: 'FAILED', detail: `as ${r.grant.billNo} by li: limit lifted` });
        expect((await ledger.grantEvents(r.grant.id))[0]).toMatchObject({ type: 'recorded', detail: expect.stringContaining(`reissue of ${failed.billNo}`) });

        const c = await ledger.cancel(r.grant.billNo!, { by: 'wang', reason: 'duplicate', now: T0 + 20 });
        expect(c.ok).toBe(true);
        expect((await ledger.grantEvents(r.grant.id)).at(-1)).toMatchObject({ type: 'cancelled', status: 'CANCELLED', at: T0 + 20, detail: 'by wang: duplicate' });
      });

      it('should answer no history for an unknown grant', async () => {
        expect(await ledger.grantEvents(999_999)).toEqual([]);
      });
    });
  });
}
