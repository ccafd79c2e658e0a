/**
 * Issue 17: member-card points as a reward kind. A grant is recorded in the ledger like a red packet
 * and sent by the outbox as an ABSOLUTE total (`membercard/updateuser` `bonus`), so a lost answer, a
 * retry or a second worker never adds the points twice. Run on the memory, SQLite and PostgreSQL
 * ledgers, against the API sandbox over loopback.
 */
import { createTokenProvider } from '../../src/api/access-token';
import { createApiClient } from '../../src/api/client';
import { memberCardBonusApi } from '../../src/api/member-card-bonus';
import { changeMemberPoints, pointsHistory } from '../../src/cards/member-points';
import type { Member } from '../../src/cards/member-store';
import { createPointsSender, memberPointsGrants, pointsTotal } from '../../src/cards/points-sender';
import { campaignsFileSchema, REWARD_KINDS } from '../../src/config/reward-kinds';
import { fixedClock, type ManualClock } from '../../src/lib/clock';
import { silentLogger } from '../../src/lib/logger';
import { defaultLimits, type RewardsConfig } from '../../src/rewards/config-schema';
import type { Ledger } from '../../src/rewards/ledger';
import { createOutboxWorker } from '../../src/rewards/outbox-worker';
import { createRewards, type Rewards } from '../../src/rewards/rewards';
import { startApiSandbox, type ApiSandbox } from '../../src/sandbox/api-server';
import { MemoryCounterStore, MemoryKeyValueStore } from '../../src/store/memory';
import { dropSharedPg, MCH_ID, memoryLedgerFactory, pgLedgerFactory, sqliteLedgerFactory, T0, type LedgerFactory } from '../rewards/helpers';

const CARD_ID = 'pMemberGold';
const CODE = '100000000001';
const UPDATE = '/card/membercard/updateuser';

interface Rig {
  clock: ManualClock;
  members: { findByCode(cardId: string, code: string): Promise<Member | undefined>; findByOpenId(openId: string): Promise<Member[]> };
  sandbox: ApiSandbox;
  ledger: Ledger;
  rewards: Rewards;
  worker(owner: string, ledger?: Ledger): ReturnType<typeof createOutboxWorker>;
  grant(i: number): Promise<unknown>;
  close(): Promise<void>;
}

async function startRig(factory: LedgerFactory, campaign: Record<string, unknown> = {}): Promise<Rig & { another(): Promise<Ledger> }> {
  const clock = fixedClock(T0);
  const made = await factory();
  const ledger = made.ledger;
  const sandbox = await startApiSandbox({ clock });
  const kv = new MemoryKeyValueStore(clock);
  const tokens = createTokenProvider({ ...sandbox.credentials, baseUrl: sandbox.url, store: kv, clock });
  const api = createApiClient({ baseUrl: sandbox.url, tokens, store: kv, clock, timeoutMs: 2000 });
  const member: Member = { cardId: CARD_ID, code: CODE, openId: 'oUser1', initialBonus: 10, activatedAt: T0, membershipNumber: '1', fields: {}, initialBalance: 0 };
  sandbox.members.add({ cardId: CARD_ID, code: CODE, openId: 'oUser1', bonus: 10 });
  const members = {
    findByCode: async (cardId: string, code: string) => (cardId === CARD_ID && code === CODE ? member : undefined),
    findByOpenId: async (openId: string) => (openId === member.openId ? [member] : []),
  };
  const campaigns = campaignsFileSchema.parse({
    campaigns: { 'follow-points': { kind: 'points', card: 'gold', points: 100, per_user: 50, record_bonus: '关注送积分', ...campaign } },
  });
  const config: RewardsConfig = { campaigns: campaigns.campaigns, limits: defaultLimits() };
  const rewards = createRewards({ ledger, config: () => config, clock, mchId: MCH_ID, log: silentLogger(), kinds: REWARD_KINDS });
  const refuse = () => Promise.reject(new Error('no red packets here'));
  const counters = new MemoryCounterStore(clock);
  const worker = (owner: string, l: Ledger = ledger) =>
    createOutboxWorker({
      ledger: l,
      redpack: { send: refuse, query: refuse },
      counters,
      clock,
      log: silentLogger(),
      config: () => config,
      ratePerSecond: Infinity,
      owner,
      // Several sends of one pass at once, and each worker takes a share: the grants of one member race.
      concurrency: 4,
      batchSize: 3,
      senders: {
        points: createPointsSender({
          ledger: l,
          members,
          cardIdOf: async (n) => (n === 'gold' ? CARD_ID : undefined),
          bonusApi: memberCardBonusApi(api.card),
          locks: kv,
          clock,
          log: silentLogger(),
        }),
      },
    });
  return {
    clock,
    sandbox,
    ledger,
    rewards,
    worker,
    members,
    another: made.another,
    grant: (i) => rewards.grant({ campaign: 'follow-points', openId: 'oUser1', dedupeKey: `evt:${i}`, ruleId: '#welcome', now: clock.now() }),
    close: async () => {
      await sandbox.close();
      await made.close();
    },
  };
}

