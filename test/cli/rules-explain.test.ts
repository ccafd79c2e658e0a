import path from 'node:path';
import { runExplain, parseAt } from '../../src/cli/commands/rules';
import type { CliIo } from '../../src/cli/commands/config';
import { displayPath } from '../../src/config/load-templates';
import { shanghaiToEpoch } from '../../src/lib/clock';

const ROOT = path.join(__dirname, '..', '..');
const BASIC = path.join(ROOT, 'test', 'fixtures', 'config', 'basic');
const SAMPLE = { dir: path.join(ROOT, 'config'), views: path.join(ROOT, 'views') };
const RULES_FILE = displayPath(path.join(BASIC, 'rules.yaml'));

async function explain(text: string | undefined, options: Record<string, unknown>) {
  const outLines: string[] = [];
  const errLines: string[] = [];
  const io: CliIo = { out: (l) => outLines.push(l), err: (l) => errLines.push(l) };
  const code = await runExplain(text, { dir: BASIC, views: BASIC, ...options }, io, { random: () => 0, nowMs: shanghaiToEpoch(2026, 2, 2, 12, 0, 0) });
  return { code, out: outLines, err: errLines };
}

describe('runExplain', () => {
  it('should explain a keyword match: rule, place, conditions, actions and the reply', async () => {
    expect(await explain('HI', { openid: 'oFan' })).toEqual({
      code: 0,
      err: [],
      out: [
        'message: text "HI"',
        `rule "hello" matches (${RULES_FILE}:3)`,
        '  because: text is "hello" or "hi" (ignoring case)',
        '  actions:',
        '    - reply: text "Hello <%= openid %>!"',
        'reply (not sent): text',
        '  Hello oFan!',
      ],
    });
  });

  it('should show regex captures and a template reply', async () => {
    const r = await explain('order 42', {});
    expect(r.out).toEqual([
      'message: text "order 42"',
      `rule "order" matches (${RULES_FILE}:8)`,
      '  because: text matches /^order (?<order>\\d+)$/',
      '  captures: ["order 42","42"]',
      '  groups: {"order":"42"}',
      '  actions:',
      '    - reply: template "greet" with shop',
      'reply (not sent): text',
      '  Order 42 from Nanjing Road is on its way.',
    ]);
  });

  it('should explain a menu click', async () => {
    const r = await explain(undefined, { click: 'HELP' });
    expect(r.out).toEqual([
      'message: event CLICK with key "HELP"',
      `rule "menu-help" matches (${RULES_FILE}:13)`,
      '  because: event is CLICK; event key is "HELP"',
      '  actions:',
      '    - reply: news "Help"',
      'reply (not sent): news (1 article)',
      '  1. Help — https://example.com/help',
    ]);
  });

  it('should preview a grant without granting, for the assumed outcome', async () => {
    const r = await explain(undefined, { follow: 'store-1', outcome: 'granted' });
    expect(r.out.slice(-2)).toEqual(['reply (not sent; grant assumed granted, nothing granted): text', '  Welcome from store 1! ¥1.00 is on its way.']);
    const other = await explain(undefined, { follow: 'store-1', outcome: 'already_claimed' });
    expect(other.out.slice(-2)).toEqual([
      'reply (not sent; grant assumed already_claimed, nothing granted): text',
      '  You have already received this reward. Thank you for taking part!',
    ]);
  });

  it('should say when the welcome or the default applies, and when nothing does', async () => {
    expect((await explain(undefined, { follow: true })).out).toEqual([
      'message: event subscribe',
      'no rule answers this follow: the top-level `welcome` actions apply',
      '  actions:',
      '    - reply: text "Thanks for following!"',
      'reply (not sent): text',
      '  Thanks for following!',
    ]);
    expect((await explain('zzz', {})).out[1]).toBe('no rule answers this message: the top-level `default` actions apply');
    expect((await explain(undefined, { click: 'NOPE' })).out).toEqual([
      'message: event CLICK with key "NOPE"',
      'no rule matches: nothing is sent (WeChat gets "success")',
    ]);
  });

  it('should evaluate windows at --at (Beijing time)', async () => {
    const closed = await explain('agent', { ...SAMPLE, at: '2026-02-02 08:59:59' });
    expect(closed.out[1]).toMatch(/^rule "agent-after-hours" matches/);
    const open = await explain('agent', { ...SAMPLE, at: '2026-02-02 09:00:00' });
    expect(open.out[1]).toMatch(/^rule "agent-office-hours" matches/);
    expect(open.out[open.out.length - 1]).toBe('reply (not sent): transfer to customer service');
  });

  it('should refuse a bad command line and an invalid config with exit 1', async () => {
    expect(await explain(undefined, {})).toEqual({
      code: 1,
      out: [],
      err: ['say what the follower does: "text", --click KEY, --follow [scene], --scan SCENE, --location LAT,LNG'],
    });
    expect((await explain('x', { click: 'Y' })).err).toEqual(['give only one of "text", --click, --follow, --scan, --location, --event']);
    expect((await explain('x', { outcome: 'won' })).err).toEqual([
      '--outcome "won" is not one of granted, already_claimed, limit_reached, outside_hours, campaign_over, failed',
    ]);
    const bad = path.join(ROOT, 'test', 'fixtures', 'config', 'bad-regex');
    const r = await explain('x', { dir: bad, views: bad });
    expect(r.code).toBe(1);
    expect(r.err[r.err.length - 1]).toBe('the config is invalid; fix it first (see check-config)');
  });
});

describe('parseAt', () => {
  it('should read Beijing wall-clock time', () => {
    expect(parseAt('2026-02-02 09:00')).toBe(Date.UTC(2026, 1, 2, 1, 0, 0));
    expect(() => parseAt('tomorrow')).toThrow('--at "tomorrow" must be a Beijing time like "2026-02-01 09:30"');
  });
});
