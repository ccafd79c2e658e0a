import { startCardRig, type CardRig } from '../cards/helpers';

const base = {
  logo_url: 'https://x/l.png',
  brand_name: 'b',
  code_type: 'CODE_TYPE_TEXT',
  title: 't',
  color: 'Color010',
  notice: 'n',
  description: 'd',
  sku: { quantity: 10 },
  date_info: { type: 'DATE_TYPE_FIX_TERM', fixed_term: 1 },
};
const memberCard = (fields: Record<string, unknown> = {}, b: Record<string, unknown> = base) => ({
  card_type: 'MEMBER_CARD',
  member_card: { base_info: b, supply_bonus: true, supply_balance: false, prerogative: 'p', wx_activate: true, ...fields },
});

describe('card sandbox: member cards and quick pay', () => {
  let rig: CardRig;
  afterEach(async () => {
    await rig?.close();
  });

  it('should check the member_card object on card/create and card/update as WeChat does', async () => {
    rig = await startCardRig();
    const create = (card: Record<string, unknown>) => rig.api.card.create(card);
    await expect(create({ card_type: 'MEMBER_CARD', member_card: { base_info: base, supply_balance: false, prerogative: 'p' } })).rejects.toMatchObject({
      errcode: 41011,
      errmsg: expect.stringContaining('supply_bonus'),
    });
    await expect(create(memberCard({ prerogative: undefined }))).rejects.toMatchObject({ errcode: 41011, errmsg: expect.stringContaining('prerogative') });
    await expect(create(memberCard({ prerogative: '特'.repeat(1025) }))).rejects.toMatchObject({ errcode: 45021 });
    await expect(create(memberCard({ discount: 101 }))).rejects.toMatchObject({ errcode: 47001, errmsg: expect.stringContaining('discount') });
    await expect(create(memberCard({ custom_field1: { name_type: 'FIELD_NAME_TYPE_X' } }))).rejects.toMatchObject({ errcode: 47001 });
    await expect(create(memberCard({ custom_cell1: { name: '菜单', url: 'https://x' } }))).rejects.toMatchObject({
      errcode: 41011,
      errmsg: expect.stringContaining('tips'),
    });
    await expect(create(memberCard({ bonus_rule: { cost_money_unit: -1 } }))).rejects.toMatchObject({ errcode: 47001 });
    const cardId = await create(memberCard({ bonus_rule: { cost_money_unit: 100, increase_bonus: 1 } }));
    await expect(rig.api.card.update(cardId, 'MEMBER_CARD', { supply_bonus: false })).rejects.toMatchObject({
      errcode: 47001,
      errmsg: expect.stringContaining('supply_bonus'),
    });
    await expect(rig.api.card.update(cardId, 'MEMBER_CARD', { prerogative: '新特权' })).resolves.toEqual({ sendCheck: false });
    expect(rig.sandbox.cards.cards.get(cardId)!.card.member_card).toMatchObject({ prerogative: '新特权', supply_bonus: true });
  });

  it('should set the activation form of member cards only, with WeChat field names', async () => {
    rig = await startCardRig();
    const cardId = await rig.api.card.create(memberCard());
    const gift = await rig.api.card.create({ card_type: 'GIFT', gift: { base_info: base, gift: 'x' } });
    const form = (card_id: string, required: unknown, optional?: unknown) =>
      rig.api.card.setActivateUserForm({ card_id, required_form: required, optional_form: optional });
    await expect(form('pNope', { common_field_id_list: [] })).rejects.toMatchObject({ errcode: 40073 });
    await expect(form(gift, { common_field_id_list: ['USER_FORM_INFO_FLAG_MOBILE'] })).rejects.toMatchObject({
      errcode: 47001,
      errmsg: expect.stringContaining('member card'),
    });
    await expect(form(cardId, { common_field_id_list: ['USER_FORM_INFO_FLAG_PHONE'] })).rejects.toMatchObject({
      errcode: 47001,
      errmsg: expect.stringContaining('USER_FORM_INFO_FLAG_PHONE'),
    });
    await expect(form(cardId, undefined, undefined)).rejects.toMatchObject({ errcode: 41011 });
    await expect(form(cardId, { custom_field_list: Array.from({ length: 11 }, (_, i) => `f${i}`) })).rejects.toMatchObject({ errcode: 47001 });
    await expect(form(cardId, { common_field_id_list: ['USER_FORM_INFO_FLAG_MOBILE'] }, { common_field_id_list: ['USER_FORM_INFO_FLAG_MOBILE'] })).rejects.toMatchObject({
      errcode: 47001,
      errmsg: expect.stringContaining('both'),
    });
    await form(cardId, { common_field_id_list: ['USER_FORM_INFO_FLAG_MOBILE'], custom_field_list: ['门店'] });
    expect(rig.sandbox.cards.cards.get(cardId)!.activateForm).toEqual({
      required_form: { common_field_id_list: ['USER_FORM_INFO_FLAG_MOBILE'], custom_field_list: ['门店'] },
    });
  });

  it('should open quick pay and self redemption only on cards with stores, for coupons and member cards', async () => {
    rig = await startCardRig();
    const noStores = await rig.api.card.create(memberCard());
    const withStores = await rig.api.card.create(memberCard({}, { ...base, location_id_list: [101] }));
    const coupon = await rig.api.card.create({ card_type: 'CASH', cash: { base_info: { ...base, location_id_list: [101] }, least_cost: 0, reduce_cost: 100 } });
    await expect(rig.api.card.setPayCell(noStores, true)).rejects.toMatchObject({ errcode: 47001, errmsg: expect.stringContaining('location_id_list') });
    await expect(rig.api.card.post('paycell/set', { card_id: withStores })).rejects.toMatchObject({ errcode: 41011, errmsg: expect.stringContaining('is_open') });
    await expect(rig.api.card.post('paycell/set', { card_id: withStores, is_open: 'yes' })).rejects.toMatchObject({ errcode: 47001 });
    await expect(rig.api.card.setSelfConsumeCell(noStores, { isOpen: true })).rejects.toMatchObject({ errcode: 47001 });
    await expect(rig.api.card.post('selfconsumecell/set', { card_id: withStores, is_open: true, need_verify_cod: 1 })).rejects.toMatchObject({ errcode: 47001 });
    await rig.api.card.setPayCell(noStores, false); // closing needs no stores
    await rig.api.card.setPayCell(withStores, true);
    await rig.api.card.setPayCell(coupon, true);
    await rig.api.card.setSelfConsumeCell(coupon, { isOpen: true, needRemarkAmount: true });
    const sc = (id: string) => rig.sandbox.cards.cards.get(id)!;
    expect([sc(noStores).payCell, sc(withStores).payCell, sc(coupon).payCell]).toEqual([false, true, true]);
    expect(sc(coupon).selfConsumeCell).toEqual({ isOpen: true, needVerifyCod: false, needRemarkAmount: true });
  });
});
