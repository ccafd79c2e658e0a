import request from 'supertest';
import { ordersView } from '../../src/console/orders-view';
import { payStack, v2, v3 } from '../spend/helpers';

describe('ordersView', () => {
  it('should list orders newest first with the rule, what each earned (yuan) and the bill number', async () => {
    const s = payStack();
    const post = (body: string, headers: Record<string, string> = { 'content-type': 'text/xml' }) =>
      request(s.app.callback()).post('/wechat/pay/notify').set(headers).send(body);
    await post(v2({ transactionId: 'tx-big', totalFen: 30000, openId: 'o-big' }));
    await post(v2({ transactionId: 'tx-small', totalFen: 9999, openId: 'o-small' }));
    const n = v3({ transactionId: 'tx-failed', failed: true, openId: 'o-failed' });
    await post(n.body, n.headers);
    const view = await ordersView(s);
    expect(view.rows.map((r) => [r.transactionId, r.amountYuan, r.protocol, r.rule, r.earned, r.earnedYuan])).toEqual([
      ['tx-failed', '120.00', 'v3', undefined, { kind: 'unpaid', state: 'PAYERROR' }, undefined],
      ['tx-small', '99.99', 'v2', undefined, { kind: 'nothing', reason: 'spend-100: below the lowest tier (100.00 yuan)' }, undefined],
      ['tx-big', '300.00', 'v2', 'spend-100 ≥ 300.00', { kind: 'granted', amountFen: 3000, status: 'PENDING' }, '30.00'],
    ]);
    expect(view.rows[2].billNo).toMatch(/^\d{28}$/);
    expect(view.nextBeforeId).toBeUndefined();
  });

  it('should page with beforeId', async () => {
    const s = payStack();
    for (const id of ['tx-1', 'tx-2', 'tx-3'])
      await request(s.app.callback())
        .post('/wechat/pay/notify')
        .set('content-type', 'text/xml')
        .send(v2({ transactionId: id, totalFen: 100 }));
    const first = await ordersView(s, { limit: 2 });
    expect(first.rows.map((r) => r.transactionId)).toEqual(['tx-3', 'tx-2']);
    const next = await ordersView(s, { limit: 2, beforeId: first.nextBeforeId });
    expect(next.rows.map((r) => r.transactionId)).toEqual(['tx-1']);
    expect(next.nextBeforeId).toBeUndefined();
  });
});
