/**
 * GroupCommit (the one group-commit helper of the SQLite store and the SQLite ledger): one write per
 * turn of the event loop, a result or error per item, one batch at a time, at most `maxBatch` items.
 */
import { GroupCommit, type WriteOutcome } from '../../src/store/group-commit';

/** A writer whose batches the test answers by hand. */
function manualWriter<T>() {
  const batches: { items: T[]; answer(outcomes: WriteOutcome<string>[]): void; fail(error: unknown): void }[] = [];
  let arrived: () => void = () => undefined;
  const write = (items: T[]) =>
    new Promise<WriteOutcome<string>[]>((resolve, reject) => {
      batches.push({ items, answer: resolve, fail: reject });
      arrived();
    });
  const nextBatch = () =>
    new Promise<void>((resolve) => {
      arrived = resolve;
    });
  return { write, batches, nextBatch };
}

describe('GroupCommit', () => {
  it('should write the items of one turn in one batch, in order, each with its own result or error', async () => {
    const w = manualWriter<number>();
    const commit = new GroupCommit<number, string>(w.write);
    const arrived = w.nextBatch();
    const a = commit.add(1);
    const b = commit.add(2);
    const c = commit.add(3);
    await arrived;
    expect(w.batches.map((x) => x.items)).toEqual([[1, 2, 3]]);
    w.batches[0].answer([
      { ok: true, value: 'one' },
      { ok: false, error: new Error('two failed alone') },
      { ok: true, value: 'three' },
    ]);
    await expect(a).resolves.toBe('one');
    await expect(b).rejects.toThrow('two failed alone');
    await expect(c).resolves.toBe('three');
  });

  it('should gather items added while a batch is written into the next batch, written after the first settles', async () => {
    const w = manualWriter<number>();
    const commit = new GroupCommit<number, string>(w.write);
    let arrived = w.nextBatch();
    const first = commit.add(1);
    await arrived;
    const later = [commit.add(2), commit.add(3)];
    // Nothing is written beside a batch in flight.
    await new Promise((resolve) => setImmediate(resolve));
    expect(w.batches).toHaveLength(1);
    arrived = w.nextBatch();
    w.batches[0].answer([{ ok: true, value: 'one' }]);
    await expect(first).resolves.toBe('one');
    await arrived;
    expect(w.batches.map((x) => x.items)).toEqual([[1], [2, 3]]);
    w.batches[1].answer([
      { ok: true, value: 'two' },
      { ok: true, value: 'three' },
    ]);
    await expect(Promise.all(later)).resolves.toEqual(['two', 'three']);
  });

  it('should write at most maxBatch items at once and fail a whole batch when the writer throws', async () => {
    const w = manualWriter<number>();
    const commit = new GroupCommit<number, string>(w.write, 2);
    let arrived = w.nextBatch();
    const items = [1, 2, 3].map((n) => commit.add(n));
    await arrived;
    expect(w.batches[0].items).toEqual([1, 2]);
    arrived = w.nextBatch();
    w.batches[0].fail(new Error('database is locked'));
    await expect(items[0]).rejects.toThrow('database is locked');
    await expect(items[1]).rejects.toThrow('database is locked');
    await arrived;
    expect(w.batches[1].items).toEqual([3]);
    w.batches[1].answer([{ ok: true, value: 'three' }]);
    await expect(items[2]).resolves.toBe('three');
  });

  it('should fail the batch, and go on writing later ones, when the writer throws instead of rejecting or answers too few outcomes', async () => {
    let calls = 0;
    const commit = new GroupCommit<number, string>((items) => {
      calls += 1;
      if (calls === 1) throw new Error('writer threw');
      if (calls === 2) return Promise.resolve([{ ok: true, value: `v${items[0]}` }]);
      return Promise.resolve(items.map((n) => ({ ok: true as const, value: `v${n}` })));
    });
    await expect(commit.add(1)).rejects.toThrow('writer threw');
    const [a, b] = [commit.add(2), commit.add(3)];
    await expect(a).resolves.toBe('v2');
    // Never acknowledged without its own outcome, never left hanging.
    await expect(b).rejects.toThrow('the writer answered 1 outcomes for 2 items');
    await expect(commit.add(4)).resolves.toBe('v4');
  });
});
