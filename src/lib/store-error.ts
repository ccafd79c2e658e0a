/**
 * The base of every "a store of the domain could not be read or written" error: an unexpected
 * failure of storage (a lost connection, a full disk, a lock held too long), not a business refusal.
 * The domain modules name their own (`LedgerError` for the rewards ledger, `OrderStoreError` for the
 * spend-and-get orders), so a log or a test says which store failed, while a caller that only needs
 * to know "storage failed" catches this one. `cause` keeps the driver's error; the message never
 * holds a URL or a secret.
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
