/**
 * Issue 17: a `kind: points` campaign in campaigns.yaml — its fields checked by the schema, its
 * member card checked against cards.yaml — each problem named with file:line:path.
 */
import { loadConfig } from '../../src/config/load-config';
import { formatIssue } from '../../src/lib/config-issue';
import { writeConfig } from '../config/write-config';

function errorsFor(campaigns: string): string[] {
  const tmp = writeConfig({ 'rules.yaml': 'rules: []\ndefault: [ { reply: hi } ]\n', 'campaigns.yaml': campaigns });
  try {
    const r = loadConfig(tmp.dir, { viewsDir: tmp.dir });
    return r.ok ? [] : r.errors.map(formatIssue);
  } finally {
    tmp.remove();
  }
}

describe('kind: points campaigns', () => {
  it('should name a member card missing from cards.yaml with file:line:path', () => {
    const errors = errorsFor('campaigns:\n  follow-points:\n    kind: points\n    card: gold\n    points: 100\n');
    expect(errors).toEqual([expect.stringMatching(/campaigns\.yaml:4 campaigns\.follow-points\.card: card "gold" is not defined in cards\.yaml/)]);
  });

  it('should refuse zero points, an unknown field and a record_bonus over 42 characters, each at its line', () => {
    const errors = errorsFor(
      `campaigns:\n  a:\n    kind: points\n    card: gold\n    points: 0\n  b:\n    kind: points\n    card: gold\n    points: 5\n    amount: 5\n  c:\n    kind: points\n    card: gold\n    points: 5\n    record_bonus: ${'x'.repeat(43)}\n`,
    );
    expect(errors.join('\n')).toMatch(/campaigns\.yaml:5 campaigns\.a\.points/);
    expect(errors.join('\n')).toMatch(/campaigns\.yaml:10 campaigns\.b\.amount: unknown key/);
    expect(errors.join('\n')).toMatch(/campaigns\.yaml:15 campaigns\.c\.record_bonus/);
  });
});
