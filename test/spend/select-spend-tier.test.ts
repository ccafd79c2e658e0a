import { selectSpendTier, explainSpendRules } from '../../src/spend/select-spend-tier';
import { spendConfig, SPEND_YAML, T0 } from './helpers';

const order = (totalFen: number, o: { attach?: string; productTags?: string[] } = {}) => ({ totalFen, attach: o.attach ?? '', productTags: o.productTags ?? [] });

describe('selectSpendTier', () => {
  const spend = spendConfig();
  it.each([
    [1, undefined],
    [9999, undefined],
    [10000, 1000],
    [10001, 1000],
    [29999, 1000],
    [30000, 3000],
    [1_000_000, 3000],
  ])('should give an order of %i fen a packet of %s fen', (fen, packet) => {
    const r = selectSpendTier(spend, order(fen), T0);
    expect(r.decision?.amountFen).toBe(packet);
    if (packet) expect(r.decision).toEqual({ ruleId: 'spend:spend-100', campaign: 'spend-packet', amountFen: packet, tierMinFen: packet === 1000 ? 10000 : 30000 });
    else expect(r.reason).toBe('spend-100: below the lowest tier (100.00 yuan)');
  });

  it('should apply the highest tier whatever order the tiers are written in', () => {
    const s = spendConfig({
      rules: [
        {
          id: 'r',
          campaign: 'c',
          tiers: [
            { min: 300, amount: 30 },
            { min: 100, amount: 10 },
            { min: 200, amount: 20 },
          ],
        },
      ],
    });
    expect(selectSpendTier(s, order(25000), T0).decision?.amountFen).toBe(2000);
  });

  it('should respect the window (Beijing dates of the payment, inclusive)', () => {
    const s = spendConfig({ rules: [{ ...SPEND_YAML.rules[0], window: { from: '2026-03-02', to: '2026-03-02' } }] });
    expect(selectSpendTier(s, order(10000), Date.parse('2026-03-02T00:00:00+08:00')).decision).toBeDefined();
    expect(selectSpendTier(s, order(10000), Date.parse('2026-03-02T23:59:59+08:00')).decision).toBeDefined();
    expect(selectSpendTier(s, order(10000), Date.parse('2026-03-01T23:59:59+08:00')).reason).toContain('before its window');
    expect(selectSpendTier(s, order(10000), Date.parse('2026-03-03T00:00:00+08:00')).reason).toContain('after its window');
  });

  it.each([
    [{ equals: 'promo' }, 'promo', true],
    [{ equals: 'promo' }, 'promo2', false],
    [{ prefix: 'promo:' }, 'promo:spring', true],
    [{ prefix: 'promo:' }, 'xpromo:', false],
    [{ regex: '^vip-\\d+$' }, 'vip-12', true],
    [{ regex: '^vip-\\d+$' }, 'vip-x', false],
    [{ regex: '^会员-\\p{Script=Han}+$' }, '会员-黄金', true],
    ['plain', 'plain', true],
  ])('should filter on attach %j (attach %s → %s)', (attach, value, ok) => {
    const s = spendConfig({ rules: [{ ...SPEND_YAML.rules[0], attach }] });
    expect(Boolean(selectSpendTier(s, order(10000, { attach: value }), T0).decision)).toBe(ok);
  });

  it('should run an attach pattern on the linear-time engine, however hostile the attach', () => {
    // On a backtracking engine the second order would take longer than the universe has existed.
    const s = spendConfig({ rules: [{ ...SPEND_YAML.rules[0], attach: { regex: '^(vip|VIP)-(a|a)*$' } }] });
    expect(selectSpendTier(s, order(10000, { attach: `vip-${'a'.repeat(100_000)}` }), T0).decision).toBeDefined();
    expect(selectSpendTier(s, order(10000, { attach: `vip-${'a'.repeat(100_000)}!` }), T0).reason).toContain('does not match');
  });

  it('should filter on product tags (any of)', () => {
    const s = spendConfig({ rules: [{ ...SPEND_YAML.rules[0], product_tags: ['drinks', 'food'] }] });
    expect(selectSpendTier(s, order(10000, { productTags: ['food'] }), T0).decision).toBeDefined();
    expect(selectSpendTier(s, order(10000, { productTags: ['toys'] }), T0).reason).toContain('no product tag');
    expect(selectSpendTier(s, order(10000), T0).decision).toBeUndefined();
  });

  it('should let the first accepting rule decide: one packet per order', () => {
    const s = spendConfig({
      rules: [
        { id: 'vip', campaign: 'c1', tiers: [{ min: 50, amount: 5 }], attach: { prefix: 'vip' } },
        { id: 'all', campaign: 'c2', tiers: [{ min: 100, amount: 10 }] },
      ],
    });
    expect(selectSpendTier(s, order(10000, { attach: 'vip1' }), T0).decision?.ruleId).toBe('spend:vip');
    expect(selectSpendTier(s, order(10000), T0).decision?.ruleId).toBe('spend:all');
    expect(selectSpendTier(s, order(6000), T0).reason).toBe('vip: attach "" does not match; all: below the lowest tier (100.00 yuan)');
  });

  it('should skip a switched-off rule and say so when there are no rules', () => {
    expect(selectSpendTier(spendConfig({ rules: [{ ...SPEND_YAML.rules[0], enabled: false }] }), order(50000), T0).reason).toContain('switched off');
    expect(selectSpendTier(spendConfig(null), order(50000), T0).reason).toBe('no spend rules are configured');
  });
});

describe('explainSpendRules', () => {
  it('should give every rule its verdict', () => {
    const v = explainSpendRules(spendConfig(), order(30000), T0);
    expect(v).toHaveLength(1);
    expect(v[0].tier).toEqual({ minFen: 30000, amountFen: 3000 });
  });
});
