/**
 * Issue 14: coupon grants never consume red-packet bill numbers. A card grant takes a reference from
 * its own per-day sequence (`CARD + yyyymmdd + tag + seq`), so the day's first red packet is still
 * sequence 1 — on every ledger adapter.
 */
import { fixedClock } from '../../src/lib/clock';
import { silentLogger } from '../../src/lib/logger';
import { isBillNo } from '../../src/rewards/bill-no';
import { createRewards } from '../../src/rewards/rewards';
import { REWARD_KINDS } from '../../src/config/reward-kinds';
import { describeService } from '../store/service-probe';
import {
  DATABASE_URL,
  dropSharedPg,
  makeConfig,
  MCH_ID,
  memoryLedgerFactory,
  pgLedgerFactory,
  redCampaign,
  sqliteLedgerFactory,
  T0,
  type LedgerFactory,
} from './helpers';

const config = makeConfig({ welcome: redCampaign(), coupon: { kind: 'card', card: 'coffee-cash', max_cards: 5 } });
const req = (campaign: string, i: number) => ({ campaign, openId: `oUser${i}`, dedupeKey: `evt:${campaign}:${i}`, ruleId: 'r', now: T0 });

function run(name: string, factory: LedgerFactory): void {
  describe(`${name}: card grant references`, () => {
    it('should leave the red-packet sequence alone: coupons first, then the day’s first red packet is sequence 1', async () => {
      const { ledger, close } = await factory();
      try {
        const rewards = createRewards({ ledger, config: () => config, clock: fixedClock(T0), mchId: MCH_ID, log: silentLogger(), kinds: REWARD_KINDS });
        const c1 = await rewards.grant(req('coupon', 1));
        const c2 = await rewards.grant(req('coupon', 2));
        const red = await rewards.grant(req('welcome', 3));
        expect([c1.outcome, c2.outcome, red.outcome]).toEqual(['granted', 'granted', 'granted']);
        expect(red.billNo).toBe(`${MCH_ID}20260302${ledger.billTag}0000001`);
        expect(c1.billNo).toBe(`CARD20260302${ledger.billTag}${'1'.padStart(13, '0')}`);
        expect(c2.billNo).toBe(`CARD20260302${ledger.billTag}${'2'.padStart(13, '0')}`);
        for (const ref of [c1.billNo!, c2.billNo!]) expect(isBillNo(ref)).toBe(false);
        // The reference finds its grant like a bill number does (CLI `redpack status`, reports).
        expect((await ledger.findByBillNo(c1.billNo!))?.campaign).toBe('coupon');
        // A retry of the coupon's message answers with the same reference and takes no new number.
        expect((await rewards.grant(req('coupon', 1))).billNo).toBe(c1.billNo);
        expect((await rewards.grant(req('welcome', 4))).billNo).toBe(`${MCH_ID}20260302${ledger.billTag}0000002`);
      } finally {
        await close();
      }
    });
  });
}

run('createMemoryLedger', memoryLedgerFactory);
run('SqliteLedger', sqliteLedgerFactory);
describeService('PostgresLedger', [[DATABASE_URL, 5432]], () => {
  afterAll(dropSharedPg);
  run('PostgresLedger', pgLedgerFactory);
});
