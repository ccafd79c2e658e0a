/**
 * The outbox worker against the real pay sandbox over loopback mutual TLS, with an injected clock for
 * the ledger, leases, backoff, rate and quiet hours.
 */
import { Writable } from 'node:stream';
import { fixedClock, type ManualClock } from '../../src/lib/clock';
import { createLogger, silentLogger } from '../../src/lib/logger';
import type { RedpackApi, RedpackRequest } from '../../src/pay/types';
import type { RewardsConfig } from '../../src/rewards/config-schema';
import { createOutboxWorker, defaultBackoff, REWARDS_METRICS, type OutboxWorkerDeps } from '../../src/rewards/outbox-worker';
import { createRewards, type Rewards } from '../../src/rewards/rewards';
import type { Ledger } from '../../src/rewards/ledger';
import { payRigWorker } from '../helpers/pay-rig-worker';
import { makeConfig, MCH_ID, openIdOf, redCampaign, sqliteLedger, startPayRig, T0, type PayRig } from './helpers';

/** A fresh sandbox per test: each test's ledger numbers its bills from 1 again. */
let pay: PayRig;
beforeEach(async () => {
  pay = await startPayRig({ timeoutMs: 300 });
});
afterEach(async () => {
  await pay.close();
});

/** Replaces this test's sandbox with one built with other options. */
async function restartPay(opts: Parameters<typeof startPayRig>[0]): Promise<PayRig> {
  await pay.close();
  return startPayRig({ timeoutMs: 300, ...opts });
}

interface Rig {
  ledger: Ledger;
  clock: ManualClock;
  rewards: Rewards;
  config: RewardsConfig;
  worker: ReturnType<typeof createOutboxWorker>;
  logs: string[];
  notices: [string, string][];
  close(): Promise<void>;
}

async function rig(
  opts: { campaigns?: Record<string, Record<string, unknown>>; limits?: Record<string, unknown>; worker?: Partial<OutboxWorkerDeps>; redpack?: RedpackApi } = {},
): Promise<Rig> {
  const s = sqliteLedger();
  const clock = fixedClock(T0);
  const config = makeConfig(opts.campaigns ?? { welcome: redCampaign() }, opts.limits ?? {});
  const logs: string[] = [];
  const log = createLogger({ level: 'info', destination: new Writable({ write: (c, _e, cb) => (logs.push(String(c)), cb()) }) as never });
  const notices: [string, string][] = [];
  const rewards = createRewards({ ledger: s.ledger, config: () => config, clock, mchId: MCH_ID, log: silentLogger() });
  const worker = payRigWorker(
    { ledger: s.ledger, pay: { redpack: opts.redpack ?? pay.redpack }, clock, config },
    {
      log,
      notify: async (openId, text) => {
        notices.push([openId, text]);
      },
      backoff: () => 1000,
      ...opts.worker,
    },
  );
  return { ledger: s.ledger, clock, rewards, config, worker, logs, notices, close: s.close };
}

let follower = 0;
async function grantMany(r: Rig, n: number, campaign = 'welcome'): Promise<string[]> {
  const bills: string[] = [];
  for (let i = 0; i < n; i++) {
    follower += 1;
    const g = await r.rewards.grant({ campaign, openId: openIdOf(follower), dedupeKey: `evt:${follower}`, ruleId: 'follow', now: r.clock.now() });
    expect(g.outcome).toBe('granted');
    bills.push(g.billNo!);
  }
  return bills;
}

const sendsOf = (bill: string) => pay.sandbox.callsTo('sendredpack').filter((c) => c.fields.mch_billno === bill);