/** Runs the workers' passes (advancing the clock past every retry) until nothing is open. */
async function drain(rig: Rig, workers: ReturnType<typeof createOutboxWorker>[], maxPasses = 60): Promise<void> {
  for (let i = 0; i < maxPasses; i++) {
    if ((await rig.ledger.openCount()) === 0) return;
    await Promise.all(workers.map((w) => w.runOnce()));
    rig.clock.advance(61_000);
  }
  throw new Error(`still open after ${maxPasses} passes: ${JSON.stringify((await rig.ledger.listAll()).map((g) => [g.id, g.status, g.lastError]))}`);
}

const FACTORIES: [string, LedgerFactory][] = [
  ['memory', memoryLedgerFactory],
  ['sqlite', sqliteLedgerFactory],
  ['postgres', pgLedgerFactory],
];

afterAll(async () => {
  await dropSharedPg();
});

describe.each(FACTORIES)('member-card points on the %s ledger', (_name, factory) => {
  let rig: Awaited<ReturnType<typeof startRig>>;
  afterEach(async () => {
    await rig.close();
  });

  it('should record a points grant without money and set the absolute total on WeChat', async () => {
    rig = await startRig(factory);
    expect(await rig.grant(1)).toMatchObject({ outcome: 'granted', status: 'PENDING' });
    expect(await rig.grant(2)).toMatchObject({ outcome: 'granted' });
    const rows = await rig.ledger.listAll();
    expect(rows.map((g) => [g.kind, g.amountFen, g.payload.points, g.billNo?.startsWith('PNTS')])).toEqual([
      ['points', 0, 100, true],
      ['points', 0, 100, true],
    ]);
    await drain(rig, [rig.worker('w1')]);
    expect((await rig.ledger.listAll()).map((g) => g.status)).toEqual(['SENT', 'SENT']);
    const m = rig.sandbox.members.get(CODE)!;
    expect(m.bonus).toBe(210);
    expect((m.bonusRecords ?? []).map((r) => [r.change, r.record])).toEqual([
      [100, '关注送积分'],
      [100, '关注送积分'],
    ]);
    // Every call set the total: none used add_bonus.
    expect(pointsTotal(10, await rig.ledger.listAll())).toBe(210);
    // The ledger's money summary has no money in it.
    expect((await rig.ledger.summary()).reduce((s, r) => s + r.amountFen, 0)).toBe(0);
  });

  it('should add the points once when the answer is lost after WeChat applied them', async () => {
    rig = await startRig(factory);
    await rig.grant(1);
    rig.sandbox.faults.failNext('lost', { path: UPDATE, count: 2 });
    await drain(rig, [rig.worker('w1')]);
    const m = rig.sandbox.members.get(CODE)!;
    expect(m.bonus).toBe(110);
    // Applied once (the lost answer), then found by userinfo/get: never applied again.
    expect(m.bonusRecords ?? []).toHaveLength(1);
    expect((await rig.ledger.listAll()).map((g) => g.status)).toEqual(['SENT']);
    expect(rig.sandbox.calls.filter((c) => c.path === UPDATE).length).toBeLessThanOrEqual(2);
    expect(rig.sandbox.calls.some((c) => c.path === '/card/membercard/userinfo/get')).toBe(true);
  });

  it('should give every grant exactly once with two workers racing under lost answers and resets', async () => {
    rig = await startRig(factory);
    for (let i = 1; i <= 6; i++) await rig.grant(i);
    rig.sandbox.faults.failNext('lost', { path: UPDATE, count: 3 });
    rig.sandbox.faults.set({ resetRate: 0.25, seed: 7, paths: [UPDATE, '/card/membercard/userinfo/get'] });
    const second = await rig.another();
    await drain(rig, [rig.worker('w1'), rig.worker('w2', second)], 120);
    const m = rig.sandbox.members.get(CODE)!;
    expect(m.bonus).toBe(10 + 6 * 100);
    expect((await rig.ledger.listAll()).every((g) => g.status === 'SENT')).toBe(true);
    // Every write set the total one grant higher: none was lost to a concurrent write, none repeated.
    expect((m.bonusRecords ?? []).map((r) => r.change)).toEqual([100, 100, 100, 100, 100, 100]);
  });

  it('should refuse a points grant over the per_user limit of its campaign', async () => {
    rig = await startRig(factory, { per_user: 1 });
    await rig.grant(1);
    expect(await rig.grant(2)).toMatchObject({ outcome: 'already_claimed' });
  });

  it("should change a member's points as an operator through the ledger, a dry run applying the same checks", async () => {
    rig = await startRig(factory);
    await rig.grant(1);
    await drain(rig, [rig.worker('w1')]);
    const deps = { ledger: rig.ledger, members: rig.members, cardIdOf: async (n: string) => (n === 'gold' ? CARD_ID : undefined) };
    const base = { cardName: 'gold', code: CODE, by: 'alice', reason: 'goodwill', now: rig.clock.now() };
    for (const dryRun of [true, false]) {
      expect(await changeMemberPoints(deps, { ...base, mode: 'set', n: 500, reason: ' ', dryRun })).toMatchObject({
        ok: false,
        message: expect.stringContaining('reason'),
      });
      expect(await changeMemberPoints(deps, { ...base, mode: 'add', n: -111, dryRun })).toMatchObject({ ok: false, message: expect.stringContaining('below 0') });
      expect(await changeMemberPoints(deps, { ...base, code: '999', mode: 'add', n: 5, dryRun })).toMatchObject({
        ok: false,
        message: expect.stringContaining('no member'),
      });
    }
    expect(await changeMemberPoints(deps, { ...base, mode: 'set', n: 500, dryRun: true })).toMatchObject({ ok: true, recorded: false, before: 110, after: 500 });
    expect(await rig.ledger.listAll()).toHaveLength(1);
    const set = await changeMemberPoints(deps, { ...base, mode: 'set', n: 500, dryRun: false });
    expect(set).toMatchObject({ ok: true, recorded: true, before: 110, after: 500 });
    await rig.grant(2);
    await drain(rig, [rig.worker('w1')]);
    const m = rig.sandbox.members.get(CODE)!;
    expect(m.bonus).toBe(600);
    expect((m.bonusRecords ?? []).map((r) => [r.bonus, r.record])).toEqual([
      [110, '关注送积分'],
      [500, 'goodwill'],
      [600, '关注送积分'],
    ]);
    const history = pointsHistory(await memberPointsGrants(rig.ledger, 'gold', 'oUser1'));
    expect(history.map((h) => [h.status, h.change, h.source])).toEqual([
      ['SENT', '+100', 'follow-points (#welcome)'],
      ['SENT', '= 500', 'alice: goodwill'],
      ['SENT', '+100', 'follow-points (#welcome)'],
    ]);
  });
});

