/**
 * What check-config reports in one run: schema and cross-file errors together, rules named by id,
 * "did you mean" for near misses, YAML syntax positions with a hint, broken unreferenced templates,
 * and rules shadowed by an earlier rule.
 */
import path from 'node:path';
import { loadConfig } from '../../src/config/load-config';
import { formatIssue } from '../../src/lib/config-issue';
import { displayPath } from '../../src/config/load-templates';
import { closestName } from '../../src/lib/closest-name';
import { CAMPAIGNS_YAML, writeConfig } from './write-config';

function check(files: Record<string, string>): { errors: string[]; warnings: string[]; rel: (f: string) => string } {
  const tmp = writeConfig(files);
  try {
    const r = loadConfig(tmp.dir, { viewsDir: tmp.dir });
    const rel = (f: string) => displayPath(path.join(tmp.dir, f));
    return { errors: r.ok ? [] : r.errors.map(formatIssue), warnings: r.warnings.map(formatIssue), rel };
  } finally {
    tmp.remove();
  }
}

describe('closestName', () => {
  it('should suggest the nearest allowed name, nothing for a far one or an exact one', () => {
    expect(closestName('welcom-packet', ['spring', 'welcome-packet'])).toBe('welcome-packet');
    expect(closestName('zzzzzz', ['welcome-packet'])).toBeUndefined();
    expect(closestName('event', ['event', 'eventKey'])).toBeUndefined();
  });
});

describe('loadConfig (one run reports everything)', () => {
  it('should report a schema error and a cross-file error of the same file together', () => {
    const { errors, rel } = check({
      'rules.yaml': [
        'rules:',
        '  - id: follow-from-store-qr',
        '    match: { event: subscribe, colour: red }',
        '    actions:',
        '      - grant: summer-packet',
        '  - id: help',
        '    match: { content: help }',
        '    actions:',
        '      - reply: { template: greet }',
        '  - id: help',
        '    actions: []',
        '',
      ].join('\n'),
      'campaigns.yaml': CAMPAIGNS_YAML,
    });
    const f = rel('rules.yaml');
    expect(errors).toEqual([
      expect.stringMatching(new RegExp(`^${escape(f)}:3 rules\\[0\\] \\(id "follow-from-store-qr"\\)\\.match\\.colour: unknown key "colour"`)),
      `${f}:10 rules[2] (id "help").id: duplicate rule id "help" (also rules[1])`,
      `${f}:5 rules[0] (id "follow-from-store-qr").actions[0].grant: campaign "summer-packet" is not defined in campaigns.yaml (defined: welcome-packet)`,
      expect.stringContaining(`${f}:9 rules[1] (id "help").actions[0].reply.template: template "greet" not found`),
    ]);
  });

  it('should check campaign names even when campaigns.yaml itself has a schema error', () => {
    const { errors, rel } = check({
      'rules.yaml': 'rules:\n  - id: a\n    match: { event: subscribe }\n    actions:\n      - grant: welcom-packet\n',
      'campaigns.yaml': CAMPAIGNS_YAML.replace('kind: red_packet', 'kind: red_pocket'),
    });
    expect(errors).toContainEqual(expect.stringContaining(`${rel('campaigns.yaml')}:3 campaigns.welcome-packet.kind:`));
    expect(errors).toContainEqual(
      `${rel('rules.yaml')}:5 rules[0] (id "a").actions[0].grant: campaign "welcom-packet" is not defined in campaigns.yaml — did you mean "welcome-packet"? (defined: welcome-packet)`,
    );
  });
});

