import { fixedClock } from '../../src/lib/clock';
import { silentLogger } from '../../src/lib/logger';
import type { RedpackApi } from '../../src/pay/types';
import { withLedgerRules } from '../../src/rewards/ledger-plans';
import { startReconcileJob } from '../../src/rewards/reconcile';
import { createMemoryLedger } from '../../src/store/memory-ledger';
import { makeConfig, T0 } from './helpers';
import { ledgerTagRules } from '../../src/rewards/bill-no';

describe('startReconcileJob', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const redpack: RedpackApi = {
    send: () => Promise.reject(new Error('reconcile never sends')),
    query: () => Promise.reject(new Error('no red packet to query')),
  };

  it("should run the other kinds' reconcilers (cards) on the same schedule, each on its own when one fails", async () => {
    const log = silentLogger();
    const errors: unknown[] = [];
    jest.spyOn(log, 'error').mockImplementation(((obj: unknown) => void errors.push(obj)) as never);
    const runs: string[] = [];
    const job = startReconcileJob(
      { ledger: withLedgerRules(createMemoryLedger({ tags: ledgerTagRules() })), redpack, clock: fixedClock(T0), log, config: () => makeConfig({}) },
      1000,
      [
        { name: 'broken', run: () => (runs.push('broken'), Promise.reject(new Error('card/user/getcardlist down'))) },
        { name: 'cards', run: () => (runs.push('cards'), Promise.resolve()) },
      ],
    );
    await jest.advanceTimersByTimeAsync(999);
    expect(runs).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    await job.stop();
    expect(runs).toEqual(['broken', 'cards']);
    expect(errors).toEqual([expect.objectContaining({ task: 'broken' })]);
  });
});
