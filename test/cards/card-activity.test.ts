/**
 * Issue 17: the card activity events — quick pay (`user_pay_from_pay_cell`), member updates
 * (`update_member_card`), card views and sessions entered from a card — are tracked once per event, even
 * when WeChat delivers one twice, and their figures are in `cards report`.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { CardEvent } from '../../src/wechat/inbound';
import { parseInboundXml } from '../../src/wechat/parse-inbound';
import { cardEvent as ev, startCardRig, type CardRig } from './helpers';

describe('card activity events', () => {
  let rig: CardRig;
  afterEach(async () => {
    await rig?.close();
  });

  async function syncedCard(): Promise<{ name: string; cardId: string }> {
    const r = (await rig.cards.sync()).find((s) => s.name === 'coffee-cash')!;
    expect(r.cardId).toBeTruthy();
    return { name: r.name, cardId: r.cardId! };
  }

  it('should count each quick pay, member update, view and session once even when delivered twice', async () => {
    rig = await startCardRig();
    const { name, cardId } = await syncedCard();
    const code = '110201201245';
    const pay1 = ev('o_f', 1772420000, { Event: 'user_pay_from_pay_cell', CardId: cardId, UserCardCode: code, TransId: '4200000001', Fee: '1800', OriginalFee: '2000' });
    // The same payment again with another CreateTime: TransId identifies it.
    const pay1Again = { ...pay1, CreateTime: 1772420009 } as CardEvent;
    const pay2 = ev('o_f', 1772420100, { Event: 'user_pay_from_pay_cell', CardId: cardId, UserCardCode: code, TransId: '4200000002', Fee: '500', OriginalFee: '500' });
    const update = ev('o_f', 1772420200, { Event: 'update_member_card', CardId: cardId, UserCardCode: code, ModifyBonus: '18', ModifyBalance: '-300' });
    const update2 = ev('o_f', 1772420300, { Event: 'update_member_card', CardId: cardId, UserCardCode: code, ModifyBonus: '-5' });
    const view = ev('o_f', 1772420400, { Event: 'user_view_card', CardId: cardId, UserCardCode: code });
    const session = ev('o_f', 1772420500, { Event: 'user_enter_session_from_card', CardId: cardId, UserCardCode: code });
    const results = [];
    for (const e of [pay1, pay1, pay1Again, pay2, update, update, update2, view, view, session, session]) results.push(await rig.cards.handleEvent(e));
    expect(results.map((r) => r.duplicate === true)).toEqual([false, true, true, false, false, true, false, false, true, false, true]);
    expect(results.every((r) => r.handled)).toBe(true);
    const row = (await rig.cards.report()).find((r) => r.name === name)!;
    expect(row.activity).toEqual({
      payments: { count: 2, fee: 2300, originalFee: 2500 },
      memberUpdates: { count: 2, bonus: 13, balance: -300 },
      views: 1,
      sessions: 1,
    });
    // The coupon figures are untouched by activity events.
    expect(row).toMatchObject({ issued: 0, received: 0, redeemed: 0 });
  });

  it('should count a malformed fee as 0 and leave cards without activity events without figures', async () => {
    rig = await startCardRig();
    const { name, cardId } = await syncedCard();
    await rig.cards.handleEvent(
      ev('o_f', 1772420000, { Event: 'user_pay_from_pay_cell', CardId: cardId, UserCardCode: '1', TransId: 't1', Fee: '12abc', OriginalFee: '-5' }),
    );
    const rows = await rig.cards.report();
    expect(rows.find((r) => r.name === name)!.activity).toEqual({
      payments: { count: 1, fee: 0, originalFee: 0 },
      memberUpdates: { count: 0, bonus: 0, balance: 0 },
      views: 0,
      sessions: 0,
    });
    expect(rows.filter((r) => r.name !== name).every((r) => r.activity === undefined)).toBe(true);
  });

  it("should read WeChat's pushed XML of a quick pay and a member update (field names as WeChat sends them)", async () => {
    rig = await startCardRig();
    const { name, cardId } = await syncedCard();
    const vectors = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'vectors', 'inbound-xml.json'), 'utf8')) as { id: string; xml: string }[];
    for (const id of ['card-user_pay_from_pay_cell', 'card-update_member_card']) {
      const xml = vectors.find((v) => v.id === id)!.xml.replace(/<CardId>.*?<\/CardId>/s, `<CardId><![CDATA[${cardId}]]></CardId>`);
      const event = parseInboundXml(xml) as CardEvent;
      expect((await rig.cards.handleEvent(event)).duplicate).toBeUndefined();
      expect((await rig.cards.handleEvent(event)).duplicate).toBe(true);
    }
    expect((await rig.cards.report()).find((r) => r.name === name)!.activity).toMatchObject({
      payments: { count: 1, fee: 10000, originalFee: 10000 },
      memberUpdates: { count: 1, bonus: 3, balance: 0 },
    });
  });
});
