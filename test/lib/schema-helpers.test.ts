import { configErrorMap, regexString } from '../../src/lib/schema-helpers';

describe('regexString', () => {
  const check = (source: string, flags: '' | 'u' = '') => {
    const r = regexString(flags).safeParse(source, { error: configErrorMap });
    return r.success ? 'ok' : r.error.issues.map((i) => i.message).join('; ');
  };

  it.each([
    // Once refused as catastrophic backtracking: they run on the linear-time engine now.
    '(a+)+',
    '^(a+)+$',
    '(\\w*)*x',
    '(?:x+y)+',
    '((ab)+)+',
    '(a{2,})*',
    '^(a|a)*$',
    '(a|aa)*b',
    '(\\w+\\s?)*$',
    // Everyday patterns.
    '^(?:order|订单)\\s*#?(?<order>\\d{6,20})$',
    '^regex-1-(\\d+)$',
    '^store-(?<store>\\w+)$',
  ])('should accept %s', (source) => {
    expect(check(source)).toBe('ok');
  });

  it.each([
    ['a(', '"a(" is not a valid regular expression: Unterminated group'],
    ['(a)\\1', '"(a)\\\\1" uses a backreference "\\1", which cannot run in linear time; repeat the group\'s pattern instead of referring back to what it matched'],
    ['(?=a)b', '"(?=a)b" uses a lookahead "(?=…)", which cannot run in linear time; match the text itself and capture the part you need with a group'],
    ['(?<!b)a', '"(?<!b)a" uses a lookbehind "(?<!…)", which cannot run in linear time; match the text itself and capture the part you need with a group'],
    ['', 'must not be empty'],
  ])('should refuse %s with the reason', (source, message) => {
    expect(check(source)).toBe(message);
  });

  it('should read the pattern with the flags it will run with', () => {
    expect(check('\\u{1F600}', 'u')).toBe('ok');
    expect(check('\\p{Emoji}', 'u')).toContain('the Unicode property "\\p{Emoji}" is not supported');
  });
});
