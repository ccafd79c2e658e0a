/**
 * The last reconciliation run, kept in the shared store so every instance (and the operator console)
 * can tell whether reconciliation is working: when it ran, what it found, or why it failed.
 *
 * @example
 * await recordReconcileRun(store.kv, { at: now, report });
 * const last = await lastReconcileRun(store.kv); // { at, report } | { at, error } | undefined
 */
import type { KeyValueStore } from '../store/ports';
import type { ReconcileReport } from './reconcile';

export type ReconcileRun = { at: number; report: ReconcileReport; error?: undefined } | { at: number; error: string; report?: undefined };

const KEY = 'reconcile:last-run';
/** Kept a week: an older record says nothing about today. */
const TTL_SECONDS = 7 * 86_400;

export async function recordReconcileRun(kv: KeyValueStore, run: ReconcileRun): Promise<void> {
  await kv.set(KEY, JSON.stringify(run), TTL_SECONDS);
}

export async function lastReconcileRun(kv: KeyValueStore): Promise<ReconcileRun | undefined> {
  const raw = await kv.get(KEY);
  return raw === undefined ? undefined : (JSON.parse(raw) as ReconcileRun);
}

/** True when the run failed or found grants that need an operator (errors, anomalies, collisions). */
export function reconcileNeedsAttention(run: ReconcileRun | undefined): boolean {
  return run !== undefined && (run.error !== undefined || run.report.errors > 0 || run.report.anomalies > 0 || run.report.collisions > 0);
}
