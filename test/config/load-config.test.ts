import path from 'node:path';
import { loadConfig } from '../../src/config/load-config';
import { formatIssue } from '../../src/lib/config-issue';
import { displayPath } from '../../src/config/load-templates';
import { CAMPAIGNS_YAML, writeConfig } from './write-config';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'config');
const load = (name: string) => loadConfig(path.join(FIXTURES, name), { viewsDir: path.join(FIXTURES, name) });
const file = (name: string, f = 'rules.yaml') => displayPath(path.join(FIXTURES, name, f));
const errorsOf = (name: string) => {
  const r = load(name);
  return r.ok ? [] : r.errors.map(formatIssue);
};

describe('loadConfig (fixtures)', () => {
  it('should load basic with compiled rules, files, templates and no warnings', () => {
    const r = load('basic');
    if (!r.ok) throw new Error(r.errors.map(formatIssue).join('\n'));
    expect(r.warnings).toEqual([]);
    expect(r.config.version).toMatch(/^[0-9a-f]{12}$/);
    expect(r.config.rules.list.map((x) => x.id)).toEqual(['hello', 'order', 'menu-help', 'follow-store']);
    expect(Object.keys(r.config.files.campaigns.campaigns)).toEqual(['welcome-packet']);
    expect(r.config.files.menu.button).toHaveLength(2);
    expect([...r.config.templates.named.keys()]).toEqual(['greet']);
    expect(r.config.ruleSources.get('order')).toEqual({ file: file('basic'), line: 8 });
  });

  it('should give the same version for the same files, a new one when a file changes', () => {
    const a = load('basic');
    const b = load('basic');
    expect(a.ok && b.ok && a.config.version === b.config.version).toBe(true);
    const tmp = writeConfig({ 'rules.yaml': 'rules: []\ndefault: [ { reply: a } ]\n' });
    try {
      const v1 = loadConfig(tmp.dir, { viewsDir: tmp.dir });
      tmp.write('rules.yaml', 'rules: []\ndefault: [ { reply: b } ]\n');
      const v2 = loadConfig(tmp.dir, { viewsDir: tmp.dir });
      expect(v1.ok && v2.ok && v1.config.version !== v2.config.version).toBe(true);
    } finally {
      tmp.remove();
    }
  });

  it('should freeze the config', () => {
    const r = load('basic');
    if (!r.ok) throw new Error('basic must load');
    expect(Object.isFrozen(r.config)).toBe(true);
    expect(Object.isFrozen(r.config.files.rules.rules[0])).toBe(true);
    expect(() => {
      (r.config.files.rules.rules as unknown as unknown[]).push({});
    }).toThrow(TypeError);
  });

  it('should load empty with a warning', () => {
    const r = load('empty');
    expect(r.ok).toBe(true);
    expect(r.warnings.map(formatIssue)).toEqual([`${file('empty')}: no rules, default or welcome: the bot will not answer anything`]);
  });

  it.each([
    [
      'malformed',
      () => [
        `${file('malformed')}:4:5: YAML syntax error: Flow map in block collection must be sufficiently indented and end with a }; a { opened above is not closed: close it on the same line, or indent the lines that continue it`,
      ],
    ],
    [
      'unknown-reference',
      () => [
        `${file('unknown-reference')}:5 rules[0] (id "follow").actions[0].grant: campaign "summer-packet" is not defined in campaigns.yaml (defined: welcome-packet)`,
        `${file('unknown-reference')}:9 rules[1] (id "help").actions[0].reply.template: template "helpp" not found in ${displayPath(
          path.join(FIXTURES, 'unknown-reference', 'templates'),
        )} (no templates there)`,
      ],
    ],
    ['bad-regex', () => [`${file('bad-regex')}:4 rules[0] (id "order").match.content.regex: "^order (\\\\d+$" is not a valid regular expression: Unterminated group`]],
    [
      'unsupported-regex',
      () => [
        `${file('unsupported-regex')}:5 rules[0] (id "same-word-twice").match.content.regex: "^(\\\\w+) \\\\1$" uses a backreference "\\1", which cannot run in linear time; repeat the group's pattern instead of referring back to what it matched`,
        `${file('unsupported-regex')}:10 rules[1] (id "price-in-yuan").match.content.regex: "\\\\d+(?=元)" uses a lookahead "(?=…)", which cannot run in linear time; match the text itself and capture the part you need with a group`,
        `${file('unsupported-regex')}:16 rules[2] (id "promo-not-after-hash").match.eventKeyRegex: "(?<!#)PROMO" uses a lookbehind "(?<!…)", which cannot run in linear time; match the text itself and capture the part you need with a group`,
        `${file('unsupported-regex')}:21 rules[3] (id "store-twice").match.sceneRegex: "^(?<s>\\\\w+)-\\\\k<s>$" uses a backreference "\\k<s>", which cannot run in linear time; repeat the group's pattern instead of referring back to what it matched`,
      ],
    ],
    [
      'too-many-buttons',
      () => [
        `${file('too-many-buttons', 'menu.yaml')}:1 button: has 4 top-level buttons; WeChat allows at most 3`,
        `${file('too-many-buttons', 'menu.yaml')}:4 button[1].sub_button: has 6 buttons; a sub-menu holds at most 5`,
      ],
    ],
    ['huge', () => [`${file('huge')}: file is 1048714 bytes, larger than the 1 MiB (1048576 bytes) limit`]],
    ['deep-nesting', () => [`${file('deep-nesting')}:3: nesting is deeper than 32 levels`]],
    ['alias-bomb', () => [`${file('alias-bomb')}: too many alias expansions (more than 100); anchors and aliases are limited to stop expansion attacks`]],
    [
      'evil',
      () => [
        `${file('evil')}:6 rules[0].__proto__: key "__proto__" is not allowed`,
        `${file('evil')}:9 rules[1].constructor: key "constructor" is not allowed`,
        `${file('evil')}:9 rules[1].constructor.prototype: key "prototype" is not allowed`,
      ],
    ],
  ])('should refuse %s with its exact messages', (name, expected) => {
    expect(errorsOf(name)).toEqual(expected());
  });

  it('should not pollute Object.prototype with the evil fixture', () => {
    load('evil');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('should report warnings without refusing the config', () => {
    const r = load('warnings');
    expect(r.ok).toBe(true);
    expect(r.warnings.map(formatIssue)).toEqual([
      `${file('warnings')}:6 rules[1] (id "hello"): rule "hello" can never match: rule "everything-text" (rules[0]) above matches every text message first`,
      `${file('warnings', 'menu.yaml')}:3 button[1].key: no rule answers CLICK "ORDERS" (button "Orders"); followers who tap it get no reply`,
    ]);
  });

  it('should refuse a missing folder and a missing rules.yaml', () => {
    const missing = path.join(FIXTURES, 'no-such-folder');
    expect(loadConfig(missing)).toEqual({ ok: false, errors: [{ file: displayPath(missing), path: '', message: 'config folder does not exist' }], warnings: [] });
    const tmp = writeConfig({ 'menu.yaml': '' });
    try {
      const r = loadConfig(tmp.dir, { viewsDir: tmp.dir });
      expect(r.ok ? [] : r.errors.map(formatIssue)).toEqual([`${displayPath(path.join(tmp.dir, 'rules.yaml'))}: file is missing (it is required)`]);
    } finally {
      tmp.remove();
    }
  });

  it('should report every error of every file at once', () => {
    const tmp = writeConfig({
      'rules.yaml': 'rules:\n  - id: a\n    match: { event: subscrib }\n    actions: []\n',
      'menu.yaml': 'button:\n  - { type: clik, name: A, key: A }\n',
      'campaigns.yaml': 'campaigns:\n  p:\n    kind: coupon\n',
    });
    try {
      const r = loadConfig(tmp.dir, { viewsDir: tmp.dir });
      const rel = (f: string) => displayPath(path.join(tmp.dir, f));
      expect(r.ok ? [] : r.errors.map(formatIssue)).toEqual([
        expect.stringMatching(
          new RegExp(
            `^${rel('rules.yaml').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3 rules\\[0\\] \\(id "a"\\)\\.match\\.event: "subscrib" is not one of subscribe, unsubscribe, SCAN, `,
          ),
        ),
        `${rel('menu.yaml')}:2 button[0].type: "clik" is not one of click, scancode_push, scancode_waitmsg, pic_sysphoto, pic_photo_or_album, pic_weixin, location_select, view, miniprogram, media_id, view_limited, article_id, article_view_limited — did you mean "click"?`,
        expect.stringContaining(`${rel('campaigns.yaml')}:3 campaigns.p.kind:`),
      ]);
    } finally {
      tmp.remove();
    }
  });

  it('should check templates and inline EJS against the variables they will get', () => {
    const tmp = writeConfig({
      'rules.yaml': `rules:
  - id: a
    actions:
      - reply: { template: t, vars: { shop: x } }
      - reply: { template: t }
      - reply: "Hi <%= opnid %>"
      - reply: "Broken <% if ( %>"
      - reply: { template: t, vars: { openid: x } }
`,
      'templates/t.ejs': 'Shop <%= shop %>',
      'templates/bad.ejs': 'Oops <% } %>',
    });
    try {
      const r = loadConfig(tmp.dir, { viewsDir: tmp.dir });
      const rel = (f: string) => displayPath(path.join(tmp.dir, f));
      expect(r.ok ? [] : r.errors.map(formatIssue)).toEqual([
        `${rel('templates/bad.ejs')}:1: does not compile: SyntaxError: Missing catch or finally after try`,
        `${rel('rules.yaml')}:5 rules[0] (id "a").actions[1].reply.template: template "t" fails with this rule's variables: line 1: ReferenceError: shop is not defined`,
        `${rel('rules.yaml')}:6 rules[0] (id "a").actions[2].reply: fails with the built-in variables: ReferenceError: opnid is not defined`,
        `${rel('rules.yaml')}:7 rules[0] (id "a").actions[3].reply: does not compile: SyntaxError: Unexpected token '}'`,
        `${rel('rules.yaml')}:8 rules[0] (id "a").actions[4].reply.vars.openid: "openid" is a built-in variable; choose another name (built-ins: openid, text, captures, groups, scene, eventKey, now, amount, campaign, outcome, reason, vars)`,
      ]);
    } finally {
      tmp.remove();
    }
  });

  it('should check campaigns against limits', () => {
    const tmp = writeConfig({
      'rules.yaml': 'rules: []\n',
      'campaigns.yaml': CAMPAIGNS_YAML,
      'limits.yaml': 'amount: { min: 2.00, max: 200.00 }\n',
    });
    try {
      const r = loadConfig(tmp.dir, { viewsDir: tmp.dir });
      expect(r.ok ? [] : r.errors.map(formatIssue)).toEqual([
        `${displayPath(path.join(tmp.dir, 'campaigns.yaml'))}:4 campaigns.welcome-packet.amount: must be within 2.00–200.00 yuan per packet (limits.amount; set scene_id for more)`,
      ]);
    } finally {
      tmp.remove();
    }
  });

  it.each([21, 2])('should refuse a fission campaign with total_num %i at its file:line with the allowed range', (n) => {
    const group = CAMPAIGNS_YAML.replace('    amount: 1.88\n', `    type: fission\n    total_num: ${n}\n    amount: 60.00\n`).replace('budget: 100.00', 'budget: 600.00');
    const tmp = writeConfig({ 'rules.yaml': 'rules: []\n', 'campaigns.yaml': group });
    try {
      const r = loadConfig(tmp.dir, { viewsDir: tmp.dir });
      expect(r.ok ? [] : r.errors.map(formatIssue)).toContain(
        `${displayPath(path.join(tmp.dir, 'campaigns.yaml'))}:5 campaigns.welcome-packet.total_num: a fission red packet (sendgroupredpack) takes total_num 3–20 (the sharer included), not ${n}`,
      );
    } finally {
      tmp.remove();
    }
  });

  it('should refuse a fission campaign in service-provider mode (normal packets only)', () => {
    const group = CAMPAIGNS_YAML.replace(
      '    amount: 1.88\n',
      `    type: fission\n    total_num: 3\n    amount: 6.00\n    service_provider: { sub_mch_id: "1900000110", msgappid: "wx1234567890abcdef" }\n`,
    );
    const tmp = writeConfig({ 'rules.yaml': 'rules: []\n', 'campaigns.yaml': group });
    try {
      const r = loadConfig(tmp.dir, { viewsDir: tmp.dir });
      expect(r.ok ? [] : r.errors.map(formatIssue).join('\n')).toContain(
        'campaigns.welcome-packet.service_provider: service-provider mode (sub_mch_id) sends normal red packets only',
      );
    } finally {
      tmp.remove();
    }
  });

  it('should load the shipped sample config without errors or warnings', () => {
    const root = path.join(__dirname, '..', '..');
    const r = loadConfig(path.join(root, 'config'), { viewsDir: path.join(root, 'views') });
    expect(r.ok ? [] : r.errors.map(formatIssue)).toEqual([]);
    expect(r.warnings.map(formatIssue)).toEqual([]);
  });
});
