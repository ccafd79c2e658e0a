/**
 * Issue 15 item 3: reward kinds are equals in a registry. A toy kind ("stamps"; the real member-card points kind of issue 17
 * is src/cards/points-reward-kind.ts) is granted by `createRewards` and sent by the outbox worker with nothing but its own
 * `RewardKind` and `GrantSender` — rewards.ts and outbox-worker.ts know no kind by name.
 */
import { z } from 'zod';
import { REWARD_KINDS } from '../../src/config/reward-kinds';
import { fixedClock } from '../../src/lib/clock';
import { silentLogger } from '../../src/lib/logger';
import { campaignsFileSchemaFor, defaultLimits, redPacketCampaignSchema, type RewardsConfig } from '../../src/rewards/config-schema';
import type { LedgerGrant } from '../../src/rewards/ledger';
import { createOutboxWorker } from '../../src/rewards/outbox-worker';
import { kindsByName, type GrantSender, type KindCampaign, type RewardKind } from '../../src/rewards/reward-kind';
import { createRewards } from '../../src/rewards/rewards';
import { MemoryCounterStore } from '../../src/store/memory';
import { createMemoryLedger } from '../../src/store/memory-ledger';
import { withLedgerRules } from '../../src/rewards/ledger-plans';
import { MCH_ID, T0 } from './helpers';
import { ledgerTagRules } from '../../src/rewards/bill-no';

interface StampsCampaign extends KindCampaign {
  kind: 'stamps';
  points: number;
  perUser: number;
}

const stampsSchema = z
  .object({ kind: z.literal('stamps'), points: z.number().int().min(1), per_user: z.number().int().min(1).default(1), enabled: z.boolean().default(true) })
  .strict()
  .transform((c) => ({ kind: 'stamps' as const, points: c.points, perUser: c.per_user, enabled: c.enabled, requireSafeMode: false, replies: {} }));

const stampsKind: RewardKind<StampsCampaign> = {
  kind: 'stamps',
  campaignSchema: stampsSchema as unknown as RewardKind<StampsCampaign>['campaignSchema'],
  plan: ({ campaign, openId, now }) => ({
    billNoPrefix: `PNTS${new Date(now).toISOString().slice(0, 10).replace(/-/g, '')}`,
    amountFen: 0,
    payload: { points: campaign.points, openId },
    dueAt: now,
    deferred: false,
    reservations: [
      {
        kind: 'per_user',
        key: `per-user:${campaign.name}:${openId}`,
        count: 1,
        amountFen: 0,
        maxCount: campaign.perUser,
        maxAmountFen: null,
        outcome: 'already_claimed',
        reason: `the follower already has points from ${campaign.name}`,
      },
    ],
    ...(campaign.enabled ? {} : { refusal: { outcome: 'campaign_over' as const, reason: 'switched off' } }),
  }),
};

const schema = campaignsFileSchemaFor([redPacketCampaignSchema, stampsSchema]);

function configOf(campaigns: Record<string, unknown>): RewardsConfig {
  return { campaigns: schema.parse({ campaigns }).campaigns, limits: defaultLimits() };
}

const req = (i: number) => ({ campaign: 'bonus', openId: `oUser${i}`, dedupeKey: `evt:${i}`, ruleId: 'r', now: T0 });

describe('reward-kind registry', () => {
  it('should parse a campaign of a registered kind and refuse a kind no schema lists', () => {
    expect(configOf({ bonus: { kind: 'stamps', points: 50 } }).campaigns.bonus).toMatchObject({ kind: 'stamps', name: 'bonus', points: 50, perUser: 1 });
    expect(schema.safeParse({ campaigns: { x: { kind: 'card', card: 'c', max_cards: 1 } } }).success).toBe(false);
  });

  it('should grant a third kind through its own plan, with the ledger enforcing its reservations', async () => {
    const ledger = withLedgerRules(createMemoryLedger({ tags: ledgerTagRules() }));
    const config = configOf({ bonus: { kind: 'stamps', points: 50 } });
    const rewards = createRewards({ ledger, config: () => config, clock: fixedClock(T0), mchId: MCH_ID, log: silentLogger(), kinds: [...REWARD_KINDS, stampsKind] });
    const first = await rewards.grant(req(1));
    expect(first).toMatchObject({ outcome: 'granted', status: 'PENDING' });
    expect(first.billNo).toMatch(/^PNTS20260302/);
    // Same follower, another message: the kind's per-user reservation refuses it.
    expect(await rewards.grant({ ...req(1), dedupeKey: 'evt:1b' })).toMatchObject({ outcome: 'already_claimed' });
    const rows = await ledger.listAll();
    expect(rows.map((g) => [g.kind, g.status, g.payload.points])).toEqual([
      ['stamps', 'PENDING', 50],
      ['stamps', 'REFUSED', 50],
    ]);
  });

  it('should refuse a campaign whose kind is not registered, recording why', async () => {
    const ledger = withLedgerRules(createMemoryLedger({ tags: ledgerTagRules() }));
    const config = configOf({ bonus: { kind: 'stamps', points: 50 } });
    const rewards = createRewards({ ledger, config: () => config, clock: fixedClock(T0), mchId: MCH_ID, log: silentLogger(), kinds: REWARD_KINDS });
    expect(await rewards.grant(req(1))).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('kind stamps') });
  });

  it('should send a third kind through its registered sender, and leave it waiting without one', async () => {
    const ledger = withLedgerRules(createMemoryLedger({ tags: ledgerTagRules() }));
    const clock = fixedClock(T0);
    const config = configOf({ bonus: { kind: 'stamps', points: 50 } });
    const rewards = createRewards({ ledger, config: () => config, clock, mchId: MCH_ID, log: silentLogger(), kinds: [stampsKind] });
    await rewards.grant(req(1));
    await rewards.grant(req(2));
    const refuse = () => Promise.reject(new Error('no red packets here'));
    const base = {
      ledger,
      redpack: { send: refuse, query: refuse },
      counters: new MemoryCounterStore(clock),
      clock,
      log: silentLogger(),
      config: () => config,
      ratePerSecond: Infinity,
    };

    const idle = createOutboxWorker(base);
    expect(await idle.runOnce()).toMatchObject({ processed: 2, retried: 2, sent: 0 });
    expect((await ledger.listAll()).map((g) => [g.status, g.lastError])).toEqual([
      ['PENDING', 'no sender for stamps grants'],
      ['PENDING', 'no sender for stamps grants'],
    ]);

    const credited: LedgerGrant[] = [];
    const sendPoints: GrantSender = async (g) => {
      credited.push(g);
      await ledger.settle(g.id, { status: 'SENT', now: clock.now() });
      return 'sent';
    };
    clock.advance(60_000);
    const worker = createOutboxWorker({ ...base, senders: { stamps: sendPoints } });
    expect(await worker.runOnce()).toMatchObject({ processed: 2, sent: 2 });
    expect(credited.map((g) => g.openId).sort()).toEqual(['oUser1', 'oUser2']);
    expect((await ledger.listAll()).map((g) => g.status)).toEqual(['SENT', 'SENT']);
  });

  it('should refuse a registry entry without a kind name or plan', () => {
    expect(() => kindsByName([{ kind: 'x' } as never])).toThrow(/plan/);
  });
});
