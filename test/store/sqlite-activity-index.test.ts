/**
 * The console's activity query on SQLite reads the time indexes of ledger schema step 4, never the
 * whole table: on SQLite a full scan would hold the process (the webhook with it) while a chart loads.
 */
import path from 'node:path';
import { activitySql } from '../../src/store/ledger-rows';
import { SqliteLedger } from '../../src/store/sqlite-ledger';
import { openSqlite } from '../../src/store/sqlite-migrate';
import { tempDir } from '../rewards/helpers';

test('the activity query searches ledger_grants by its time indexes', () => {
  const tmp = tempDir('ledger-activity-');
  const db = openSqlite(path.join(tmp.dir, 'a.sqlite'));
  try {
    SqliteLedger.create(db);
    const plan = db
      .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${activitySql('sqlite')}`)
      .all({ since: 0, until: 1, bucket: 1, campaign: null })
      .map((r) => r.detail);
    const reads = plan.filter((d) => /ledger_grants/.test(d));
    expect(reads).toHaveLength(4);
    for (const d of reads) expect(d).toMatch(/^SEARCH ledger_grants USING INDEX ledger_grants_(created_at|sent_at|status_settled_at) \(/);
  } finally {
    db.close();
    tmp.remove();
  }
});
