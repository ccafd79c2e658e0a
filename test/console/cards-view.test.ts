import { cardsView } from '../../src/console/cards-view';
import { startCardRig, type CardRig } from '../cards/helpers';

describe('cardsView', () => {
  let rig: CardRig;
  afterEach(async () => {
    await rig?.close();
  });

  it("should show each card's review state and report figures and each sub-merchant's review state, never a card code", async () => {
    rig = await startCardRig();
    await rig.cards.sync();
    const sub = await rig.cards.submerchants.submit('corner-cafe');
    await rig.sandbox.cards.approveMerchant(sub.merchantId!);
    await rig.cards.submerchants.status();
    const cardId = (await rig.cards.sync()).find((r) => r.name === 'cafe-gift')!.cardId!;
    await rig.sandbox.cards.approveCard(cardId);
    rig.sandbox.touch('o_f');
    await rig.rewards.grant({ campaign: 'welcome-coupon', openId: 'o_f', dedupeKey: 'k1', ruleId: 'r1', now: rig.clock.now() });
    await rig.worker.runOnce();
    const code = await rig.sandbox.cards.claim('o_f', cardId);

    const view = await cardsView({ cards: rig.cards, config: () => rig.config });
    expect(view.cards.find((c) => c.name === 'cafe-gift')).toMatchObject({
      cardId,
      subMerchant: 'corner-cafe',
      report: { issued: 1, received: 1, redeemed: 0, failed: 0 },
    });
    expect(view.submerchants).toEqual([expect.objectContaining({ name: 'corner-cafe', merchantId: sub.merchantId, status: 'APPROVED' })]);
    expect(JSON.stringify(view)).not.toContain(code);
  });
});
