import { startCardRig, T0, type CardRig } from './helpers';

const FOLLOWER = 'oFollowerCard0001';

async function followGrant(rig: CardRig, openId: string, campaign = 'welcome-coupon', key = `evt:${openId}|subscribe`) {
  rig.sandbox.touch(openId);
  return rig.rewards.grant({ campaign, openId, dedupeKey: key, ruleId: 'follow', now: rig.clock.now() });
}

/** Syncs, submits and approves the sub-merchant, syncs again and approves both cards. */
async function readyCards(rig: CardRig): Promise<{ giftId: string; cashId: string }> {
  await rig.cards.sync();
  const sub = await rig.cards.submerchants.submit('corner-cafe');
  await rig.sandbox.cards.approveMerchant(sub.merchantId!);
  const second = await rig.cards.sync();
  const giftId = second.find((r) => r.name === 'cafe-gift')!.cardId!;
  const cashId = second.find((r) => r.name === 'coffee-cash')!.cardId!;
  await rig.sandbox.cards.approveCard(giftId);
  await rig.sandbox.cards.approveCard(cashId);
  return { giftId, cashId };
}

describe('cards: the full loop', () => {
  let rig: CardRig;
  afterEach(async () => {
    await rig?.close();
  });

  it('should sync, wait for the sub-merchant, grant and send once, follow receipt and redemption, and report it', async () => {
    rig = await startCardRig();

    // 1. First sync: the plain card is created; the sub-merchant's card says exactly why it waits.
    const first = await rig.cards.sync();
    expect(first.find((r) => r.name === 'coffee-cash')).toMatchObject({ action: 'created', status: 'CARD_STATUS_NOT_VERIFY' });
    expect(first.find((r) => r.name === 'cafe-gift')).toMatchObject({
      action: 'waiting',
      message: expect.stringContaining('not submitted yet — run "submerchant submit corner-cafe"'),
    });

    // 2. Submit the sub-merchant: still waiting, now for the review.
    const sub = await rig.cards.submerchants.submit('corner-cafe');
    expect(sub).toMatchObject({ status: 'CHECKING', merchantId: expect.any(Number) });
    const waiting = await rig.cards.sync({ only: ['cafe-gift'] });
    expect(waiting[0]!.message).toContain('WeChat is still reviewing it');
    await expect(rig.cards.submerchants.status('corner-cafe')).resolves.toEqual([expect.objectContaining({ status: 'CHECKING' })]);

    // 3. WeChat approves it: the event reaches the webhook and the registry records it.
    await rig.sandbox.cards.approveMerchant(sub.merchantId!);
    expect(rig.handled.at(-1)).toMatchObject({ handled: true, note: 'sub-merchant corner-cafe approved' });
    expect((await rig.cards.registry.getSubMerchant('corner-cafe')).status).toBe('APPROVED');

    // 4. The approval itself creates its waiting card (after the webhook answered), with the merchant
    // id; a later `cards sync` finds it made; review events update the status.
    const [made] = (await rig.handled.at(-1)!.followUp)!;
    expect(made).toMatchObject({ name: 'cafe-gift', action: 'created' });
    const second = await rig.cards.sync();
    const gift = second.find((r) => r.name === 'cafe-gift')!;
    expect(gift).toMatchObject({ action: 'unchanged', cardId: made!.cardId });
    expect([...rig.sandbox.cards.cards.values()].filter((c) => c.merchantId === sub.merchantId)).toHaveLength(1);
    expect(rig.sandbox.cards.cards.get(gift.cardId!)!.merchantId).toBe(sub.merchantId);
    const body = rig.sandbox.cards.cards.get(gift.cardId!)!.card as { gift: { base_info: Record<string, unknown> } };
    expect(body.gift.base_info.sub_merchant_info).toEqual({ merchant_id: sub.merchantId });
    expect(second.find((r) => r.name === 'coffee-cash')).toMatchObject({ action: 'unchanged', message: 'up to date; in review' });
    await rig.sandbox.cards.approveCard(gift.cardId!);
    expect((await rig.cards.registry.getCard('cafe-gift')).status).toBe('CARD_STATUS_VERIFY_OK');

    // 5. Follow → granted once (WeChat's retries answer the same), sent once by the outbox.
    const granted = await followGrant(rig, FOLLOWER);
    expect(granted).toMatchObject({ outcome: 'granted', status: 'PENDING' });
    await expect(followGrant(rig, FOLLOWER)).resolves.toMatchObject({ outcome: 'granted', duplicate: true });
    expect(await rig.worker.runOnce()).toMatchObject({ processed: 1, sent: 1 });
    expect(await rig.worker.runOnce()).toMatchObject({ processed: 0 });
    const sent = rig.sandbox.sent.get(FOLLOWER)!;
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ msgtype: 'wxcard', body: { wxcard: { card_id: gift.cardId } } });
    const [grant] = await rig.ledger.listAll({ campaign: 'welcome-coupon' });
    expect(grant).toMatchObject({ kind: 'card', status: 'SENT' });

    // 6. The follower adds the card: user_get_card → the grant is RECEIVED with its code.
    const code = await rig.sandbox.cards.claim(FOLLOWER, gift.cardId!);
    expect((await rig.ledger.getGrant(grant!.id))!.status).toBe('RECEIVED');
    expect(await rig.cards.tracker.grantLink(grant!.id)).toMatchObject({ code, cardId: gift.cardId });

    // 7. Staff redeem it: code/get checks, code/consume, user_consume_card → redeemed.
    await expect(rig.cards.consume(code, { card: 'cafe-gift' })).resolves.toMatchObject({ ok: true, cardName: 'cafe-gift', openId: FOLLOWER });
    expect(await rig.cards.tracker.getCode(gift.cardId!, code)).toMatchObject({ consume: { source: 'FROM_API' }, grantId: grant!.id });

    // 8. The report agrees with the ledger and with WeChat's statistics.
    const report = await rig.cards.report({ beginDate: '2026-03-01', endDate: '2026-03-31' });
    expect(report.find((r) => r.name === 'cafe-gift')).toMatchObject({
      status: 'CARD_STATUS_VERIFY_OK',
      issued: 1,
      received: 1,
      redeemed: 1,
      deleted: 0,
      pending: 0,
      failed: 0,
      wechat: { receive: 1, verify: 1, given: 0 },
    });
    expect(rig.refused).toBe(0);
  });

  it('should refuse a second card per follower and stop at the campaign total', async () => {
    rig = await startCardRig();
    await readyCards(rig);
    await expect(followGrant(rig, 'o_a')).resolves.toMatchObject({ outcome: 'granted' });
    await expect(followGrant(rig, 'o_a', 'welcome-coupon', 'evt:o_a|CLICK|again')).resolves.toMatchObject({ outcome: 'already_claimed' });
    await expect(followGrant(rig, 'o_b')).resolves.toMatchObject({ outcome: 'granted' });
    await expect(followGrant(rig, 'o_c')).resolves.toMatchObject({ outcome: 'campaign_over' });
  });

  it('should deliver a QR code carrying the grant outer_str and match the receipt back by it', async () => {
    rig = await startCardRig();
    const { giftId } = await readyCards(rig);
    await followGrant(rig, 'o_qr', 'scan-coupon');
    expect(await rig.worker.runOnce()).toMatchObject({ sent: 1 });
    const [grant] = await rig.ledger.listAll({ campaign: 'scan-coupon' });
    const link = (await rig.cards.tracker.grantLink(grant!.id))!.link!;
    expect(link).toMatchObject({ kind: 'qrcode', url: expect.stringContaining('showqrcode') });
    expect(rig.sandbox.sent.get('o_qr')![0]).toMatchObject({ msgtype: 'news' });
    const code = await rig.sandbox.cards.scanQrCode('o_qr', link.ticket!);
    expect(rig.sandbox.cards.emitted.at(-1)!.fields.OuterStr).toBe(`g${grant!.id}`);
    expect((await rig.ledger.getGrant(grant!.id))!.status).toBe('RECEIVED');
    expect(await rig.cards.tracker.getCode(giftId, code)).toMatchObject({ grantId: grant!.id, outerStr: `g${grant!.id}` });
  });

  it('should not send twice when a send is lost, and confirm a lost send the follower already claimed', async () => {
    rig = await startCardRig();
    const { giftId } = await readyCards(rig);
    await followGrant(rig, 'o_lost');
    rig.sandbox.faults.failNext('reset', { path: '/cgi-bin/message/custom/send' });
    expect(await rig.worker.runOnce()).toMatchObject({ retried: 1, sent: 0 });
    const [g] = await rig.ledger.listAll({ campaign: 'welcome-coupon' });
    expect(g!.status).toBe('SENDING');
    rig.clock.advance(60_000);
    // Not received and get_limit (1) ≤ per_user (1): one resend is safe.
    expect(await rig.worker.runOnce()).toMatchObject({ sent: 1 });
    expect(rig.sandbox.sent.get('o_lost')).toHaveLength(1);

    // Second follower: the send is lost on the way back (we model it as delivered + claimed).
    await followGrant(rig, 'o_claimed');
    rig.sandbox.faults.failNext('reset', { path: '/cgi-bin/message/custom/send' });
    await rig.worker.runOnce();
    await rig.sandbox.cards.claim('o_claimed', giftId);
    rig.clock.advance(60_000);
    expect(await rig.worker.runOnce()).toMatchObject({ processed: 0 });
    const g2 = (await rig.ledger.listAll({ campaign: 'welcome-coupon' })).find((x) => x.openId === 'o_claimed')!;
    expect(g2.status).toBe('RECEIVED');
    expect(rig.sandbox.sent.get('o_claimed') ?? []).toHaveLength(0);
  });

  it('should give up rather than resend an uncertain send when get_limit does not bound duplicates', async () => {
    rig = await startCardRig((c) => {
      const gift = c.cards['cafe-gift']!;
      const { get_limit: _, ...baseInfo } = gift.baseInfo;
      return { ...c, cards: { ...c.cards, 'cafe-gift': { ...gift, baseInfo, getLimit: undefined } } };
    });
    await readyCards(rig);
    await followGrant(rig, 'o_unsure');
    rig.sandbox.faults.failNext('reset', { path: '/cgi-bin/message/custom/send' });
    await rig.worker.runOnce();
    rig.clock.advance(60_000);
    expect(await rig.worker.runOnce()).toMatchObject({ failed: 1 });
    const [g] = await rig.ledger.listAll({ campaign: 'welcome-coupon' });
    expect(g).toMatchObject({ status: 'FAILED', reason: expect.stringContaining('resending could give a second card') });
    expect(rig.sandbox.sent.get('o_unsure') ?? []).toHaveLength(0);
    expect(T0).toBeGreaterThan(0);
  });
});
