import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { runCheckConfig, type CliIo } from '../../src/cli/commands/config';
import { displayPath } from '../../src/config/load-templates';

const ROOT = path.join(__dirname, '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'config');

function capture(): CliIo & { outLines: string[]; errLines: string[] } {
  const outLines: string[] = [];
  const errLines: string[] = [];
  return { outLines, errLines, out: (l) => outLines.push(l), err: (l) => errLines.push(l) };
}

describe('runCheckConfig', () => {
  it('should print OK with the version and rule count, exit 0', () => {
    const io = capture();
    const dir = path.join(FIXTURES, 'basic');
    expect(runCheckConfig(dir, { views: dir }, io)).toBe(0);
    expect(io.outLines).toEqual([expect.stringMatching(/^OK \(version [0-9a-f]{12}, 4 rules\)$/)]);
    expect(io.errLines).toEqual([]);
  });

  it('should print every error and a summary, exit 1', () => {
    const io = capture();
    const dir = path.join(FIXTURES, 'unknown-reference');
    expect(runCheckConfig(dir, { views: dir }, io)).toBe(1);
    const file = displayPath(path.join(dir, 'rules.yaml'));
    expect(io.errLines).toEqual([
      `error: ${file}:5 rules[0] (id "follow").actions[0].grant: campaign "summer-packet" is not defined in campaigns.yaml (defined: welcome-packet)`,
      `error: ${file}:9 rules[1] (id "help").actions[0].reply.template: template "helpp" not found in ${displayPath(path.join(dir, 'templates'))} (no templates there)`,
      `2 errors: config in ${dir} is NOT valid`,
    ]);
    expect(io.outLines).toEqual([]);
  });

  it('should print schema and cross-file errors of one file in the same run, rules named by id, with did-you-mean', () => {
    const io = capture();
    const dir = path.join(FIXTURES, 'schema-and-reference');
    expect(runCheckConfig(dir, { views: dir }, io)).toBe(1);
    const file = displayPath(path.join(dir, 'rules.yaml'));
    expect(io.errLines).toEqual([
      expect.stringMatching(/^error: .*rules\.yaml:5 rules\[0\] \(id "follow-from-store-qr"\)\.match\.evnt: unknown key "evnt" — did you mean "event"\?; allowed keys: /),
      `error: ${file}:7 rules[0] (id "follow-from-store-qr").actions[0].grant: campaign "welcome-pakcet" is not defined in campaigns.yaml — did you mean "welcome-packet"? (defined: welcome-packet)`,
      `error: ${file}:11 rules[1] (id "help").actions[0].reply.template: template "greet" not found in ${displayPath(path.join(dir, 'templates'))} (no templates there)`,
      `3 errors: config in ${dir} is NOT valid`,
    ]);
  });

  it('should print warnings and still exit 0', () => {
    const io = capture();
    const dir = path.join(FIXTURES, 'warnings');
    expect(runCheckConfig(dir, { views: dir }, io)).toBe(0);
    expect(io.errLines).toEqual([
      expect.stringMatching(/^warning: .*rules\.yaml:6 rules\[1\] \(id "hello"\): rule "hello" can never match/),
      expect.stringMatching(/^warning: .*menu\.yaml:3 button\[1\]\.key: no rule answers CLICK "ORDERS"/),
    ]);
    expect(io.outLines).toEqual([expect.stringMatching(/^OK \(version [0-9a-f]{12}, 3 rules, 2 warnings\)$/)]);
  });

  it('should refuse patterns the linear-time engine cannot run, each with file:line, path and reason', () => {
    const io = capture();
    const dir = path.join(FIXTURES, 'unsupported-regex');
    expect(runCheckConfig(dir, { views: dir }, io)).toBe(1);
    const file = displayPath(path.join(dir, 'rules.yaml'));
    const cannot = 'which cannot run in linear time';
    expect(io.errLines).toEqual([
      `error: ${file}:5 rules[0] (id "same-word-twice").match.content.regex: "^(\\\\w+) \\\\1$" uses a backreference "\\1", ${cannot}; repeat the group's pattern instead of referring back to what it matched`,
      `error: ${file}:10 rules[1] (id "price-in-yuan").match.content.regex: "\\\\d+(?=元)" uses a lookahead "(?=…)", ${cannot}; match the text itself and capture the part you need with a group`,
      `error: ${file}:16 rules[2] (id "promo-not-after-hash").match.eventKeyRegex: "(?<!#)PROMO" uses a lookbehind "(?<!…)", ${cannot}; match the text itself and capture the part you need with a group`,
      `error: ${file}:21 rules[3] (id "store-twice").match.sceneRegex: "^(?<s>\\\\w+)-\\\\k<s>$" uses a backreference "\\k<s>", ${cannot}; repeat the group's pattern instead of referring back to what it matched`,
      `4 errors: config in ${dir} is NOT valid`,
    ]);
  });

  it('should accept textbook backtracking bombs, which run in linear time', () => {
    const io = capture();
    const dir = path.join(FIXTURES, 'hostile-regex');
    expect(runCheckConfig(dir, { views: dir }, io)).toBe(0);
    expect(io.errLines).toEqual([]);
    expect(io.outLines).toEqual([expect.stringMatching(/^OK \(version [0-9a-f]{12}, 5 rules\)$/)]);
  });

  it('should explain the send-rate settings in force: defaults, and per minute / per day when set', () => {
    const io = capture();
    const dir = path.join(FIXTURES, 'basic');
    expect(runCheckConfig(dir, { views: dir, explain: true }, io)).toBe(0);
    expect(io.outLines[1]).toBe(
      'red-packet sends: at most 30 a second, no cap per minute (send_rate_per_minute unset), no cap per Beijing day (send_rate_per_day unset) — ' +
        'counted in the shared store across every worker; a packet over a cap waits for the next second, minute or day, and is never dropped or sent twice',
    );
    const rated = capture();
    const ratedDir = path.join(FIXTURES, 'send-rates');
    expect(runCheckConfig(ratedDir, { views: dir, explain: true }, rated)).toBe(0);
    expect(rated.errLines).toEqual([]);
    expect(rated.outLines[1]).toMatch(/^red-packet sends: at most 30 a second, 50 a minute, 10000 per Beijing day — /);
  });

  it('should validate the shipped sample', () => {
    const io = capture();
    expect(runCheckConfig(path.join(ROOT, 'config'), { views: path.join(ROOT, 'views') }, io)).toBe(0);
    expect(io.errLines).toEqual([]);
  });
});

describe('wechat-bot check-config (the real command line)', () => {
  const run = (args: string[]) =>
    promisify(execFile)(process.execPath, [path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(ROOT, 'src', 'cli', 'main.ts'), ...args], {
      cwd: ROOT,
    }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  it('should exit 1 and print the error for a bad config, 0 for a good one', async () => {
    const [bad, good] = await Promise.all([
      run(['check-config', 'test/fixtures/config/bad-regex', '--views', 'test/fixtures/config/bad-regex']),
      run(['check-config', 'test/fixtures/config/basic', '--views', 'test/fixtures/config/basic']),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(
      'error: test/fixtures/config/bad-regex/rules.yaml:4 rules[0] (id "order").match.content.regex: "^order (\\\\d+$" is not a valid regular expression: Unterminated group',
    );
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/^OK \(version [0-9a-f]{12}, 4 rules\)\nred-packet sends: at most 30 a second, .*never dropped or sent twice\n$/);
  });
});
