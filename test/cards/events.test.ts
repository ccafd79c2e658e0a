import { cardEvent as ev, startCardRig, type CardRig } from './helpers';

describe('handleCardEvent', () => {
  let rig: CardRig;
  afterEach(async () => {
    await rig?.close();
  });

  async function grantedAndSent(): Promise<{ cardId: string; grantId: number }> {
    await rig.cards.sync();
    const sub = await rig.cards.submerchants.submit('corner-cafe');
    await rig.sandbox.cards.approveMerchant(sub.merchantId!);
    const cardId = (await rig.cards.sync()).find((r) => r.name === 'cafe-gift')!.cardId!;
    await rig.sandbox.cards.approveCard(cardId);
    rig.sandbox.touch('o_f');
    await rig.rewards.grant({ campaign: 'welcome-coupon', openId: 'o_f', dedupeKey: 'k1', ruleId: 'r1', now: rig.clock.now() });
    await rig.worker.runOnce();
    const [g] = await rig.ledger.listAll({ campaign: 'welcome-coupon' });
    return { cardId, grantId: g!.id };
  }

  it('should apply a redelivered event once', async () => {
    rig = await startCardRig();
    const { cardId, grantId } = await grantedAndSent();
    const code = await rig.sandbox.cards.claim('o_f', cardId);
    const getEvent = rig.sandbox.cards.emitted.at(-1)!;
    await rig.sandbox.cards.redeliver(getEvent);
    await rig.sandbox.cards.redeliver(getEvent);
    expect(rig.handled.slice(-2).every((h) => h.duplicate === true)).toBe(true);
    const rec = await rig.cards.tracker.getCode(cardId, code);
    expect(rec!.seen).toHaveLength(1);
    expect((await rig.ledger.getGrant(grantId))!.status).toBe('RECEIVED');
    const report = await rig.cards.report();
    expect(report.find((r) => r.name === 'cafe-gift')).toMatchObject({ issued: 1, received: 1, redeemed: 0 });
  });

  it('should reach the same state whatever order the events come in', async () => {
    rig = await startCardRig();
    const { cardId, grantId } = await grantedAndSent();
    const code = '123456789012';
    const consume = ev('o_f', 1772420000, {
      Event: 'user_consume_card',
      CardId: cardId,
      UserCardCode: code,
      ConsumeSource: 'FROM_MOBILE_HELPER',
      StaffOpenId: 'o_staff',
      LocationName: '南京路店',
    });
    const del = ev('o_f', 1772420100, { Event: 'user_del_card', CardId: cardId, UserCardCode: code });
    const get = ev('o_f', 1772410000, { Event: 'user_get_card', CardId: cardId, UserCardCode: code, IsGiveByFriend: '0' });
    // Out of order: consumed, deleted, then the receipt; then all three again.
    for (const e of [consume, del, get, get, consume, del]) await rig.cards.handleEvent(e);
    const rec = (await rig.cards.tracker.getCode(cardId, code))!;
    expect(rec).toMatchObject({
      grantId,
      receivedAt: 1772410000,
      consumedAt: 1772420000,
      deletedAt: 1772420100,
      consume: { source: 'FROM_MOBILE_HELPER', staff: 'o_staff', location: '南京路店' },
    });
    expect(rec.seen).toHaveLength(3);
    expect((await rig.ledger.getGrant(grantId))!.status).toBe('RECEIVED');
    expect((await rig.cards.report()).find((r) => r.name === 'cafe-gift')).toMatchObject({ issued: 1, received: 1, redeemed: 1, deleted: 1 });
  });

  it('should follow a gift to the friend and record card review results with the reason', async () => {
    rig = await startCardRig();
    const { cardId } = await grantedAndSent();
    const code = await rig.sandbox.cards.claim('o_f', cardId);
    const friendCode = await rig.sandbox.cards.gift(code, 'o_friend');
    expect(await rig.cards.tracker.getCode(cardId, friendCode)).toMatchObject({ openId: 'o_friend', gift: { friend: 'o_f', oldCode: code } });
    expect(await rig.cards.tracker.getCode(cardId, code)).toMatchObject({ giftedTo: 'o_friend' });
    await rig.cards.consume(friendCode);
    expect((await rig.cards.report()).find((r) => r.name === 'cafe-gift')).toMatchObject({ received: 1, gifted: 1, redeemed: 1 });

    const cashId = (await rig.cards.registry.getCard('coffee-cash')).cardId!;
    await rig.sandbox.cards.rejectCard(cashId, '券面信息不清晰');
    expect(await rig.cards.registry.getCard('coffee-cash')).toMatchObject({ status: 'CARD_STATUS_VERIFY_FAIL', refuseReason: '券面信息不清晰' });
    expect((await rig.cards.sync({ only: ['coffee-cash'] }))[0]!.message).toContain('rejected: 券面信息不清晰');
  });

  it('should record a sub-merchant rejection and make its card wait with the reason', async () => {
    rig = await startCardRig();
    const sub = await rig.cards.submerchants.submit('corner-cafe');
    await rig.sandbox.cards.rejectMerchant(sub.merchantId!, '授权函不清晰');
    expect(await rig.cards.registry.getSubMerchant('corner-cafe')).toMatchObject({ status: 'REJECTED', reason: '授权函不清晰' });
    const [r] = await rig.cards.sync({ only: ['cafe-gift'] });
    expect(r).toMatchObject({
      action: 'waiting',
      message: expect.stringContaining('WeChat rejected it: 授权函不清晰 — fix submerchants.yaml, then "submerchant update corner-cafe"'),
    });
    await rig.cards.submerchants.update('corner-cafe');
    expect((await rig.cards.submerchants.status())[0]).toMatchObject({ status: 'CHECKING' });
  });
});
