/**
 * One scenario every order store adapter passes (memory, SQLite, PostgreSQL).
 */
import type { OrderStore } from '../../src/spend/order-store';
import type { PaymentOrder } from '../../src/spend/payment-order';

export function order(overrides: Partial<PaymentOrder> = {}): PaymentOrder {
  return {
    transactionId: '4200002026030200000000000001',
    outTradeNo: 'out-1',
    appId: 'wx0000sandbox0000',
    mchId: '1900000109',
    openId: 'o-1',
    totalFen: 12000,
    paid: true,
    state: 'SUCCESS',
    attach: 'a',
    productTags: ['t1'],
    paidAt: 1_772_416_800_000,
    protocol: 'v2',
    tradeType: 'JSAPI',
    ...overrides,
  };
}
const decision = { ruleId: 'spend:r', campaign: 'c', amountFen: 1000, tierMinFen: 10000 };

export function orderStoreContract(open: () => Promise<{ store: OrderStore; done(): Promise<void> }>): void {
  let store: OrderStore;
  let done: () => Promise<void>;
  beforeEach(async () => {
    ({ store, done } = await open());
  });
  afterEach(async () => {
    await done();
  });

  it('should record an order with its decision and read it back', async () => {
    const r = await store.recordOrder(order(), { decision, skipReason: null, now: 5 });
    expect(r).toMatchObject({ duplicate: false, upgraded: false });
    const expected = { ...order(), decision, skipReason: null, grant: null, receivedAt: 5, updatedAt: 5 };
    expect(r.order).toMatchObject(expected);
    expect(await store.findOrder(order().transactionId)).toEqual(r.order);
    expect(await store.findOrder('nope')).toBeUndefined();
  });

  it('should record nothing new for a duplicate and return the first decision', async () => {
    await store.recordOrder(order(), { decision, skipReason: null, now: 5 });
    const again = await store.recordOrder(order({ totalFen: 99999 }), { decision: { ...decision, amountFen: 3000 }, skipReason: null, now: 9 });
    expect(again.duplicate).toBe(true);
    expect(again.order).toMatchObject({ totalFen: 12000, decision, receivedAt: 5, updatedAt: 5 });
  });

  it('should record one row for 8 concurrent calls', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.recordOrder(order(), { decision, skipReason: null, now: i })));
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(await store.listOrders()).toHaveLength(1);
  });

  it('should upgrade a failed payment once when its success arrives', async () => {
    await store.recordOrder(order({ paid: false, state: 'PAYERROR' }), { decision: null, skipReason: 'payment not successful', now: 1 });
    const up = await store.recordOrder(order(), { decision, skipReason: null, now: 2 });
    expect(up).toMatchObject({ duplicate: false, upgraded: true, order: { paid: true, state: 'SUCCESS', decision, skipReason: null, receivedAt: 1, updatedAt: 2 } });
    const again = await store.recordOrder(order(), { decision, skipReason: null, now: 3 });
    expect(again).toMatchObject({ duplicate: true, upgraded: false });
    const failAfter = await store.recordOrder(order({ paid: false, state: 'PAYERROR' }), { decision: null, skipReason: 'x', now: 4 });
    expect(failAfter.duplicate).toBe(true);
    expect(failAfter.order.paid).toBe(true);
  });

  it('should set the grant once', async () => {
    await store.recordOrder(order(), { decision, skipReason: null, now: 1 });
    expect(await store.setGrant(order().transactionId, { outcome: 'granted', amountFen: 1000, billNo: 'B1', at: 7 })).toBe(true);
    expect(await store.setGrant(order().transactionId, { outcome: 'limit_reached', at: 8 })).toBe(false);
    expect(await store.setGrant('nope', { outcome: 'granted', at: 8 })).toBe(false);
    expect((await store.findOrder(order().transactionId))?.grant).toEqual({ outcome: 'granted', amountFen: 1000, billNo: 'B1', at: 7 });
  });

  it('should list newest first, in pages', async () => {
    for (let i = 1; i <= 5; i++)
      await store.recordOrder(order({ transactionId: `tx-${i}`, paidAt: undefined, tradeType: undefined }), { decision: null, skipReason: 'below', now: i });
    const first = await store.listOrders({ limit: 2 });
    expect(first.map((o) => o.transactionId)).toEqual(['tx-5', 'tx-4']);
    expect(first[0].paidAt).toBeUndefined();
    const next = await store.listOrders({ limit: 10, beforeId: first[1].id });
    expect(next.map((o) => o.transactionId)).toEqual(['tx-3', 'tx-2', 'tx-1']);
  });
}
