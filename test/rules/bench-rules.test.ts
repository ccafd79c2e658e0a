import { makeKeywordRules } from '../../src/rules/bench-rules';
import { compileYaml } from './rules-from';

describe('makeKeywordRules', () => {
  it('should produce a valid rules file with n keyword and m regex rules, in order', () => {
    const r = compileYaml(makeKeywordRules(20, 5));
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.rules.list.map((x) => x.id)).toEqual([...Array.from({ length: 20 }, (_, i) => `kw-${i}`), ...Array.from({ length: 5 }, (_, j) => `rx-${j}`)]);
    expect(r.rules.default).toHaveLength(1);
  });

  it('should produce a valid file with no rules', () => {
    expect(compileYaml(makeKeywordRules(0, 0)).rules.list).toEqual([]);
  });

  it('should refuse negative counts', () => {
    expect(() => makeKeywordRules(-1, 0)).toThrow('makeKeywordRules: n must be a whole number ≥ 0');
  });
});
