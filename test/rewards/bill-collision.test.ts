/**
 * Bill-number collisions end to end: two ledgers on one mch_id with the same bill tag ("production"
 * and "staging") against the real pay sandbox, which answers a repeated bill with the FIRST packet's
 * result. The second ledger's grant must be held (HELD, `billno_collision: …`) with an alert — never
 * SENT, never retried with that bill number — whether the mismatch shows in the send answer, in the
 * `gethbinfo` the worker asks after an uncertain send, or in reconciliation.
 */
import path from 'node:path';
import { Writable } from 'node:stream';
import { fixedClock, type ManualClock } from '../../src/lib/clock';
import { createLogger } from '../../src/lib/logger';
import { createMetrics, type Metrics } from '../../src/lib/metrics';
import type { RedpackQueryOutcome } from '../../src/pay/types';
import { queryMismatch } from '../../src/rewards/bill-collision';
import { createOutboxWorker, REWARDS_METRICS } from '../../src/rewards/outbox-worker';
import { reconcile } from '../../src/rewards/reconcile';
import { createRewards, type Rewards } from '../../src/rewards/rewards';
import { MemoryCounterStore } from '../../src/store/memory';
import { SqliteLedger } from '../../src/store/sqlite-ledger';
import { openSqlite } from '../../src/store/sqlite-migrate';
import type { PaySandboxOptions } from '../../src/sandbox/pay-server';
import { makeConfig, MCH_ID, openIdOf, redCampaign, startPayRig, T0, tempDir, type PayRig } from './helpers';
import { withLedgerRules } from '../../src/rewards/ledger-plans';
import type { Ledger } from '../../src/rewards/ledger';
import { ledgerTagRules } from '../../src/rewards/bill-no';

const TAG = '777';

let pay: PayRig;
let tmp: ReturnType<typeof tempDir>;
let clock: ManualClock;
let opened: Env[];
async function start(sandbox: PaySandboxOptions = {}): Promise<void> {
  pay = await startPayRig({ timeoutMs: 300, sandbox });
}
beforeEach(() => {
  tmp = tempDir('collision-');
  clock = fixedClock(T0);
  opened = [];
});
afterEach(async () => {
  for (const e of opened) await e.ledger.close();
  await pay?.close();
  tmp.remove();
});

interface Env {
  ledger: Ledger;
  rewards: Rewards;
  worker: ReturnType<typeof createOutboxWorker>;
  metrics: Metrics;
  logs: string[];
  reconcileDeps: Parameters<typeof reconcile>[0];
}

/** One environment (its own SQLite ledger, tag TAG) on the shared sandbox and clock. */
function env(name: string, campaign: Record<string, unknown> = redCampaign()): Env {
  const ledger = withLedgerRules(SqliteLedger.create(openSqlite(path.join(tmp.dir, `${name}.sqlite`)), { ownsDb: true, tags: ledgerTagRules(TAG) }));
  const config = makeConfig({ welcome: campaign });
  const logs: string[] = [];
  const log = createLogger({ level: 'info', destination: new Writable({ write: (c, _e, cb) => (logs.push(String(c)), cb()) }) as never });
  const metrics = createMetrics();
  const rewards = createRewards({ ledger, config: () => config, clock, mchId: MCH_ID, log });
  const worker = createOutboxWorker({
    ledger,
    redpack: pay.redpack,
    counters: new MemoryCounterStore(clock),
    clock,
    log,
    config: () => config,
    backoff: () => 1000,
    metrics,
  });
  const e = { ledger, rewards, worker, metrics, logs, reconcileDeps: { ledger, redpack: pay.redpack, clock, log, config: () => config, metrics } };
  opened.push(e);
  return e;
}

/**
 * Production sends follower 1 its packet; staging (same tag) then records a grant for `follower`,
 * which gets the very same bill number.
 */
async function collide(opts: { prod?: Record<string, unknown>; staging?: Record<string, unknown>; follower?: number } = {}) {
  const prod = env('prod', opts.prod);
  const staging = env('staging', opts.staging ?? opts.prod);
  const bill = await grant(prod, 1);
  expect((await prod.worker.runOnce()).sent).toBe(1);
  expect(await grant(staging, opts.follower ?? 2)).toBe(bill); // same tag, same day, same sequence
  return { prod, staging, bill };
}

