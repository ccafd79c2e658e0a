import path from 'node:path';
import { StoreError } from '../../src/lib/store-error';
import { LedgerError } from '../../src/rewards/ledger';
import { OrderStoreError } from '../../src/spend/order-store';
import { openSqlite } from '../../src/store/sqlite-migrate';
import { SqliteOrderStore } from '../../src/store/sqlite-orders';
import { order } from '../spend/order-store-contract';
import { tempDir } from '../spend/helpers';

describe('StoreError', () => {
  it('should be the one base of the ledger and order-store failures, each keeping its name and cause', () => {
    const cause = new Error('disk full');
    for (const [err, name] of [
      [new LedgerError('the grant could not be stored', cause), 'LedgerError'],
      [new OrderStoreError('the order could not be recorded', cause), 'OrderStoreError'],
    ] as const) {
      expect(err).toBeInstanceOf(StoreError);
      expect(err).toBeInstanceOf(Error);
      expect(err.name).toBe(name);
      expect(err.cause).toBe(cause);
      expect(String(err)).toBe(`${name}: ${err.message}`);
    }
    expect(new StoreError('x').name).toBe('StoreError');
  });

  it('should be what a real order store throws when its database is gone', async () => {
    const tmp = tempDir();
    const db = openSqlite(path.join(tmp.dir, 'o.sqlite'));
    const orders = SqliteOrderStore.create(db);
    db.close();
    try {
      const failure = await orders.recordOrder(order(), { decision: null, skipReason: 's', now: 1 }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(StoreError);
      expect(failure).toBeInstanceOf(OrderStoreError);
      expect(String((failure as StoreError).cause)).toMatch(/database connection is not open/);
    } finally {
      tmp.remove();
    }
  });
});
