import path from 'node:path';
import { loadConfig } from '../../src/config/load-config';
import { spendFileSchema } from '../../src/spend/spend-schema';
import { runExplainOrder } from '../../src/cli/commands/spend';
import { SPEND_YAML, tempDir } from './helpers';
import { writeSpendConfig } from './write-spend-config';

const VIEWS = path.resolve(__dirname, '../../views');
const messages = (dir: string) => {
  const r = loadConfig(dir, { viewsDir: VIEWS });
  return r.ok ? [] : r.errors.map((e) => `${e.file.split('/').pop()} ${e.path}: ${e.message}`);
};

describe('spendFileSchema', () => {
  it('should read an empty or absent file as no rules', () => {
    expect(spendFileSchema.parse(null)).toEqual({ rules: [] });
    expect(spendFileSchema.parse({ rules: null })).toEqual({ rules: [] });
  });

  it('should parse yuan to fen, sort tiers highest first, and name the grant rule', () => {
    const s = spendFileSchema.parse(SPEND_YAML);
    expect(s.rules[0]).toMatchObject({
      id: 'spend-100',
      ruleId: 'spend:spend-100',
      tiers: [
        { minFen: 30000, amountFen: 3000 },
        { minFen: 10000, amountFen: 1000 },
      ],
      enabled: true,
    });
  });
});

describe('loadConfig with spend.yaml', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => (tmp = tempDir('spend-config-')));
  afterEach(() => tmp.remove());

  it('should load the config with valid spend rules, and without spend.yaml', () => {
    const dir = writeSpendConfig(tmp.dir, SPEND_YAML);
    const r = loadConfig(dir, { viewsDir: VIEWS });
    expect(r.ok && r.config.files.spend.rules).toHaveLength(1);
    const none = writeSpendConfig(path.join(tmp.dir, 'b'), undefined);
    const r2 = loadConfig(none, { viewsDir: VIEWS });
    expect(r2.ok && r2.config.files.spend).toEqual({ rules: [] });
  });

  it.each([
    [
      'an unknown campaign',
      { rules: [{ id: 'r', campaign: 'nope', tiers: [{ min: 100, amount: 10 }] }] },
      'spend.yaml rules[0].campaign: campaign "nope" is not defined in campaigns.yaml (defined: spend-packet)',
    ],
    [
      'a packet above the per-packet limit',
      { rules: [{ id: 'r', campaign: 'spend-packet', tiers: [{ min: 100, amount: 250 }] }] },
      'spend.yaml rules[0].tiers: tier 100.00: amount 250.00 must be within 1.00–200.00 yuan (limits.yaml amount; set scene_id on the campaign for more)',
    ],
    [
      'a bad amount',
      { rules: [{ id: 'r', campaign: 'spend-packet', tiers: [{ min: '1.234', amount: 10 }] }] },
      'spend.yaml rules[0].tiers[0].min: "1.234" is not an amount in yuan with at most 2 decimals (e.g. 100.00)',
    ],
    [
      'a tier listed twice',
      {
        rules: [
          {
            id: 'r',
            campaign: 'spend-packet',
            tiers: [
              { min: 100, amount: 10 },
              { min: 100, amount: 20 },
            ],
          },
        ],
      },
      'spend.yaml rules[0].tiers[1].min: tier 100.00 is listed twice',
    ],
    [
      'a bad regex',
      { rules: [{ id: 'r', campaign: 'spend-packet', tiers: [{ min: 100, amount: 10 }], attach: { regex: '(' } }] },
      'spend.yaml rules[0].attach.regex: is not a valid regular expression',
    ],
    [
      'an attach regex with a lookbehind',
      { rules: [{ id: 'r', campaign: 'spend-packet', tiers: [{ min: 100, amount: 10 }], attach: { regex: '(?<=vip-)\\d+' } }] },
      'spend.yaml rules[0].attach.regex: uses a lookbehind "(?<=…)", which cannot run in linear time',
    ],
    [
      'an attach regex with a backreference',
      { rules: [{ id: 'r', campaign: 'spend-packet', tiers: [{ min: 100, amount: 10 }], attach: { regex: '^(\\d)\\1$' } }] },
      'spend.yaml rules[0].attach.regex: uses a backreference "\\1", which cannot run in linear time',
    ],
    [
      'two filters in one attach',
      { rules: [{ id: 'r', campaign: 'spend-packet', tiers: [{ min: 100, amount: 10 }], attach: { equals: 'a', prefix: 'b' } }] },
      'spend.yaml rules[0].attach: give exactly one of equals, prefix, regex',
    ],
    ['a duplicate id', { rules: [SPEND_YAML.rules[0], SPEND_YAML.rules[0]] }, 'spend.yaml rules[1].id: "spend-100" is used by an earlier rule'],
    [
      'a window backwards',
      { rules: [{ ...SPEND_YAML.rules[0], window: { from: '2026-02-01', to: '2026-01-01' } }] },
      'spend.yaml rules[0].window: window.from is after window.to',
    ],
    ['an unknown key', { rules: [{ ...SPEND_YAML.rules[0], amount: 3 }] }, 'spend.yaml rules[0]'],
  ])('should refuse %s with a message naming the path', (_name, spend, expected) => {
    const dir = writeSpendConfig(tmp.dir, spend);
    const errors = messages(dir);
    expect(errors.some((e) => e.startsWith(expected))).toBe(true);
  });
});

describe('runExplainOrder', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(() => (tmp = tempDir('spend-explain-')));
  afterAll(() => tmp.remove());

  function explain(amount: string, o: { attach?: string } = {}) {
    const dir = writeSpendConfig(tmp.dir, {
      rules: [SPEND_YAML.rules[0], { id: 'vip', campaign: 'spend-packet', tiers: [{ min: 50, amount: 5 }], attach: { prefix: 'vip' } }],
    });
    const out: string[] = [];
    const err: string[] = [];
    const code = runExplainOrder(amount, { dir, views: VIEWS, at: '2026-03-02 10:00', ...o }, { out: (s) => out.push(s), err: (s) => err.push(s) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  it('should show the tier of exactly 100.00 and of 300.00', () => {
    expect(explain('100.00').out).toContain('rule "spend-100" applies: tier ≥ 100.00 yuan → red packet of 10.00 yuan from campaign "spend-packet"');
    expect(explain('300').out).toContain('tier ≥ 300.00 yuan → red packet of 30.00 yuan');
  });

  it('should say why 99.99 earns nothing', () => {
    const r = explain('99.99');
    expect(r.code).toBe(0);
    expect(r.out).toContain('rule "spend-100" does not apply: below the lowest tier (100.00 yuan)');
    expect(r.out).toContain('rule "vip" does not apply: attach "" does not match');
    expect(r.out).toContain('the order earns nothing');
  });

  it('should show a later rule that would apply but is decided by an earlier one', () => {
    expect(explain('120.00', { attach: 'vip-1' }).out).toContain('rule "vip" would apply, but an earlier rule decides');
  });

  it('should refuse an amount that is not yuan', () => {
    const r = explain('12.345');
    expect(r.code).toBe(1);
    expect(r.err).toContain('is not an amount in yuan');
  });
});
