/**
 * The history the outbox writes against the real pay sandbox: each attempt, WeChat Pay's answers to
 * the sends and to `gethbinfo`, the retry and the settlement, as the console's ledger page shows them.
 */
import { fixedClock } from '../../src/lib/clock';
import { silentLogger } from '../../src/lib/logger';
import { createOutboxWorker } from '../../src/rewards/outbox-worker';
import { createRewards } from '../../src/rewards/rewards';
import { MemoryCounterStore } from '../../src/store/memory';
import { makeConfig, MCH_ID, redCampaign, sqliteLedger, startPayRig, T0, type PayRig } from './helpers';

let pay: PayRig;
beforeEach(async () => {
  pay = await startPayRig({ timeoutMs: 300 });
});
afterEach(async () => pay.close());

async function rig() {
  const s = sqliteLedger();
  const clock = fixedClock(T0);
  const config = makeConfig({ welcome: redCampaign() });
  const rewards = createRewards({ ledger: s.ledger, config: () => config, clock, mchId: MCH_ID, log: silentLogger() });
  const worker = createOutboxWorker({
    ledger: s.ledger,
    redpack: pay.redpack,
    counters: new MemoryCounterStore(clock),
    clock,
    log: silentLogger(),
    config: () => config,
    backoff: () => 1000,
  });
  const g = await rewards.grant({ campaign: 'welcome', openId: 'oHistory0000000000000000001', dedupeKey: 'evt:1', ruleId: 'follow', now: T0 });
  const grant = (await s.ledger.findByBillNo(g.billNo!))!;
  return { ...s, clock, worker, grant };
}

describe('the outbox and the grant history', () => {
  it('should keep an uncertain send, the query that found it paid, and the settlement, with the answers', async () => {
    const r = await rig();
    pay.sandbox.faults.set({ systemErrorRate: 1, paidShare: 1, endpoints: ['sendredpack'] });
    await r.worker.runOnce();
    pay.sandbox.faults.clear();
    r.clock.advance(1000);
    await r.worker.runOnce();
    const events = await r.ledger.grantEvents(r.grant.id);
    expect(events.map((e) => e.type)).toEqual(['recorded', 'limits_checked', 'sending', 'answered', 'rescheduled', 'queried', 'settled']);
    expect(events[3]!.answer).toMatchObject({ call: 'sendredpack', outcome: 'uncertain', code: 'SYSTEMERROR', message: expect.any(String) });
    expect(events[3]!.answer).toMatchObject({ returnCode: 'SUCCESS', resultCode: 'FAIL' }); // WeChat Pay's own codes, as answered
    expect(events[5]!.answer).toMatchObject({ call: 'gethbinfo', outcome: 'found', detail: 'SENT', returnCode: 'SUCCESS', resultCode: 'SUCCESS' });
    expect(events[6]).toMatchObject({ status: 'SENT', detail: expect.stringMatching(/^SENDING → SENT/) });
    await r.close();
  });

  it('should keep a business refusal with its err_code and err_code_des', async () => {
    const r = await rig();
    pay.sandbox.faults.set({ errCode: 'SENDNUM_LIMIT', errCodeTimes: 1 });
    await r.worker.runOnce();
    const events = await r.ledger.grantEvents(r.grant.id);
    expect(events.map((e) => e.type)).toEqual(['recorded', 'limits_checked', 'sending', 'answered', 'settled']);
    expect(events[3]).toMatchObject({ status: 'FAILED', answer: { call: 'sendredpack', outcome: 'failed', code: 'SENDNUM_LIMIT', message: expect.any(String) } });
    expect(events[3]!.answer).toMatchObject({ returnCode: 'SUCCESS', resultCode: 'FAIL' });
    expect(events[4]!.detail).toContain('released: budget, per_user, follower_daily, merchant_daily');
    await r.close();
  });

  it('should keep a paid send with its send_listid', async () => {
    const r = await rig();
    await r.worker.runOnce();
    const [, , sending, answered, settled] = await r.ledger.grantEvents(r.grant.id);
    const g = (await r.ledger.getGrant(r.grant.id))!;
    expect(sending).toMatchObject({ type: 'sending', detail: 'attempt 1', at: T0 });
    expect(answered!.answer).toEqual({
      call: 'sendredpack',
      outcome: 'sent',
      code: null,
      message: null,
      detail: g.sendListId,
      returnCode: 'SUCCESS',
      resultCode: 'SUCCESS',
    });
    expect(settled).toMatchObject({ type: 'settled', status: 'SENT' });
    await r.close();
  });
});
