import fc from 'fast-check';
import { compileLinearRegex, LinearRegexError, linearRegexProblem, tryCompileLinearRegex } from '../../src/lib/linear-regex';

/** What JavaScript's own engine answers, in the shape of a LinearMatch. */
function jsExec(source: string, flags: string, text: string) {
  const r = new RegExp(source, flags).exec(text);
  if (!r) return null;
  return { index: r.index, captures: [...r], ...(r.groups ? { groups: { ...r.groups } } : {}) };
}

const HOSTILE = 'a'.repeat(100_000);

describe('compileLinearRegex', () => {
  it.each<[string, string, string[]]>([
    // The shipped sample's patterns, with Chinese text and the ideographic space followers type.
    ['^(?:order|订单)\\s*#?(?<order>\\d{6,20})$', 'i', ['ORDER 123456', '订单\u3000123456', '订单#1234567', 'order 12', '订单 1234567 谢谢']],
    ['^store-(?<store>\\w+)$', '', ['store-nanjing_road', 'store-南京路', 'store-']],
    ['^https://example\\.com/', '', ['https://example.com/a', 'https://exampleXcom/']],
    ['^regex-1-(\\d+)$', '', ['regex-1-42', 'regex-1-x']],
    // Chinese text, named groups with Chinese names, classes of CJK characters.
    ['^(?<城市>[\\u4e00-\\u9fa5]{2,4})天气$', '', ['南京天气', '乌鲁木齐天气', '天气', 'nj天气']],
    ['你好|您好', '', ['您好呀', '你们好']],
    ['^[^，。！？]+[，。！？]$', '', ['谢谢！', '谢谢', '！']],
    // JavaScript's \s (Unicode spaces, BOM, line terminators) and \S.
    ['^\\s+$', '', [' \t\n\r\v\f', '\u3000', '\u00a0\u2009\ufeff\u2028', '\u200b', 'a']],
    ['^\\S+$', '', ['中文', '\u3000', 'a b']],
    ['^[\\s\\d]+$', '', ['1\u30002', '1a']],
    ['^[^\\s]+$', '', ['ab', 'a\u3000b']],
    // JavaScript's "." (not \n, \r, U+2028, U+2029) and the empty classes.
    ['^a.b$', '', ['axb', 'a\nb', 'a\rb', 'a\u2028b', 'a中b']],
    ['^[^]$', '', ['\n', 'x']],
    ['[]', '', ['', 'x']],
    ['^[\\s\\S]*$', '', ['any\nthing']],
    // Escapes: JavaScript's identity escapes are the characters themselves (\a is "a", not a bell).
    ['^\\a\\z\\-\\:\\#\\中$', '', ['az-:#中']],
    ['^\\x41\\u0042\\cJ\\0$', '', ['AB\n\u0000']],
    ['^[\\b]$', '', ['\b', 'b']],
    ['\\bword\\b', '', ['a word here', 'swordfish']],
    ['\\Bor\\B', '', ['word', 'or']],
    ['^[\\w-.]+$', '', ['a-b.c', 'a/b']],
    ['^[a-c-]+$', '', ['a-c', 'ad']],
    ['^x{,2}y{$', '', ['x{,2}y{', 'xxy{']],
    ['^a]b}$', '', ['a]b}']],
    // Quantifiers, greedy and lazy, counted; alternation order; captures that did not take part.
    ['^(a+?)(a*)$', '', ['aaaa']],
    ['(a|ab)(c|bcd)(d*)', '', ['abcd']],
    ['^(?:(x)|(y))z$', '', ['yz', 'xz']],
    ['a{2,3}?', '', ['aaaa']],
    ['^(\\d*\\.?\\d*)?$', '', ['1.5', '.']],
    ['^(a|)*$', '', ['aaa', 'b']],
    ['(a*)+$', '', ['aab', 'b']],
    // Case-insensitive matching.
    ['^Hello World$', 'i', ['hello world', 'HELLO WORLD', 'hello']],
    ['^[a-z]+$', 'i', ['AbC', 'ab1']],
    // The u flag (spend rules' attach): code points, \u{…}, \p{…}.
    ['^vip-\\d+$', 'u', ['vip-12', 'vip-x']],
    ['^\\u{1F600}+$', 'u', ['😀😀', '😀a']],
    ['^\\p{Script=Han}+$', 'u', ['中文', '中a']],
    ['^\\p{L}+\\P{L}$', 'u', ['abc1', 'abc']],
    ['^.$', 'u', ['😀', '中']],
    ['^[😀-😂]$', 'u', ['😁', '😃']],
  ])('should match %s (flags "%s") as JavaScript does', (source, flags, texts) => {
    const re = compileLinearRegex(source, flags);
    for (const text of texts) {
      expect({ text, result: re.exec(text) }).toEqual({ text, result: jsExec(source, flags, text) });
      expect({ text, result: re.test(text) }).toEqual({ text, result: new RegExp(source, flags).test(text) });
    }
  });

  it('should read an emoji as one character, where JavaScript without the u flag sees two halves', () => {
    // JavaScript without u: "." matches half of the emoji, so "^.$" fails and "^(.)" captures a broken half.
    expect(/^.$/.test('😀')).toBe(false);
    expect(compileLinearRegex('^.$').test('😀')).toBe(true);
    expect(compileLinearRegex('^(.)').exec('😀好')?.captures[1]).toBe('😀');
    expect(compileLinearRegex('^😀+$').test('😀😀😀')).toBe(true);
    expect(compileLinearRegex('^\\uD83D\\uDE00$').test('😀')).toBe(true);
    // Indexes stay in UTF-16 code units, as String#slice counts.
    expect(compileLinearRegex('好').exec('😀好')?.index).toBe(2);
    // Where the pattern does not count characters, both agree.
    expect(compileLinearRegex('^谢谢😀$').test('谢谢😀')).toBe(/^谢谢😀$/.test('谢谢😀'));
  });

  it('should keep a group’s capture from an earlier round of a repetition, where JavaScript clears it', () => {
    expect(/(?:(a)|b)+/.exec('ab')?.[1]).toBeUndefined();
    expect(compileLinearRegex('(?:(a)|b)+').exec('ab')?.captures).toEqual(['ab', 'a']);
  });

  it('should fold case by Unicode with ignoreCase (the Kelvin sign is a k, the long s an s)', () => {
    expect([/k/i.test('\u212a'), /s/i.test('ſ')]).toEqual([false, false]);
    expect([compileLinearRegex('k', 'i').test('\u212a'), compileLinearRegex('s', 'i').test('ſ')]).toEqual([true, true]);
  });

  it('should capture "" for a group in a repetition that matched nothing, where JavaScript captures nothing', () => {
    // JavaScript rejects a round that matched nothing, so the group took no part; RE2 takes the round.
    expect(/^(\d*)?$/.exec('')?.[1]).toBeUndefined();
    expect(compileLinearRegex('^(\\d*)?$').exec('')?.captures).toEqual(['', '']);
  });

  it.each<[string, string, string, string | null]>([
    ['^(a|a)*$', '', `${HOSTILE}b`, null],
    ['^(a|a)*$', 'i', `${HOSTILE.toUpperCase()}b`, null],
    ['(a+)+$', '', `${HOSTILE}b`, null],
    ['(a|aa)*b', '', HOSTILE, null],
    ['(\\w+\\s?)*$', '', `${'ab '.repeat(33_000)}!`, ''],
    ['^(([a-z])+.)+[A-Z]([a-z])+$', '', HOSTILE, null],
    ['(.*a){20}', '', HOSTILE, HOSTILE],
    ['^(\\s*中)*$', '', `${'中\u3000'.repeat(50_000)}x`, null],
    ['^(\\p{Script=Han}+\\s?)+$', 'u', `${'中文 '.repeat(33_000)}!`, null],
  ])('should run the backtracking bomb %s (flags "%s") on a 100,000-character text to completion', (source, flags, text, whole) => {
    // With JavaScript's engine each of these runs for longer than the universe has existed.
    const re = compileLinearRegex(source, flags);
    expect(re.exec(text)?.captures[0] ?? null).toBe(whole);
    expect(re.test(text)).toBe(whole !== null);
  });

  it.each([
    ['(a)\\1', '', 'uses a backreference "\\1", which cannot run in linear time'],
    ['(?<word>\\w+) \\k<word>', '', 'uses a backreference "\\k<word>"'],
    ['(?<word>\\w+) \\k<word>', 'u', 'uses a backreference "\\k<word>"'],
    ['(?=a)', '', 'uses a lookahead "(?=…)", which cannot run in linear time'],
    ['a(?!b)', '', 'uses a lookahead "(?!…)"'],
    ['(?<=#)\\d+', '', 'uses a lookbehind "(?<=…)"'],
    ['(?<!b)a', '', 'uses a lookbehind "(?<!…)"'],
    ['\\01', '', 'uses an old octal escape "\\01"'],
    ['[\\1]', '', 'uses an old octal escape "\\1"'],
    ['\\uD83D', '', 'has half of a surrogate pair "\\uD83D"'],
    ['a{1001}', '', 'repeats "{1001}", more than the linear-time engine allows (at most 1000)'],
    ['(?:a{100}){100}', '', 'repeats too much ("{100}" inside another repetition)'],
    ['(|a)*', '', 'repeats "(|a)*", whose inside would rather match nothing than text'],
    ['x(a??)+', '', 'repeats "(a??)+"'],
    ['(?:a?|b)*c', '', 'repeats "(?:a?|b)*"'],
    ['\\p{Emoji}', 'u', 'the Unicode property "\\p{Emoji}" is not supported'],
    ['\\cあ', '', '"\\c" without a control letter is ambiguous'],
  ])('should refuse %s (flags "%s") with the reason', (source, flags, reason) => {
    expect(() => compileLinearRegex(source, flags)).toThrow(LinearRegexError);
    expect(linearRegexProblem(source, flags)).toContain(reason);
  });

  it('should give JavaScript’s reason for a pattern JavaScript cannot read', () => {
    expect(() => compileLinearRegex('a(')).toThrow(SyntaxError);
    expect(tryCompileLinearRegex('a(')).toEqual({ problem: 'is not a valid regular expression: Unterminated group' });
    expect(linearRegexProblem('a{2,1}')).toBe('is not a valid regular expression: numbers out of order in {} quantifier');
  });

  it('should refuse flags other than i and u', () => {
    expect(() => compileLinearRegex('a', 'g')).toThrow(TypeError);
  });

  it('should expose the RE2 pattern it runs', () => {
    expect(compileLinearRegex('^(?<n>\\d+)$').re2Source).toBe('^(\\d+)$');
    expect(compileLinearRegex('a.b').re2Source).toBe('a[^\\x{a}\\x{d}\\x{2028}-\\x{2029}]b');
  });
});

