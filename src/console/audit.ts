/**
 * The console's audit log: every console action (logins and their failures too) as one structured log
 * line (`audit: 'console'`) and as a record in the shared store that operators can read back (numbered
 * by a shared counter, so records of every instance interleave in order; kept `keepSeconds`). Who is
 * the session's non-secret id (`-` before a login), never the cookie nor a token.
 *
 * @example
 * const audit = consoleAudit({ kv: store.kv, counters: store.counters, log, clock });
 * await audit.record({ session: 'a1b2c3d4e5f6', action: 'campaign.pause', target: 'spring', detail: { reason: 'budget' } });
 * await audit.recent(20); // newest first
 */
import { type Clock, systemClock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import type { CounterStore, KeyValueStore } from '../store/ports';
import type { AuditEntry, AuditRecord, ConsoleAudit } from './console-page';

const SEQ_KEY = 'console:audit:seq';
const recordKey = (seq: number) => `console:audit:${seq}`;
/** The sequence counter lives (practically) for ever: the port's TTL starts at its first increment. */
const SEQ_TTL_SECONDS = 100 * 365 * 86_400;

export function consoleAudit(o: { kv: KeyValueStore; counters: CounterStore; log: Logger; clock?: Clock; keepSeconds?: number }): ConsoleAudit {
  const clock = o.clock ?? systemClock;
  const keep = o.keepSeconds ?? 90 * 86_400;
  return {
    async record(entry: AuditEntry) {
      const at = clock.now();
      const seq = (await o.counters.incrementWithin(SEQ_KEY, 1, Number.MAX_SAFE_INTEGER, SEQ_TTL_SECONDS)).value;
      const rec: AuditRecord = { seq, at, session: entry.session, action: entry.action, target: entry.target, detail: entry.detail };
      o.log.info({ audit: 'console', ...rec }, `console: ${entry.action}${entry.target ? ` ${entry.target}` : ''} by session ${entry.session}`);
      await o.kv.set(recordKey(seq), JSON.stringify(rec), keep);
    },
    async recent(limit = 50) {
      const last = await o.counters.get(SEQ_KEY);
      const out: AuditRecord[] = [];
      for (let seq = last; seq > 0 && out.length < limit && seq > last - limit * 2; seq--) {
        const raw = await o.kv.get(recordKey(seq));
        if (raw !== undefined) out.push(JSON.parse(raw) as AuditRecord);
      }
      return out;
    },
  };
}