describe('createOutboxWorker', () => {
  it('should validate its dependencies', () => {
    expect(() => createOutboxWorker({} as never)).toThrow(/ledger/);
  });

  it('should send pending grants with their recorded bill numbers and settle them SENT', async () => {
    const r = await rig();
    const bills = await grantMany(r, 3);
    const pass = await r.worker.runOnce();
    expect(pass).toMatchObject({ processed: 3, sent: 3, failed: 0 });
    for (const bill of bills) {
      const g = (await r.ledger.findByBillNo(bill))!;
      const paid = pay.sandbox.payments.get(bill)!;
      expect(g).toMatchObject({ status: 'SENT', attempts: 1, sendListId: paid.sendListId });
      expect(paid).toMatchObject({ timesPaid: 1, openId: g.openId, amountFen: 100 });
      expect(pay.sandbox.timesPaidTo(g.openId)).toBe(1);
    }
    expect(await r.ledger.openCount()).toBe(0);
    expect((await r.worker.runOnce()).processed).toBe(0);
    expect(r.worker.metrics.counter(REWARDS_METRICS.sends, '').get({ result: 'sent' })).toBe(3);
    await r.close();
  });

  it('should query before resending after an uncertain answer, and settle a packet that was paid', async () => {
    const r = await rig();
    const [bill] = await grantMany(r, 1);
    pay.sandbox.faults.set({ systemErrorRate: 1, paidShare: 1, endpoints: ['sendredpack'] });
    expect(await r.worker.runOnce()).toMatchObject({ sent: 0, retried: 1 });
    expect(await r.ledger.findByBillNo(bill)).toMatchObject({ status: 'SENDING', attempts: 1, lastError: expect.stringContaining('SYSTEMERROR') });
    pay.sandbox.faults.clear();
    expect((await r.worker.runOnce()).processed).toBe(0); // backoff not over yet
    r.clock.advance(1000);
    await r.worker.runOnce();
    expect(await r.ledger.findByBillNo(bill)).toMatchObject({ status: 'SENT', attempts: 1 });
    expect(sendsOf(bill)).toHaveLength(1); // confirmed by gethbinfo, not sent again
    expect(pay.sandbox.payments.get(bill)!.timesPaid).toBe(1);
    expect(pay.sandbox.timesPaidTo(pay.sandbox.payments.get(bill)!.openId)).toBe(1); // money left once for the follower, whatever the bill
    await r.close();
  });

  it('should resend with the same bill number when the query finds nothing', async () => {
    const r = await rig();
    const [bill] = await grantMany(r, 1);
    pay.sandbox.faults.set({ timeoutRate: 1, paidShare: 0, endpoints: ['sendredpack'] });
    await r.worker.runOnce();
    expect(await r.ledger.findByBillNo(bill)).toMatchObject({ status: 'SENDING', lastError: expect.stringContaining('TIMEOUT') });
    pay.sandbox.faults.clear();
    r.clock.advance(1000);
    await r.worker.runOnce();
    expect(await r.ledger.findByBillNo(bill)).toMatchObject({ status: 'SENT', attempts: 2 });
    expect(sendsOf(bill).map((c) => c.fields.mch_billno)).toEqual([bill, bill]);
    expect(pay.sandbox.payments.get(bill)!.timesPaid).toBe(1);
    expect(pay.sandbox.timesPaidTo(pay.sandbox.payments.get(bill)!.openId)).toBe(1); // money left once for the follower, whatever the bill
    await r.close();
  });

  it('should wait while gethbinfo says SENDING (PROCESSING)', async () => {
    const r = await rig();
    const [bill] = await grantMany(r, 1);
    pay.sandbox.faults.set({ processingRate: 1, endpoints: ['sendredpack'] });
    await r.worker.runOnce();
    expect(await r.ledger.findByBillNo(bill)).toMatchObject({ status: 'SENDING', lastError: expect.stringContaining('PROCESSING') });
    pay.sandbox.faults.clear();
    r.clock.advance(1000);
    await r.worker.runOnce(); // the sandbox's query turns SENDING into SENT
    const g = (await r.ledger.findByBillNo(bill))!;
    expect(['SENDING', 'SENT']).toContain(g.status);
    r.clock.advance(1000);
    await r.worker.runOnce();
    expect(await r.ledger.findByBillNo(bill)).toMatchObject({ status: 'SENT' });
    expect(pay.sandbox.payments.get(bill)!.timesPaid).toBe(1);
    expect(pay.sandbox.timesPaidTo(pay.sandbox.payments.get(bill)!.openId)).toBe(1); // money left once for the follower, whatever the bill
    await r.close();
  });

  it('should pause the campaign on NOTENOUGH, alert, keep the grants with their bill numbers, and send them after resume', async () => {
    const r = await rig({ campaigns: { welcome: redCampaign(), other: redCampaign() } });
    const bills = await grantMany(r, 3);
    const [otherBill] = await grantMany(r, 1, 'other');
    pay.sandbox.setBalanceFen(0);
    const pass = await r.worker.runOnce();
    expect(pass.sent).toBe(0);
    expect(await r.ledger.pausedCampaigns()).toEqual(
      expect.arrayContaining([expect.objectContaining({ campaign: 'welcome', by: 'worker', reason: expect.stringContaining('NOTENOUGH') })]),
    );
    expect(r.worker.metrics.counter(REWARDS_METRICS.paused, '').get({ campaign: 'welcome', code: 'NOTENOUGH' })).toBe(1);
    expect(r.worker.metrics.render()).toContain('rewards_campaign_paused_total{campaign="welcome",code="NOTENOUGH"} 1');
    expect(r.logs.some((l) => l.includes('"level":50') && l.includes('OPERATOR ALERT') && l.includes('campaign resume welcome'))).toBe(true);
    // New grants are answered campaign_over while paused; queued ones keep their bill numbers.
    expect((await r.rewards.grant({ campaign: 'welcome', openId: 'oLate000001', dedupeKey: 'late', ruleId: 'follow', now: r.clock.now() })).outcome).toBe(
      'campaign_over',
    );
    r.clock.advance(60_000);
    expect((await r.worker.runOnce()).processed).toBe(0);
    for (const bill of bills) expect((await r.ledger.findByBillNo(bill))!.status).not.toBe('SENT');

    pay.sandbox.setBalanceFen(100_000);
    await r.rewards.resume('welcome');
    await r.rewards.resume('other');
    await r.worker.runOnce();
    for (const bill of [...bills, otherBill]) {
      expect(await r.ledger.findByBillNo(bill)).toMatchObject({ status: 'SENT' });
      expect(pay.sandbox.payments.get(bill)!.timesPaid).toBe(1);
      expect(pay.sandbox.timesPaidTo(pay.sandbox.payments.get(bill)!.openId)).toBe(1); // money left once for the follower, whatever the bill
    }
    await r.close();
  });

  it('should settle FAILED with the reason, release the reservations and notify the follower', async () => {
    const r = await rig({ campaigns: { welcome: redCampaign({ notify_on_failure: true, replies: { failure_notice: 'Sorry!' } }) } });
    const [bill] = await grantMany(r, 1);
    const g0 = (await r.ledger.findByBillNo(bill))!;
    pay.sandbox.faults.set({ errCode: 'SENDNUM_LIMIT', errCodeTimes: 1 });
    expect(await r.worker.runOnce()).toMatchObject({ failed: 1 });
    expect(await r.ledger.findByBillNo(bill)).toMatchObject({ status: 'FAILED', reason: expect.stringContaining('SENDNUM_LIMIT') });
    expect(await r.ledger.usage('budget:welcome')).toEqual({ count: 0, amountFen: 0 });
    expect(await r.ledger.usage(`per-user:welcome:${g0.openId}`)).toEqual({ count: 0, amountFen: 0 });
    expect(r.notices).toEqual([[g0.openId, 'Sorry!']]);
    expect(pay.sandbox.payments.has(bill)).toBe(false);
    await r.close();
  });

  it('should settle a grant refused locally (a 41-character openid) FAILED, keep the campaign going, and never re-pause it after resume', async () => {
    const r = await rig();
    const [before] = await grantMany(r, 1);
    const bad = await r.rewards.record({ campaign: 'welcome', openId: `o${'x'.repeat(40)}`, dedupeKey: 'evt:long-openid', ruleId: 'follow', now: r.clock.now() });
    expect(bad.outcome).toBe('granted');
    const [after] = await grantMany(r, 1);
    // The state today's main left behind: the worker paused the campaign on this grant; the operator resumes.
    await r.ledger.pauseCampaign('welcome', { reason: 'LOCAL_PARAM_ERROR: openId must be 1–32 characters', by: 'worker', now: r.clock.now() });
    expect(await r.rewards.resume('welcome')).toBe(true);
    expect(await r.worker.runOnce()).toMatchObject({ sent: 2, failed: 1 });
    expect(await r.ledger.findByBillNo(bad.billNo!)).toMatchObject({ status: 'FAILED', reason: 'LOCAL_PARAM_ERROR: openId must be 1–32 characters' });
    expect(sendsOf(bad.billNo!)).toHaveLength(0);
    for (const bill of [before, after]) expect(await r.ledger.findByBillNo(bill)).toMatchObject({ status: 'SENT' });
    expect(await r.ledger.pausedCampaigns()).toEqual([]);
    expect(await r.ledger.usage('budget:welcome')).toEqual({ count: 2, amountFen: 200 });
    // Seconds later (the issue saw a re-pause within 3 s): still running, new grants still granted and sent.
    r.clock.advance(3000);
    const [later] = await grantMany(r, 1);
    await r.worker.runOnce();
    expect(await r.ledger.pausedCampaigns()).toEqual([]);
    expect(await r.ledger.findByBillNo(later)).toMatchObject({ status: 'SENT' });
    expect(r.worker.metrics.counter(REWARDS_METRICS.paused, '').get({ campaign: 'welcome', code: 'LOCAL_PARAM_ERROR' })).toBe(0);
    await r.close();
  });

  it.each(['OPENID_ERROR', 'PARAM_ERROR', 'NO_AUTH', 'MONEY_LIMIT'])(
    'should settle only the grant WeChat Pay refused with %s FAILED, with the reason, and send the rest of the campaign',
    async (code) => {
      const r = await rig();
      const bills = await grantMany(r, 3);
      pay.sandbox.faults.set({ errCode: code, errCodeTimes: 1 });
      expect(await r.worker.runOnce()).toMatchObject({ sent: 2, failed: 1 });
      const failed = [];
      for (const bill of bills) {
        const g = (await r.ledger.findByBillNo(bill))!;
        if (g.status === 'FAILED') failed.push(g);
        else expect(g.status).toBe('SENT');
      }
      expect(failed).toHaveLength(1);
      expect(failed[0].reason).toMatch(new RegExp(`^${code}: `));
      expect(await r.ledger.pausedCampaigns()).toEqual([]);
      await r.close();
    },
  );

  it('should pause the campaign on the merchant daily amount (SENDAMOUNT_LIMIT) and keep the grant pending with its bill number', async () => {
    pay = await restartPay({ sandbox: { merchantDailyAmountFen: 150 } });
    const r = await rig();
    const [first, second] = await grantMany(r, 2);
    await r.worker.runOnce();
    expect(await r.ledger.findByBillNo(first)).toMatchObject({ status: 'SENT' });
    expect(await r.ledger.findByBillNo(second)).toMatchObject({ billNo: second, lastError: expect.stringContaining('SENDAMOUNT_LIMIT') });
    expect((await r.ledger.findByBillNo(second))!.status).not.toBe('FAILED');
    expect(await r.ledger.pausedCampaigns()).toEqual([
      expect.objectContaining({ campaign: 'welcome', by: 'worker', reason: expect.stringContaining('SENDAMOUNT_LIMIT') }),
    ]);
    await r.close();
  });

  it('should never send a grant an operator cancelled after this worker leased it', async () => {
    const r = await rig();
    const [cancelled, kept] = await grantMany(r, 2);
    // The real ledger, with the operator's cancel landing between the worker's claim and its send.
    const racing = new Proxy(r.ledger, {
      get(target, key) {
        if (key === 'claimDue')
          return async (opts: Parameters<Ledger['claimDue']>[0]) => {
            const claimed = await target.claimDue(opts);
            expect((await target.cancel(cancelled, { by: 'alice', reason: 'duplicate follower', now: r.clock.now() })).ok).toBe(true);
            return claimed;
          };
        const value = Reflect.get(target, key) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const worker = payRigWorker({ ledger: racing, pay, clock: r.clock, config: r.config });
    const pass = await worker.runOnce();
    expect(pass).toMatchObject({ processed: 2, sent: 1 });
    expect(sendsOf(cancelled)).toHaveLength(0);
    expect(await r.ledger.findByBillNo(cancelled)).toMatchObject({ status: 'CANCELLED', attempts: 0 });
    expect(await r.ledger.findByBillNo(kept)).toMatchObject({ status: 'SENT' });
    r.clock.advance(120_000);
    expect((await r.worker.runOnce()).processed).toBe(0);
    expect(sendsOf(cancelled)).toHaveLength(0);
    await r.close();
  });

  it('should never send in quiet hours, and send deferred grants at 08:00', async () => {
    const r = await rig();
    r.clock.set(Date.parse('2026-03-02T07:00:00+08:00'));
    const [bill] = await grantMany(r, 1);
    expect(await r.ledger.findByBillNo(bill)).toMatchObject({ status: 'DEFERRED' });
    expect((await r.worker.runOnce()).processed).toBe(0);
    r.clock.set(Date.parse('2026-03-02T07:59:59+08:00'));
    expect((await r.worker.runOnce()).processed).toBe(0);
    expect(sendsOf(bill)).toHaveLength(0);
    r.clock.set(Date.parse('2026-03-02T08:00:00+08:00'));
    expect((await r.worker.runOnce()).sent).toBe(1);
    await r.close();
  });

  it('should put a retry that falls in quiet hours back until they end', async () => {
    const r = await rig();
    r.clock.set(Date.parse('2026-03-02T23:59:59+08:00'));
    const [bill] = await grantMany(r, 1);
    pay.sandbox.faults.set({ systemErrorRate: 1, paidShare: 0, endpoints: ['sendredpack'] });
    await r.worker.runOnce();
    pay.sandbox.faults.clear();
    r.clock.advance(1000); // 00:00:00 — quiet
    await r.worker.runOnce();
    const g = (await r.ledger.findByBillNo(bill))!;
    expect(g.nextAttemptAt).toBe(Date.parse('2026-03-03T08:00:00+08:00'));
    expect(sendsOf(bill)).toHaveLength(1);
    await r.close();
  });

  it('should resume a crashed worker’s grant after its lease expires, querying first', async () => {
    const r = await rig({ worker: { leaseMs: 5000 } });
    const [bill] = await grantMany(r, 1);
    // A worker claims, marks SENDING, sends (paid), then dies before recording anything.
    const [g] = await r.ledger.claimDue({ owner: 'dead', now: r.clock.now(), leaseMs: 5000, limit: 1 });
    await r.ledger.markSending(g.id, { owner: 'dead', now: r.clock.now() });
    expect((await pay.redpack.send({ ...(g.payload as unknown as RedpackRequest), billNo: bill, openId: g.openId, amountFen: g.amountFen })).status).toBe('sent');
    expect((await r.worker.runOnce()).processed).toBe(0); // lease still live
    r.clock.advance(5000);
    await r.worker.runOnce();
    expect(await r.ledger.findByBillNo(bill)).toMatchObject({ status: 'SENT' });
    expect(sendsOf(bill)).toHaveLength(1);
    expect(pay.sandbox.payments.get(bill)!.timesPaid).toBe(1);
    expect(pay.sandbox.timesPaidTo(pay.sandbox.payments.get(bill)!.openId)).toBe(1); // money left once for the follower, whatever the bill
    await r.close();
  });

  it('should run passes on timers with start() and stop cleanly', async () => {
    const r = await rig({ worker: { pollMs: 10 } });
    const bills = await grantMany(r, 5);
    r.worker.start();
    // Waits for the ledger to empty: many short polls (bounded well inside the test timeout), not a fixed wait.
    for (let i = 0; i < 2000 && (await r.ledger.openCount()) > 0; i++) await new Promise((res) => setTimeout(res, 10));
    expect(await r.ledger.openCount()).toBe(0);
    await r.worker.stop();
    for (const bill of bills) expect(pay.sandbox.payments.get(bill)?.timesPaid).toBe(1);
    await r.close();
  });
});

describe('defaultBackoff', () => {
  it('should double from 1 s up to 5 minutes', () => {
    expect([1, 2, 3, 10, 50].map(defaultBackoff)).toEqual([1000, 2000, 4000, 300_000, 300_000]);
  });
});