async function grant(e: Env, follower: number): Promise<string> {
  const g = await e.rewards.grant({ campaign: 'welcome', openId: openIdOf(follower), dedupeKey: `evt:${follower}`, ruleId: 'follow', now: clock.now() });
  expect(g.outcome).toBe('granted');
  return g.billNo!;
}

const sendsOf = (bill: string) => pay.sandbox.callsTo('sendredpack').filter((c) => c.fields.mch_billno === bill);
const alertsOf = (e: Env) => e.metrics.counter(REWARDS_METRICS.alerts, '').get({ kind: 'billno_collision' });
const alertLogged = (e: Env, bill: string) =>
  e.logs.some((l) => l.includes('"level":50') && l.includes('OPERATOR ALERT') && l.includes(bill) && l.includes('BOT_BILLNO_TAG'));

/** The grant is held as a collision: not SENT, out of the outbox, reservations kept, alert raised. */
async function expectHeld(e: Env, bill: string, detail: RegExp): Promise<void> {
  const g = (await e.ledger.findByBillNo(bill))!;
  expect(g).toMatchObject({ status: 'HELD', sentAt: null, sendListId: null });
  expect(g.reason).toMatch(/^billno_collision: /);
  expect(g.reason).toMatch(detail);
  expect(await e.ledger.openCount()).toBe(0);
  expect((await e.ledger.usage('budget:welcome')).count).toBe(1);
  expect(alertsOf(e)).toBe(1);
  expect(alertLogged(e, bill)).toBe(true);
}

describe('a bill number another ledger already used', () => {
  it('should hold the grant when the send answer names another re_openid, never marking it SENT nor re-sending it', async () => {
    await start();
    const { staging, bill } = await collide();
    const pass = await staging.worker.runOnce();
    expect(pass).toMatchObject({ sent: 0, held: 1 });
    await expectHeld(staging, bill, new RegExp(`re_openid ${openIdOf(1)}, not ${openIdOf(2)}`));
    expect(pay.sandbox.paymentsTo(openIdOf(2))).toHaveLength(0);
    clock.advance(3_600_000);
    expect((await staging.worker.runOnce()).processed).toBe(0);
    expect(sendsOf(bill)).toHaveLength(2);
    expect(staging.metrics.render()).toContain('rewards_operator_alerts_total{kind="billno_collision"} 1');
  });

  it('should hold a service-provider grant (sub_mch_id, msgappid) whose answer names another re_openid', async () => {
    await start();
    const { staging, bill } = await collide({ prod: redCampaign({ service_provider: { sub_mch_id: '1900000110', msgappid: 'wx0000sandbox0000' } }) });
    expect(pay.sandbox.payments.get(bill)).toMatchObject({ subMchId: '1900000110', openId: openIdOf(1) });
    expect(await staging.worker.runOnce()).toMatchObject({ sent: 0, held: 1 });
    await expectHeld(staging, bill, new RegExp(`re_openid ${openIdOf(1)}, not ${openIdOf(2)}`));
  });

  it('should hold the grant when the send answer names another total_amount (same follower)', async () => {
    await start();
    const { staging, bill } = await collide({ staging: redCampaign({ amount: 2.0 }), follower: 1 });
    expect(await staging.worker.runOnce()).toMatchObject({ sent: 0, held: 1 });
    await expectHeld(staging, bill, /total_amount 100, not 200/);
    expect(pay.sandbox.payments.get(bill)).toMatchObject({ amountFen: 100, timesPaid: 1 });
  });

  it('should hold a fission grant whose group answer names another seed user', async () => {
    await start();
    const { staging, bill } = await collide({ prod: redCampaign({ type: 'fission', amount: 3.0, total_num: 3 }) });
    expect(pay.sandbox.payments.get(bill)).toMatchObject({ endpoint: 'sendgroupredpack', openId: openIdOf(1), amountFen: 300 });
    expect(await staging.worker.runOnce()).toMatchObject({ held: 1 });
    await expectHeld(staging, bill, /sendgroupredpack: .*re_openid/);
  });

  it('should hold the grant when WeChat Pay answers FATAL_ERROR (the bill was used with other parameters)', async () => {
    await start({ reentryMismatch: 'fatal_error' });
    const { staging, bill } = await collide();
    expect(await staging.worker.runOnce()).toMatchObject({ failed: 0, held: 1 });
    await expectHeld(staging, bill, /FATAL_ERROR/);
  });

  it('should hold the grant when gethbinfo, asked after an uncertain send, describes another packet', async () => {
    await start();
    const { staging, bill } = await collide({ staging: redCampaign({ amount: 2.0 }) });
    pay.sandbox.faults.set({ timeoutRate: 1, paidShare: 0, endpoints: ['sendredpack'] });
    await staging.worker.runOnce();
    expect(await staging.ledger.findByBillNo(bill)).toMatchObject({ status: 'SENDING' });
    pay.sandbox.faults.clear();
    clock.advance(1000);
    expect(await staging.worker.runOnce()).toMatchObject({ held: 1 });
    await expectHeld(staging, bill, /gethbinfo: total_amount 100, not 200/);
    expect(sendsOf(bill)).toHaveLength(2); // the first packet's send and the lost one; no resend after the query
  });

  it.each([
    ['another total_amount', 2.0, false, /gethbinfo: total_amount 100, not 200/],
    ['another receiver', 1.0, true, new RegExp(`received by ${openIdOf(1)}, not ${openIdOf(2)}`)],
  ])('should hold a SENT grant in reconciliation when gethbinfo says %s', async (_label, amount, received, detail) => {
    await start();
    const { prod, staging, bill } = await collide({ staging: redCampaign({ amount }) });
    if (received) pay.sandbox.receive(bill);
    // Recorded SENT as an older version did (it checked neither re_openid nor gethbinfo).
    const g = (await staging.ledger.findByBillNo(bill))!;
    await staging.ledger.settle(g.id, { status: 'SENT', now: clock.now() });
    const report = await reconcile(staging.reconcileDeps);
    expect(report).toMatchObject({ checked: 1, collisions: 1, received: 0 });
    expect(await staging.ledger.findByBillNo(bill)).toMatchObject({ status: 'HELD', reason: expect.stringMatching(detail) });
    expect(alertsOf(staging)).toBe(1);
    expect(alertLogged(staging, bill)).toBe(true);
    expect(await reconcile(staging.reconcileDeps)).toMatchObject({ checked: 0 }); // held grants are left to the operator
    // The production ledger's own packet reconciles as usual.
    expect(await reconcile(prod.reconcileDeps)).toMatchObject({ collisions: 0, ...(received ? { received: 1 } : { unchanged: 1 }) });
  });
});

