/**
 * The base of every "a store of the domain could not be read or written" error: an unexpected
 * failure of storage (a lost connection, a full disk, a lock held too long), not a business refusal.
 * Each store names its own ({@link LedgerError} for the rewards ledger, {@link OrderStoreError} for
 * the spend-and-get orders), so a log or a test says which store failed, while a caller that only needs
 * to know "storage failed" catches this one. `cause` keeps the driver's error; the message never
 * holds a URL or a secret. They live here, below the domain, because the store adapters throw them
 * too (an adapter imports no domain value); `rewards/ledger.ts` and `spend/order-store.ts` re-export
 * theirs beside their ports.
 *
 * @example
 * try { await ledger.recordGrant(input); } catch (err) { if (err instanceof StoreError) return retryLater(); throw err; }
 * @see https://nodejs.org/api/errors.html#errorcause
 */
export class StoreError extends Error {
  override readonly name: string = 'StoreError';
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

/** An unexpected store failure inside the rewards ledger (not a business refusal). */
export class LedgerError extends StoreError {
  override readonly name: string = 'LedgerError';
}

/** The order store could not be read or written (the notification is answered FAIL, WeChat re-sends). */
export class OrderStoreError extends StoreError {
  override readonly name: string = 'OrderStoreError';
}

/** The member store (member cards) could not be read or written. */
export class MemberStoreError extends StoreError {
  override readonly name: string = 'MemberStoreError';
}
