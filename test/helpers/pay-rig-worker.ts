/**
 * An outbox worker over a ledger that sends red packets through a pay sandbox (the rig of
 * test/rewards/helpers.ts, or any `{ redpack }`), with what the rewards tests share: memory counters
 * on the test's clock, a silent log and a fixed config. `more` adds or replaces any dependency.
 *
 * @example const worker = payRigWorker({ ledger: s.ledger, pay, clock, config }); await worker.runOnce();
 */
import type { Clock } from '../../src/lib/clock';
import { silentLogger } from '../../src/lib/logger';
import type { RedpackApi } from '../../src/pay/types';
import type { RewardsConfig } from '../../src/rewards/config-schema';
import type { Ledger } from '../../src/rewards/ledger';
import { createOutboxWorker, type OutboxWorker, type OutboxWorkerDeps } from '../../src/rewards/outbox-worker';
import { MemoryCounterStore } from '../../src/store/memory';

export interface PayRigWorkerSetup {
  ledger: Ledger;
  pay: { redpack: RedpackApi };
  clock: Clock;
  config: RewardsConfig;
}

export function payRigWorker({ ledger, pay, clock, config }: PayRigWorkerSetup, more: Partial<OutboxWorkerDeps> = {}): OutboxWorker {
  return createOutboxWorker({ ledger, redpack: pay.redpack, counters: new MemoryCounterStore(clock), clock, log: silentLogger(), config: () => config, ...more });
}