describe('queryMismatch', () => {
  type Info = Extract<RedpackQueryOutcome, { status: 'found' }>['info'];
  const info = (over: Partial<Info> = {}): Info => ({ billNo: 'b', detailId: 'd', status: 'SENT', totalAmountFen: 300, ...over });
  const normal = { openId: 'oSeed000001', amountFen: 300, payload: { kind: 'normal', totalNum: 1 } };
  const fission = { openId: 'oSeed000001', amountFen: 300, payload: { kind: 'fission', totalNum: 3 } };
  const claim = (openId: string) => ({ openId, amountFen: 100, receivedAt: '' });

  it.each([
    ['a normal packet that matches', normal, info({ hbType: 'NORMAL', totalNum: 1, receivedBy: [claim('oSeed000001')] }), undefined],
    ['a normal packet not opened yet', normal, info(), undefined],
    [
      'a fission group opened by its seed user and others',
      fission,
      info({ hbType: 'GROUP', totalNum: 3, receivedBy: [claim('oSeed000001'), claim('oFriend0001')] }),
      undefined,
    ],
    ['another amount', normal, info({ totalAmountFen: 100 }), 'total_amount 100, not 300'],
    ['another kind', normal, info({ hbType: 'GROUP' }), 'hb_type GROUP, not NORMAL'],
    ['another group size', fission, info({ totalNum: 5 }), 'total_num 5, not 3'],
    ['another receiver', normal, info({ receivedBy: [claim('oOther00001')] }), 'received by oOther00001, not oSeed000001'],
    ['a group without its seed user', fission, info({ receivedBy: [claim('oOther00001')] }), 'received by oOther00001, not seed user oSeed000001'],
  ])('should judge %s', (_label, grant, answer, expected) => {
    expect(queryMismatch(grant, answer)).toBe(expected);
  });
});
