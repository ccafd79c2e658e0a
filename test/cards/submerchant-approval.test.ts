/**
 * Issue 14: a sub-merchant's approval event (`card_merchant_check_result`, IsPass 1) creates the cards
 * waiting for it — after the webhook answered, once, however often the event arrives; a rejection is
 * logged at warn with WeChat's reason and shown by `cards list`.
 */
import { captureLog } from '../helpers/capture-log';
import { startCardRig, type CardRig } from './helpers';

describe('card_merchant_check_result', () => {
  let rig: CardRig;
  afterEach(async () => {
    await rig?.close();
  });

  async function submitted(): Promise<number> {
    await rig.cards.sync(); // the plain card is made; cafe-gift waits for corner-cafe
    const sub = await rig.cards.submerchants.submit('corner-cafe');
    expect((await rig.cards.registry.getCard('cafe-gift')).cardId).toBeUndefined();
    return sub.merchantId!;
  }

  it('should create the waiting card with the merchant id once, with the event redelivered and a cards sync at the same time', async () => {
    rig = await startCardRig();
    const merchantId = await submitted();
    // card/create answers slowly, so every contender finds the card missing while the first creates it.
    rig.sandbox.faults.set({ latencyMs: 150, paths: ['/card/create'] });
    const approval = await rig.sandbox.cards.approveMerchant(merchantId);
    // Two more deliveries (WeChat's retry, or two instances) and an operator's sync, all at once.
    const [sync] = await Promise.all([rig.cards.sync(), rig.sandbox.cards.redeliver(approval), rig.sandbox.cards.redeliver(approval)]);
    const followUps = await Promise.all(rig.handled.slice(-3).map((h) => h.followUp));
    const made = [...rig.sandbox.cards.cards.values()].filter((c) => c.merchantId === merchantId);
    expect(made).toHaveLength(1);
    const rec = await rig.cards.registry.getCard('cafe-gift');
    expect(rec.cardId).toBe(made[0]!.cardId);
    const created = [...followUps.flat().filter((r) => r !== undefined), ...sync.filter((r) => r.name === 'cafe-gift')].filter((r) => r!.action === 'created');
    expect(created).toHaveLength(1);
    // Only the cards of that sub-merchant: the plain card was not touched by the follow-ups.
    expect(followUps.flat().every((r) => r!.name === 'cafe-gift')).toBe(true);
  });

  it('should answer the event before the card is created, and log (not throw) a failed creation', async () => {
    const captured = captureLog();
    rig = await startCardRig(undefined, { log: captured.log });
    const merchantId = await submitted();
    rig.sandbox.faults.failNext('error', { path: '/card/create', count: 2 }); // -1 twice: the client's one busy-retry fails too
    await rig.sandbox.cards.approveMerchant(merchantId);
    const h = rig.handled.at(-1)!;
    expect(h).toMatchObject({ handled: true, note: 'sub-merchant corner-cafe approved' });
    expect(h.followUp).toBeInstanceOf(Promise);
    const [r] = (await h.followUp)!;
    expect(r).toMatchObject({ name: 'cafe-gift', action: 'failed' });
    const line = captured.lines.find((l) => l.level === 50 && l.card === 'cafe-gift');
    expect(String(line?.msg)).toContain("could not be created after corner-cafe's approval");
    expect(String(line?.msg)).toContain('run "cards sync"');
    // The card still waits; the next sync makes it.
    expect((await rig.cards.sync()).find((x) => x.name === 'cafe-gift')).toMatchObject({ action: 'created' });
  });

  it('should log a rejection at warn with the reason, record it, create nothing, and show it in cards list', async () => {
    const captured = captureLog();
    rig = await startCardRig(undefined, { log: captured.log });
    const merchantId = await submitted();
    const before = rig.sandbox.cards.cards.size;
    await rig.sandbox.cards.rejectMerchant(merchantId, '授权函已过期');
    expect(rig.handled.at(-1)).toMatchObject({ handled: true, note: 'sub-merchant corner-cafe rejected: 授权函已过期' });
    expect(rig.handled.at(-1)!.followUp).toBeUndefined();
    const warn = captured.lines.find((l) => l.level === 40 && l.submerchant === 'corner-cafe');
    expect(warn).toMatchObject({ reason: '授权函已过期', merchantId });
    expect(String(warn!.msg)).toContain('submerchant update corner-cafe');
    expect(await rig.cards.registry.getSubMerchant('corner-cafe')).toMatchObject({ status: 'REJECTED', reason: '授权函已过期' });
    expect(rig.sandbox.cards.cards.size).toBe(before);
    const listed = (await rig.cards.list()).find((c) => c.name === 'cafe-gift');
    expect(listed).toMatchObject({ subMerchant: 'corner-cafe', subMerchantStatus: 'REJECTED', subMerchantReason: '授权函已过期' });
  });
});
