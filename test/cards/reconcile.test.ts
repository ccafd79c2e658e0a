/**
 * Issue 14: coupon grants reconcile through card data. A SENT card grant whose `user_get_card` never
 * reached the bot is settled RECEIVED from `card/user/getcardlist`; one the follower does not hold
 * stays SENT; red-packet reconciliation never looks at card grants.
 */
import { startCardRig, type CardRig } from './helpers';

describe('cards.reconcile', () => {
  let rig: CardRig;
  afterEach(async () => {
    await rig?.close();
  });

  async function sentTo(openIds: string[]): Promise<{ cardId: string; grantIds: number[] }> {
    await rig.cards.sync();
    const sub = await rig.cards.submerchants.submit('corner-cafe');
    await rig.sandbox.cards.approveMerchant(sub.merchantId!);
    await rig.handled.at(-1)!.followUp;
    const cardId = (await rig.cards.registry.getCard('cafe-gift')).cardId!;
    await rig.sandbox.cards.approveCard(cardId);
    for (const [i, o] of openIds.entries()) {
      rig.sandbox.touch(o);
      await rig.rewards.grant({ campaign: 'welcome-coupon', openId: o, dedupeKey: `k${i}`, ruleId: 'r1', now: rig.clock.now() });
    }
    await rig.worker.runOnce();
    const grants = await rig.ledger.listAll({ campaign: 'welcome-coupon' });
    expect(grants.map((g) => g.status)).toEqual(openIds.map(() => 'SENT'));
    return { cardId, grantIds: grants.map((g) => g.id) };
  }

  it('should settle RECEIVED a sent card the follower holds though its user_get_card was lost, and leave the others SENT', async () => {
    rig = await startCardRig();
    const { cardId, grantIds } = await sentTo(['o_a', 'o_b']);
    rig.sandbox.cards.setWebhook(undefined); // the bot is unreachable: the receipt event is lost
    const code = await rig.sandbox.cards.claim('o_a', cardId);
    expect(await rig.cards.tracker.getCode(cardId, code)).toBeUndefined();

    const report = await rig.cards.reconcile();
    expect(report).toEqual({ checked: 2, received: 1, unchanged: 1, errors: 0 });
    expect((await rig.ledger.getGrant(grantIds[0]!))!.status).toBe('RECEIVED');
    expect((await rig.ledger.getGrant(grantIds[1]!))!.status).toBe('SENT');
    expect((await rig.cards.tracker.getCode(cardId, code))!.grantId).toBe(grantIds[0]);
    expect(rig.sandbox.calls.filter((c) => c.path === '/card/user/getcardlist')).toHaveLength(2);

    // A second run asks again only about the grant still SENT, and changes nothing.
    expect(await rig.cards.reconcile()).toEqual({ checked: 1, received: 0, unchanged: 1, errors: 0 });
  });

  it('should count a failing card list as an error and change nothing', async () => {
    rig = await startCardRig();
    const { grantIds } = await sentTo(['o_c']);
    rig.sandbox.faults.failNext('http5xx', { path: '/card/user/getcardlist', count: 3 });
    expect(await rig.cards.reconcile()).toEqual({ checked: 1, received: 0, unchanged: 0, errors: 1 });
    expect((await rig.ledger.getGrant(grantIds[0]!))!.status).toBe('SENT');
  });
});
