import { cardsFileSchema, type CardDefinition } from '../../src/cards/card-schema';
import { fixture, startCardRig, type CardRig } from './helpers';

const member = (): CardDefinition => cardsFileSchema.parse(fixture('member-cards.yaml')).cards['cafe-member']!;

describe('cards sync: member cards and quick pay', () => {
  let rig: CardRig;
  afterEach(async () => {
    await rig?.close();
  });

  const cardsOf = (r: CardRig) => r.config.cards as Record<string, CardDefinition>;

  it('should create a member card, set its activation form and both quick-pay cells, then stay up to date', async () => {
    rig = await startCardRig((c) => ({ ...c, cards: { 'cafe-member': member() } }));
    const [created] = await rig.cards.sync();
    expect(created).toMatchObject({ name: 'cafe-member', action: 'created' });
    expect(created!.message).toBe(`created as ${created!.cardId}; WeChat is reviewing it; activation form set; quick pay on; self redemption on`);
    const sc = rig.sandbox.cards.cards.get(created!.cardId!)!;
    expect(sc.type).toBe('MEMBER_CARD');
    expect(sc.card.member_card).toMatchObject({ supply_bonus: true, supply_balance: false, wx_activate: true, discount: 10, bonus_rule: { cost_money_unit: 100 } });
    expect(sc.activateForm).toEqual({
      required_form: { can_modify: true, common_field_id_list: ['USER_FORM_INFO_FLAG_MOBILE', 'USER_FORM_INFO_FLAG_NAME'], custom_field_list: ['常去门店'] },
      optional_form: { can_modify: true, common_field_id_list: ['USER_FORM_INFO_FLAG_BIRTHDAY'], custom_field_list: [] },
    });
    expect(sc.payCell).toBe(true);
    expect(sc.selfConsumeCell).toEqual({ isOpen: true, needVerifyCod: true, needRemarkAmount: false });
    sc.activateForm = undefined; // a second sync must not set it again
    const [again] = await rig.cards.sync();
    expect(again).toMatchObject({ action: 'unchanged', message: 'up to date; in review' });
    expect(sc.activateForm).toBeUndefined();
  });

  it('should update a member card (card/update member_card) and set a changed form and cells only', async () => {
    rig = await startCardRig((c) => ({ ...c, cards: { 'cafe-member': member() } }));
    const [created] = await rig.cards.sync();
    const def = member();
    const form = def.member!.activation as Extract<NonNullable<CardDefinition['member']>['activation'], { mode: 'wx_activate' }>;
    cardsOf(rig)['cafe-member'] = {
      ...def,
      special: { ...def.special, prerogative: '会员享全场八折' },
      member: { ...def.member!, activation: { ...form, form: { ...form.form, optional: { commonFields: ['USER_FORM_INFO_FLAG_EMAIL'], customFields: [] } } } },
      payCell: false,
    };
    const [updated] = await rig.cards.sync();
    expect(updated).toMatchObject({ action: 'updated', message: 'updated prerogative; activation form set; quick pay off; in review' });
    const sc = rig.sandbox.cards.cards.get(created!.cardId!)!;
    expect(sc.card.member_card).toMatchObject({ prerogative: '会员享全场八折' });
    expect(sc.activateForm!.optional_form!.common_field_id_list).toEqual(['USER_FORM_INFO_FLAG_EMAIL']);
    expect(sc.payCell).toBe(false);
    // supply_bonus cannot change on WeChat: a new card is needed.
    cardsOf(rig)['cafe-member'] = { ...cardsOf(rig)['cafe-member']!, special: { ...cardsOf(rig)['cafe-member']!.special, supply_bonus: false } };
    const [fixed] = await rig.cards.sync();
    expect(fixed).toMatchObject({ action: 'needs_new_card' });
    expect(fixed!.message).toContain('supply_bonus cannot change on an existing card');
  });

  it('should set quick pay on a coupon, and retry a refused cell on the next sync', async () => {
    rig = await startCardRig();
    const cash = cardsOf(rig)['coffee-cash']!;
    cardsOf(rig)['coffee-cash'] = { ...cash, payCell: true };
    // WeChat refuses quick pay on a card without stores (the config check asks for them; here it is bypassed).
    const [refused] = await rig.cards.sync({ only: ['coffee-cash'] });
    expect(refused).toMatchObject({ action: 'failed' });
    expect(refused!.message).toContain('47001');
    const cardId = refused!.cardId!;
    expect(rig.sandbox.cards.cards.get(cardId)!.payCell).toBeUndefined();
    // Stores added (base_info.location_id_list goes out by card/update), quick pay is set.
    cardsOf(rig)['coffee-cash'] = { ...cash, baseInfo: { ...cash.baseInfo, location_id_list: [101] }, payCell: true };
    const [fixedUp] = await rig.cards.sync({ only: ['coffee-cash'] });
    expect(fixedUp).toMatchObject({ action: 'updated' });
    expect(fixedUp!.message).toBe('updated base_info.location_id_list; quick pay on; in review');
    expect(rig.sandbox.cards.cards.get(cardId)!.payCell).toBe(true);
  });
});