describe('loadConfig (did you mean)', () => {
  it('should suggest the key meant by a typo', () => {
    const { errors } = check({ 'rules.yaml': 'rules:\n  - id: a\n    match: { evnt: CLICK }\n    actions: []\n' });
    expect(errors).toEqual([expect.stringContaining('rules[0] (id "a").match.evnt: unknown key "evnt" — did you mean "event"?; allowed keys: msgType, event,')]);
  });

  it('should suggest the enum value meant by a typo', () => {
    const { errors } = check({ 'rules.yaml': 'rules:\n  - id: a\n    match: { msgType: txet }\n    actions: []\n' });
    expect(errors).toEqual([expect.stringMatching(/rules\[0\] \(id "a"\)\.match\.msgType(\[0\])?: "txet" is not one of .* — did you mean "text"\?$/)]);
  });

  it('should suggest the campaign and the template meant by a typo', () => {
    const { errors } = check({
      'rules.yaml': 'rules:\n  - id: a\n    match: { content: hi }\n    actions:\n      - grant: welcome-pakcet\n      - reply: { template: gret }\n',
      'campaigns.yaml': CAMPAIGNS_YAML,
      'templates/greet.ejs': 'Hello <%= openid %>',
    });
    expect(errors).toEqual([
      expect.stringContaining('campaign "welcome-pakcet" is not defined in campaigns.yaml — did you mean "welcome-packet"?'),
      expect.stringMatching(/template "gret" not found in .* — did you mean "greet"\? \(available: greet\)$/),
    ]);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('loadConfig (YAML syntax and templates)', () => {
  it('should give line:column and a hint for a tab in the indentation', () => {
    const { errors, rel } = check({ 'rules.yaml': 'rules:\n  - id: a\n\tactions: []\n' });
    expect(errors).toEqual([
      `${rel('rules.yaml')}:3:1: YAML syntax error: Tabs are not allowed as indentation; YAML indents with spaces only: replace the tab at the start of this line with spaces`,
    ]);
  });

  it('should give line:column and a hint for items that do not line up', () => {
    const { errors, rel } = check({ 'rules.yaml': 'rules:\n  - id: a\n    match: { content: hi }\n     actions: []\n' });
    expect(errors).toEqual([
      `${rel('rules.yaml')}:4:6: YAML syntax error: All mapping items must start at the same column; check the indentation: keys of one mapping, and the "- " items of one list, must start in the same column (use spaces, 2 per level)`,
    ]);
  });

  it('should name the file and line of a broken template no rule uses', () => {
    const { errors, rel } = check({
      'rules.yaml': 'rules: []\ndefault: [ { reply: hi } ]\n',
      'templates/unused.ejs': 'Hello\nthere\n<%= if ( %>\n',
    });
    expect(errors).toEqual([expect.stringMatching(new RegExp(`^${escape(rel('templates/unused.ejs'))}:3: does not compile: `))]);
  });
});

describe('loadConfig (rules that can never match)', () => {
  const rule = (id: string, match: string, extra = '') => `  - id: ${id}\n    match: ${match}\n${extra}    actions: [ { reply: ${id} } ]\n`;

  it('should warn when an earlier rule answers the same literal keyword first', () => {
    const { errors, warnings, rel } = check({
      'rules.yaml': `rules:\n${rule('help', '{ content: { equals: [help, menu], ignoreCase: true } }')}${rule('help-again', '{ content: HELP }')}`,
    });
    expect(errors).toEqual([]);
    expect(warnings).toEqual([
      `${rel('rules.yaml')}:5 rules[1] (id "help-again"): rule "help-again" can never match: rule "help" (rules[0]) above answers "HELP" (ignoring case) first; remove one, or give the earlier rule \`continue: true\``,
    ]);
  });

  it('should warn when an earlier rule matches every message of the same event', () => {
    const { warnings } = check({
      'rules.yaml': `rules:\n${rule('any-click', '{ event: CLICK }')}${rule('help-click', '{ event: CLICK, eventKey: HELP }')}`,
    });
    expect(warnings).toEqual([expect.stringContaining('rules[1] (id "help-click"): rule "help-click" can never match: rule "any-click" (rules[0])')]);
  });

  it.each([
    ['the earlier rule has continue', rule('help', '{ content: help }', '    continue: true\n') + rule('help-2', '{ content: help }')],
    ['the earlier rule has a window', rule('help', '{ content: help }', '    window: { hours: "09:00-18:00" }\n') + rule('help-2', '{ content: help }')],
    ['the keywords are only partly shared', rule('help', '{ content: help }') + rule('help-2', '{ content: { equals: [help, menu] } }')],
    ['the earlier rule is case-sensitive, the later is not', rule('help', '{ content: help }') + rule('help-2', '{ content: { equals: help, ignoreCase: true } }')],
    ['the earlier rule only contains the word', rule('help', '{ content: { contains: help } }') + rule('help-2', '{ content: help }')],
    ['the earlier rule also needs a msgType the later one lacks', rule('c', '{ event: CLICK, eventKey: A }') + rule('d', '{ event: CLICK }')],
    ['the earlier catch-all is for another event', rule('v', '{ event: VIEW }') + rule('c', '{ event: CLICK }')],
  ])('should not warn when %s', (_why, rules) => {
    const { errors, warnings } = check({ 'rules.yaml': `rules:\n${rules}` });
    expect(errors).toEqual([]);
    expect(warnings).toEqual([]);
  });
});
