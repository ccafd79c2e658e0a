import { fixedClock } from '../../src/lib/clock';
import { silentLogger } from '../../src/lib/logger';
import type { RedpackApi, RedpackQueryOutcome } from '../../src/pay/types';
import { createOutboxWorker } from '../../src/rewards/outbox-worker';
import { reconcile } from '../../src/rewards/reconcile';
import { createRewards } from '../../src/rewards/rewards';
import { MemoryCounterStore } from '../../src/store/memory';
import { createMemoryLedger } from '../../src/store/memory-ledger';
import { makeConfig, MCH_ID, openIdOf, redCampaign, sqliteLedger, startPayRig, T0, type PayRig } from './helpers';
import { withLedgerRules } from '../../src/rewards/ledger-plans';
import { ledgerTagRules } from '../../src/rewards/bill-no';

let pay: PayRig;
beforeEach(async () => {
  pay = await startPayRig();
});
afterEach(async () => {
  await pay.close();
});

async function sentPackets(campaign: Record<string, unknown>, n: number) {
  const s = sqliteLedger();
  const clock = fixedClock(T0);
  const config = makeConfig({ c: campaign });
  const rewards = createRewards({ ledger: s.ledger, config: () => config, clock, mchId: MCH_ID, log: silentLogger() });
  const bills: string[] = [];
  for (let i = 0; i < n; i++) bills.push((await rewards.grant({ campaign: 'c', openId: openIdOf(i), dedupeKey: `k${i}`, ruleId: 'r', now: T0 })).billNo!);
  const worker = createOutboxWorker({
    ledger: s.ledger,
    redpack: pay.redpack,
    counters: new MemoryCounterStore(clock),
    clock,
    log: silentLogger(),
    config: () => config,
  });
  await worker.runOnce();
  return { ...s, clock, config, bills, deps: { ledger: s.ledger, redpack: pay.redpack, clock, log: silentLogger(), config: () => config } };
}

describe('reconcile', () => {
  it('should record RECEIVED and REFUND, restoring the budget when the campaign says so', async () => {
    const r = await sentPackets(redCampaign({ restore_budget_on_refund: true, budget: 3, max_packets: 3 }), 3);
    expect(await r.ledger.usage('budget:c')).toEqual({ count: 3, amountFen: 300 });
    pay.sandbox.receive(r.bills[0]);
    expect(await reconcile(r.deps)).toMatchObject({ checked: 3, received: 1, refunded: 0, unchanged: 2 });
    expect(await r.ledger.findByBillNo(r.bills[0])).toMatchObject({ status: 'RECEIVED' });
    expect(pay.sandbox.refundUnclaimed(0).sort()).toEqual([r.bills[1], r.bills[2]].sort());
    expect(await reconcile(r.deps)).toMatchObject({ checked: 2, refunded: 2 });
    expect(await r.ledger.findByBillNo(r.bills[1])).toMatchObject({ status: 'REFUND' });
    expect(await r.ledger.usage('budget:c')).toEqual({ count: 1, amountFen: 100 });
    expect(await reconcile(r.deps)).toMatchObject({ checked: 0 });
    await r.close();
  });

  it('should keep the budget spent on refund by default', async () => {
    const r = await sentPackets(redCampaign(), 1);
    pay.sandbox.refundUnclaimed(0);
    await reconcile(r.deps);
    expect(await r.ledger.findByBillNo(r.bills[0])).toMatchObject({ status: 'REFUND' });
    expect(await r.ledger.usage('budget:c')).toEqual({ count: 1, amountFen: 100 });
    await r.close();
  });

  it('should only look at packets older than minAgeMs', async () => {
    const r = await sentPackets(redCampaign(), 1);
    pay.sandbox.receive(r.bills[0]);
    expect(await reconcile({ ...r.deps, minAgeMs: 60_000 })).toMatchObject({ checked: 0 });
    r.clock.advance(60_000);
    expect(await reconcile({ ...r.deps, minAgeMs: 60_000 })).toMatchObject({ checked: 1, received: 1 });
    await r.close();
  });

  it('should record RFUND_ING, count query errors and flag bills WeChat does not know (fake API)', async () => {
    const ledger = withLedgerRules(createMemoryLedger({ tags: ledgerTagRules() }));
    const clock = fixedClock(T0);
    const config = makeConfig({ c: redCampaign() });
    const rewards = createRewards({ ledger, config: () => config, clock, mchId: MCH_ID, log: silentLogger() });
    const answers: RedpackQueryOutcome[] = [
      { status: 'found', info: { billNo: '', detailId: 'd', status: 'RFUND_ING', totalAmountFen: 100 } },
      { status: 'error', code: 'SYSTEMERROR', message: 'busy' },
      { status: 'not_found' },
    ];
    const fake: RedpackApi = { send: async () => ({ status: 'sent', sendListId: 'x' }), query: async () => answers.shift()! };
    for (const i of [1, 2, 3]) {
      const g = await rewards.grant({ campaign: 'c', openId: openIdOf(i), dedupeKey: `k${i}`, ruleId: 'r', now: T0 });
      await ledger.settle((await ledger.findByBillNo(g.billNo!))!.id, { status: 'SENT', now: T0 });
    }
    expect(await reconcile({ ledger, redpack: fake, clock, log: silentLogger(), config: () => config })).toMatchObject({
      checked: 3,
      refunding: 1,
      errors: 1,
      anomalies: 1,
    });
    expect((await ledger.summary()).map((s) => [s.status, s.count])).toEqual([
      ['RFUND_ING', 1],
      ['SENT', 2],
    ]);
  });
});
