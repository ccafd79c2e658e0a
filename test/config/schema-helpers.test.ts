import { hasNestedQuantifier } from '../../src/config/schema-helpers';

describe('hasNestedQuantifier', () => {
  it.each([
    ['(a+)+', true],
    ['^(a+)+$', true],
    ['(\\w*)*x', true],
    ['(?:x+y)+', true],
    ['((ab)+)+', true],
    ['(a{2,})*', true],
    ['(a+b)(c+)', false],
    ['^(?:order|订单)\\s*#?(?<order>\\d{6,20})$', false],
    ['(ab)+', false],
    ['(a{1,3})+', false],
    ['[(a+)]+', false],
    ['\\(a+\\)+', false],
    ['^regex-1-(\\d+)$', false],
  ])('should judge %s as %s', (source, expected) => {
    expect(hasNestedQuantifier(source)).toBe(expected);
  });
});