describe('the sandbox membercard/updateuser', () => {
  it('should refuse an unknown code, a bad bonus and bonus with add_bonus together', async () => {
    const sandbox = await startApiSandbox({ clock: fixedClock(T0) });
    try {
      const kv = new MemoryKeyValueStore(fixedClock(T0));
      const tokens = createTokenProvider({ ...sandbox.credentials, baseUrl: sandbox.url, store: kv, clock: fixedClock(T0) });
      const api = createApiClient({ baseUrl: sandbox.url, tokens, store: kv, clock: fixedClock(T0), timeoutMs: 2000 });
      sandbox.members.add({ cardId: CARD_ID, code: CODE, openId: 'oUser1', bonus: 5 });
      const bonus = memberCardBonusApi(api.card);
      await expect(bonus.setBonus({ cardId: CARD_ID, code: '999', bonus: 1 })).rejects.toMatchObject({ errcode: 40056 });
      await expect(api.card.post('membercard/updateuser', { card_id: CARD_ID, code: CODE, bonus: -1 })).rejects.toMatchObject({ errcode: 47001 });
      await expect(api.card.post('membercard/updateuser', { card_id: CARD_ID, code: CODE, bonus: 1, add_bonus: 1 })).rejects.toMatchObject({ errcode: 47001 });
      await expect(api.card.post('membercard/updateuser', { card_id: CARD_ID, code: CODE, add_bonus: -6 })).rejects.toMatchObject({ errcode: 40121 });
      expect(await bonus.setBonus({ cardId: CARD_ID, code: CODE, bonus: 42, recordBonus: 'x' })).toMatchObject({ resultBonus: 42, openId: 'oUser1' });
      expect(await bonus.userInfo(CARD_ID, CODE)).toMatchObject({ bonus: 42, openId: 'oUser1', hasActive: true });
    } finally {
      await sandbox.close();
    }
  });
});