// === Against JavaScript's own engine

const CHARS = ['a', 'b', 'A', '0', ' ', '\u3000', '\n', '中', '-', '_', '.'];
const atom = fc.constantFrom(
  'a',
  'b',
  'A',
  '中',
  '0',
  '\\.',
  '-',
  '_',
  '\\-',
  '.',
  '\\d',
  '\\D',
  '\\w',
  '\\W',
  '\\s',
  '\\S',
  '[ab]',
  '[^a]',
  '[a-c中]',
  '[\\s\\d]',
  '[^\\s]',
  '[\\S]',
  '\\u4e2d',
  '\\x41',
  '[]',
  '[^]',
  '\\b',
  '\\B',
  '^',
  '$',
);
const { pattern } = fc.letrec((tie) => ({
  pattern: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    atom,
    fc.tuple(tie('pattern'), tie('pattern')).map(([a, b]) => `${a}${b}`),
    fc.tuple(tie('pattern'), tie('pattern')).map(([a, b]) => `(?:${a}|${b})`),
    fc.tuple(tie('pattern'), fc.constantFrom('*', '+', '?', '{2}', '{1,3}', '{2,}', '*?', '+?', '??', '{0,2}?')).map(([a, q]) => `(?:${a})${q}`),
    tie('pattern').map((a) => `(${a})`),
  ),
})) as { pattern: fc.Arbitrary<string> };
const text = fc.array(fc.constantFrom(...CHARS), { maxLength: 10 }).map((a) => a.join(''));

describe('compileLinearRegex against JavaScript', () => {
  it('should find the same match (where, what, and the groups outside repetitions) for every pattern it accepts', () => {
    fc.assert(
      fc.property(pattern, fc.constantFrom('', 'i'), fc.array(text, { minLength: 1, maxLength: 4 }), (source, flags, texts) => {
        try {
          new RegExp(source, flags);
        } catch {
          return; // not JavaScript: nothing to compare
        }
        const compiled = tryCompileLinearRegex(source, flags);
        if (!compiled.regex) return; // refused with a reason (the refusals have their own tests)
        // JavaScript clears a group's capture in each round of a repetition; RE2 keeps the last one.
        const groupsComparable = !/\)(?:[*+?]|\{)/.test(source);
        for (const t of texts) {
          const js = jsExec(source, flags, t);
          const re2 = compiled.regex.exec(t);
          const view = (m: { index: number; captures: (string | undefined)[] } | null) =>
            m && { index: m.index, whole: m.captures[0], groups: groupsComparable ? m.captures.map((g) => g ?? '') : [] };
          expect({ source, flags, t, match: view(re2) }).toEqual({ source, flags, t, match: view(js) });
        }
      }),
      { numRuns: 2000, seed: 20260613 },
    );
  });
});
