import path from 'node:path';
import { createConfigHolder } from '../../src/config/config-holder';
import { displayPath } from '../../src/config/load-templates';
import { configStatusView } from '../../src/console/config-status-view';
import { fixedClock } from '../../src/lib/clock';
import { silentLogger } from '../../src/lib/logger';
import { writeConfig } from '../config/write-config';

const T0 = Date.parse('2026-12-04T11:00:00Z');

describe('configStatusView', () => {
  it('should show the version, the last reload and the last refused edit with each error at file:line and path', () => {
    const tmp = writeConfig({ 'rules.yaml': 'rules:\n  - id: hello\n    match: { content: hello }\n    actions: [ { reply: "hi" } ]\n' });
    const clock = fixedClock(T0);
    const holder = createConfigHolder({ dir: tmp.dir, viewsDir: tmp.dir, log: silentLogger(), clock });
    try {
      const before = configStatusView(holder);
      expect(before).toEqual({ version: holder.current().version, loadedAt: T0, ok: true, warnings: 0 });
      clock.advance(5_000);
      tmp.write('rules.yaml', 'rules:\n  - id: hello\n    match: { event: subscrib }\n    actions: []\n');
      holder.reload();
      const file = displayPath(path.join(tmp.dir, 'rules.yaml'));
      expect(configStatusView(holder)).toEqual({
        version: before.version,
        loadedAt: T0,
        ok: false,
        warnings: 0,
        lastAttemptAt: T0 + 5_000,
        lastAttemptOk: false,
        lastRefused: {
          at: T0 + 5_000,
          version: before.version,
          errors: [{ where: `${file}:3`, path: 'rules[0] (id "hello").match.event', message: expect.stringContaining('"subscrib" is not one of subscribe') }],
        },
      });
    } finally {
      holder.close();
      tmp.remove();
    }
  });
});
