import type { CardDefinition } from '../../src/cards/card-schema';
import { startCardRig, type CardRig } from '../cards/helpers';

describe('card sandbox: stock', () => {
  let rig: CardRig;
  afterEach(async () => {
    await rig?.close();
  });

  it('should decrease stock per claim, refuse at 0 with 45031, and take more stock from cards sync', async () => {
    rig = await startCardRig();
    const [cash] = await rig.cards.sync({ only: ['coffee-cash'] });
    await rig.sandbox.cards.approveCard(cash!.cardId!);
    await rig.sandbox.cards.claim('o_1', cash!.cardId!);
    expect(rig.sandbox.cards.cards.get(cash!.cardId!)!.quantity).toBe(0);
    await expect(rig.sandbox.cards.claim('o_2', cash!.cardId!)).rejects.toMatchObject({ errcode: 45031 });
    // get_limit 1: the same follower cannot take a second one either.
    (rig.config.cards as Record<string, CardDefinition>)['coffee-cash'] = { ...rig.config.cards['coffee-cash']!, stock: 3 };
    const [again] = await rig.cards.sync({ only: ['coffee-cash'] });
    expect(again).toMatchObject({ action: 'updated', stockDelta: 2, message: 'stock +2; approved' });
    expect(rig.sandbox.cards.cards.get(cash!.cardId!)!.quantity).toBe(2);
    await expect(rig.sandbox.cards.claim('o_1', cash!.cardId!)).rejects.toMatchObject({ errcode: 45033 });
    await rig.sandbox.cards.claim('o_2', cash!.cardId!);
    const info = await rig.api.card.get(cash!.cardId!);
    expect((info.cash as { base_info: { sku: unknown } }).base_info.sku).toEqual({ quantity: 1, total_quantity: 3 });
  });

  it('should deliver a QR code whose scan is refused with 45031 once the stock is gone', async () => {
    rig = await startCardRig((c) => ({
      ...c,
      campaigns: {
        ...c.campaigns,
        cash: {
          kind: 'card',
          name: 'cash',
          card: 'coffee-cash',
          delivery: 'qrcode',
          maxCards: 5,
          perUser: 1,
          qrcodeExpireSeconds: 600,
          enabled: true,
          replies: {},
        } as never,
      },
    }));
    const [cash] = await rig.cards.sync({ only: ['coffee-cash'] });
    await rig.sandbox.cards.approveCard(cash!.cardId!);
    await rig.sandbox.cards.claim('o_1', cash!.cardId!);
    rig.sandbox.touch('o_2');
    await rig.rewards.grant({ campaign: 'cash', openId: 'o_2', dedupeKey: 'k', ruleId: 'r', now: rig.clock.now() });
    await rig.worker.runOnce();
    const [g] = await rig.ledger.listAll({ campaign: 'cash' });
    // The QR code is sent; scanning it finds no stock.
    expect(g!.status).toBe('SENT');
    const link = (await rig.cards.tracker.grantLink(g!.id))!.link!;
    await expect(rig.sandbox.cards.scanQrCode('o_2', link.ticket!)).rejects.toMatchObject({ errcode: 45031 });
  });

  it('should check card fields as WeChat does', async () => {
    rig = await startCardRig();
    const base = {
      logo_url: 'https://x/l.png',
      brand_name: '品牌名称超过十二个汉字的长度限制',
      code_type: 'CODE_TYPE_TEXT',
      title: 't',
      color: 'Color010',
      notice: 'n',
      description: 'd',
      sku: { quantity: 1 },
      date_info: { type: 'DATE_TYPE_FIX_TERM', fixed_term: 1 },
    };
    await expect(rig.api.card.create({ card_type: 'GIFT', gift: { base_info: base, gift: 'x' } })).rejects.toMatchObject({ errcode: 45021 });
    await expect(rig.api.card.create({ card_type: 'GIFT', gift: { base_info: { ...base, brand_name: 'b', color: 'Color999' }, gift: 'x' } })).rejects.toMatchObject({
      errcode: 40071,
    });
    await expect(rig.api.card.create({ card_type: 'CASH', cash: { base_info: { ...base, brand_name: 'b' } } })).rejects.toMatchObject({ errcode: 41011 });
    await expect(
      rig.api.card.create({ card_type: 'GIFT', gift: { base_info: { ...base, brand_name: 'b', sub_merchant_info: { merchant_id: 424242 } }, gift: 'x' } }),
    ).rejects.toMatchObject({ errcode: 41011 });
    const cats = await rig.api.card.submerchant.categories();
    expect(cats[0]).toMatchObject({ primaryCategoryId: 1, secondary: [expect.objectContaining({ secondaryCategoryId: 101 }), expect.anything()] });
  });
});
