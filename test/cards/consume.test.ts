import request from 'supertest';
import { createCardAdminRouter } from '../../src/bot/card-admin-router';
import { bearerMatches } from '../../src/wechat/koa/staff-auth';
import { createTestWebhook } from '../helpers/test-webhook';
import { startCardRig, type CardRig } from './helpers';

const ADMIN = 'admin-token-0123456789abcdef';

async function ready(rig: CardRig): Promise<{ giftId: string; cashId: string }> {
  await rig.cards.sync();
  const sub = await rig.cards.submerchants.submit('corner-cafe');
  await rig.sandbox.cards.approveMerchant(sub.merchantId!);
  const res = await rig.cards.sync();
  const giftId = res.find((r) => r.name === 'cafe-gift')!.cardId!;
  const cashId = res.find((r) => r.name === 'coffee-cash')!.cardId!;
  await rig.sandbox.cards.approveCard(giftId);
  await rig.sandbox.cards.approveCard(cashId);
  return { giftId, cashId };
}

describe('cards.consume', () => {
  let rig: CardRig;
  afterEach(async () => {
    await rig?.close();
  });

  it('should redeem a code once and refuse a used, foreign, unknown or deleted code with a clear reason', async () => {
    rig = await startCardRig();
    const { giftId, cashId } = await ready(rig);
    const code = await rig.sandbox.cards.claim('o_1', giftId);
    const foreign = await rig.sandbox.cards.claim('o_2', cashId);

    await expect(rig.cards.consume(foreign, { card: 'cafe-gift' })).resolves.toEqual({
      ok: false,
      code: foreign,
      reason: 'wrong_card',
      message: `code ${foreign} belongs to card coffee-cash, not to cafe-gift`,
    });
    await expect(rig.cards.consume(code, { card: 'cafe-gift' })).resolves.toMatchObject({ ok: true });
    await expect(rig.cards.consume(code, { card: 'cafe-gift' })).resolves.toMatchObject({
      ok: false,
      reason: 'already_used',
      message: `code ${code} has already been redeemed`,
    });
    await expect(rig.cards.consume('999999999999')).resolves.toMatchObject({ ok: false, reason: 'not_found' });
    const gone = await rig.sandbox.cards.claim('o_3', giftId);
    await rig.sandbox.cards.deleteByUser(gone);
    await expect(rig.cards.consume(gone)).resolves.toMatchObject({ ok: false, reason: 'unavailable' });
    expect([...rig.sandbox.cards.codes.values()].filter((c) => c.status === 'CONSUMED')).toHaveLength(1);
  });

  it('should decrypt an encrypted code first', async () => {
    rig = await startCardRig();
    const { giftId } = await ready(rig);
    const code = await rig.sandbox.cards.claim('o_1', giftId);
    const enc = rig.sandbox.cards.encryptCode(code);
    await expect(rig.cards.consume(enc, { encrypted: true })).resolves.toMatchObject({ ok: true, code, cardName: 'cafe-gift' });
  });

  it('should refuse a code outside its dates', async () => {
    rig = await startCardRig();
    const { cashId } = await ready(rig);
    const code = await rig.sandbox.cards.claim('o_1', cashId);
    rig.clock.set(Date.parse('2027-01-05T10:00:00+08:00'));
    rig.sandbox.expireTokens();
    await expect(rig.cards.consume(code, { card: 'coffee-cash' })).resolves.toMatchObject({
      ok: false,
      reason: 'expired',
      message: `code ${code} expired on 2026-12-31`,
    });
  });
});

describe('createCardAdminRouter', () => {
  let rig: CardRig;
  afterEach(async () => {
    await rig?.close();
  });

  it('should refuse a short admin token when built', () => {
    const staffRouters = [createCardAdminRouter({ cards: { consume: async () => ({ ok: true }) as never } })];
    expect(() => createTestWebhook({ adminToken: 'short', staffRouters })).toThrow(/at least 16/);
  });

  it('should redeem through HTTP only with the admin bearer token', async () => {
    rig = await startCardRig();
    const { giftId } = await ready(rig);
    const code = await rig.sandbox.cards.claim('o_1', giftId);
    const t = createTestWebhook({ adminToken: ADMIN, staffRouters: [createCardAdminRouter({ cards: rig.cards })] });
    const server = t.callback;

    await request(server).post('/admin/cards/consume').send({ code }).expect(401).expect('WWW-Authenticate', 'Bearer');
    await request(server).post('/admin/cards/consume').set('Authorization', `Bearer ${ADMIN}x`).send({ code }).expect(401);
    await request(server).post('/admin/cards/consume').set('Authorization', `Bearer ${ADMIN}`).send({ card: 'cafe-gift' }).expect(400);
    await request(server).post('/admin/cards/consume').set('Authorization', `Bearer ${ADMIN}`).send({ code, card: 'nope' }).expect(400);
    const ok = await request(server).post('/admin/cards/consume').set('Authorization', `Bearer ${ADMIN}`).send({ code, card: 'cafe-gift' }).expect(200);
    expect(ok.body).toMatchObject({ ok: true, cardName: 'cafe-gift', openId: 'o_1' });
    const again = await request(server).post('/admin/cards/consume').set('Authorization', `Bearer ${ADMIN}`).send({ code }).expect(409);
    expect(again.body).toMatchObject({ ok: false, reason: 'already_used' });
  });
});

describe('bearerMatches', () => {
  it('should match only the exact token', () => {
    expect(bearerMatches(`Bearer ${ADMIN}`, ADMIN)).toBe(true);
    expect(bearerMatches(`bearer ${ADMIN}`, ADMIN)).toBe(true);
    expect(bearerMatches(`Bearer ${ADMIN.slice(0, -1)}`, ADMIN)).toBe(false);
    expect(bearerMatches(ADMIN, ADMIN)).toBe(false);
    expect(bearerMatches(undefined, ADMIN)).toBe(false);
  });
});
