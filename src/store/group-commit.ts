/**
 * Group commit for the SQLite stores: items added during one turn of the event loop are written
 * with one call (one `BEGIN IMMEDIATE` transaction, one fsync under `synchronous=FULL`), and every
 * `add()` settles only after that transaction has committed, with its own result or error. One batch
 * is written at a time: while a batch waits for a lock held by another process, new items gather
 * into the next batch, written once the first has settled (in order, never interleaved).
 *
 * The writer answers one {@link WriteOutcome} per item (an item that failed in its savepoint fails
 * alone), or throws to fail the whole batch (e.g. `StoreBusyError`: nothing was applied).
 *
 * @example
 * const writes = new GroupCommit<Job, number>((batch) => runWhenUnlocked(db, () => tx.immediate(batch)));
 * const n = await writes.add(job);
 * @see https://www.sqlite.org/lang_transaction.html
 */
export class GroupCommit<T, R> {
  private queue: { item: T; resolve: (value: R) => void; reject: (error: unknown) => void }[] = [];
  private flushScheduled = false;
  /** A batch is being written (maybe waiting for a lock held elsewhere); the next waits for it. */
  private writing = false;

  /**
   * @param write writes a batch in one transaction; answers one outcome per item, in order.
   * @param maxBatch the most items written in one transaction (the rest wait for the next).
   */
  constructor(
    private readonly write: (batch: T[]) => Promise<WriteOutcome<R>[]>,
    private readonly maxBatch = Infinity,
  ) {}

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.writing) this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.queue.length === 0) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue.splice(0, this.maxBatch);
    this.writing = true;
    const done = () => {
      this.writing = false;
      this.scheduleFlush();
    };
    // A writer that throws instead of rejecting fails its batch like a rejection (it would otherwise
    // escape the timer and leave `writing` set: every later write would hang).
    new Promise<WriteOutcome<R>[]>((resolve) => resolve(this.write(batch.map((b) => b.item)))).then(
      (outcomes) => {
        done();
        const missing =
          outcomes.length === batch.length ? undefined : new Error(`group commit: the writer answered ${outcomes.length} outcomes for ${batch.length} items`);
        batch.forEach(function settleItem(b, i) {
          const o = outcomes[i];
          if (o?.ok) b.resolve(o.value);
          else b.reject(o ? o.error : missing);
        });
      },
      (error: unknown) => {
        done();
        for (const b of batch) b.reject(error);
      },
    );
  }
}

/** What became of one item of a batch. */
export type WriteOutcome<R> = { ok: true; value: R } | { ok: false; error: unknown };
