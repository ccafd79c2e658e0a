/**
 * Issue 17: a `kind: points` campaign in campaigns.yaml — its fields checked by the schema, its
 * member card checked against cards.yaml — each problem named with file:line:path.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { loadConfig } from '../../src/config/load-config';
import { formatIssue } from '../../src/lib/config-issue';
import { writeConfig } from '../config/write-config';

function errorsFor(campaigns: string, cards?: string): string[] {
  const tmp = writeConfig({ 'rules.yaml': 'rules: []\ndefault: [ { reply: hi } ]\n', 'campaigns.yaml': campaigns, ...(cards ? { 'cards.yaml': cards } : {}) });
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

  it('should accept a member card that keeps points and refuse a coupon or a member card without supply_bonus', () => {
    const read = (f: string) => YAML.parse(fs.readFileSync(path.join(__dirname, 'fixtures', f), 'utf8')) as { cards: Record<string, Record<string, unknown>> };
    const member = read('member-cards.yaml').cards['cafe-member']!;
    const cards = YAML.stringify({
      cards: { 'cafe-member': member, 'no-points': { ...member, supply_bonus: false }, 'coffee-cash': read('cards.yaml').cards['coffee-cash'] },
    });
    const points = (card: string) => `campaigns:\n  p:\n    kind: points\n    card: ${card}\n    points: 10\n`;
    expect(errorsFor(points('cafe-member'), cards)).toEqual([]);
    expect(errorsFor(points('coffee-cash'), cards)).toEqual([
      expect.stringMatching(/campaigns\.yaml:4 campaigns\.p\.card: card "coffee-cash" is a CASH, not a MEMBER_CARD/),
    ]);
    expect(errorsFor(points('no-points'), cards)).toEqual([expect.stringMatching(/campaigns\.yaml:4 campaigns\.p\.card: .*supply_bonus: false/)]);
  });
});
