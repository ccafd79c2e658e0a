/**
 * Operator regular expressions on a linear-time engine. A rule's pattern runs on every follower's
 * text, and a backtracking engine (JavaScript's own) can take exponential time on some pattern and
 * text pairs: `^(a|a)*$` against 29 × "a" + "b" froze the bot for 27 s. So every operator pattern is
 * written in JavaScript syntax (what operators know, and what `check-config` has always accepted),
 * translated here into RE2 syntax with the same meaning, and run by RE2JS (a pure-JavaScript port
 * of RE2), whose time is linear in the text whatever the pattern.
 *
 * What RE2 cannot run is refused with a reason: backreferences (`\1`, `\k<name>`), lookahead
 * (`(?=…)`, `(?!…)`), lookbehind (`(?<=…)`, `(?<!…)`), old octal escapes, lone surrogates, and a
 * counted repetition above 1000. Everything else keeps its JavaScript meaning — `\s` includes the
 * ideographic space U+3000 and the other Unicode spaces, `.` stops at `\r`, U+2028 and U+2029 as well
 * as `\n`, `\a` is the letter "a", `[]` matches nothing and `[^]` anything, named groups may have
 * Chinese names. Where JavaScript without the `u` flag is surprising, RE2 differs, as documented in
 * README ("Patterns"): patterns and texts are read as Unicode characters (an emoji is one character,
 * where JavaScript without `u` sees two halves); a group inside a repetition keeps what it captured
 * in an earlier round when the last round skipped it, and captures "" for a round that matched
 * nothing (JavaScript gives `undefined` for both; rules turn `undefined` into "" anyway); and
 * `ignoreCase` folds case by Unicode, so the Kelvin sign K and the long s ſ count as k and s.
 *
 * @example
 * const re = compileLinearRegex('^(?:order|订单)\\s*(?<no>\\d+)$', 'i');
 * re.exec('订单\u3000123')?.groups // { no: '123' }
 * compileLinearRegex('(a)\\1') // throws LinearRegexError: a backreference (\1) …
 * @see https://github.com/google/re2/wiki/Syntax
 * @see https://github.com/le0pard/re2js
 */
import { RE2JS } from 're2js';

// === Types

/** The flags an operator pattern may carry: `i` (ignore case) and `u` (JavaScript's Unicode mode). */
export type LinearRegexFlags = '' | 'i' | 'u' | 'iu';

/** A match: `captures[0]` is the whole match, `[n]` group n (`undefined` when it took no part). */
export interface LinearMatch {
  /** Where the match starts, in UTF-16 code units (as `RegExp#exec` counts). */
  index: number;
  captures: (string | undefined)[];
  /** Named groups, when the pattern has any. */
  groups?: Record<string, string | undefined>;
}

/** A compiled operator pattern. `test` and `exec` take time linear in the text. */
export interface LinearRegex {
  /** The operator's pattern, as written. */
  readonly source: string;
  readonly flags: LinearRegexFlags;
  /** The RE2 pattern it runs as (for `rules explain` and tests). */
  readonly re2Source: string;
  test(text: string): boolean;
  exec(text: string): LinearMatch | null;
}

/**
 * The pattern is valid JavaScript but cannot run in linear time (or has no RE2 equivalent);
 * `reason` says which part and what to write instead.
 */
export class LinearRegexError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'LinearRegexError';
  }
}

// === Character sets with JavaScript's meaning

/** JavaScript's `\s`: WhiteSpace and LineTerminator (ECMA-262 §22.2.2.9), as code point ranges. */
const JS_SPACE: readonly (readonly [number, number])[] = [
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
];
const MAX_CODE_POINT = 0x10ffff;
/** JavaScript's `.` without the `s` flag stops at these. */
const JS_LINE_TERMINATORS: readonly (readonly [number, number])[] = [
  [0x0a, 0x0a],
  [0x0d, 0x0d],
  [0x2028, 0x2029],
];

function hex(cp: number): string {
  return `\\x{${cp.toString(16)}}`;
}

function rangesToClassBody(ranges: readonly (readonly [number, number])[]): string {
  return ranges.map(([a, b]) => (a === b ? hex(a) : `${hex(a)}-${hex(b)}`)).join('');
}

function complement(ranges: readonly (readonly [number, number])[]): [number, number][] {
  const out: [number, number][] = [];
  let next = 0;
  for (const [a, b] of ranges) {
    if (a > next) out.push([next, a - 1]);
    next = b + 1;
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
}

const SPACE_BODY = rangesToClassBody(JS_SPACE);
const NON_SPACE_BODY = rangesToClassBody(complement(JS_SPACE));
const DOT = `[^${rangesToClassBody(JS_LINE_TERMINATORS)}]`;
const ANY = `[${hex(0)}-${hex(MAX_CODE_POINT)}]`;
const NOTHING = `[^${hex(0)}-${hex(MAX_CODE_POINT)}]`;

/** `*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}`, each maybe lazy (a `{` that is none of these is a literal in JavaScript without u). */
const QUANTIFIER = /(?:[*+?]|\{(\d+)(,(\d*))?\})\??/y;

/** RE2 has no `{n}` above this; JavaScript has no limit. */
const MAX_REPEAT = 1000;

// === Translation (JavaScript syntax → RE2 syntax)

/**
 * What an escape or a class item stands for: one character (which may start a range), or a set
 * written as it goes inside an RE2 class (`set`) and as it stands alone (`alone`).
 */
type ClassAtom = { char: number } | { set: string; alone: string };

/** A set that is one RE2 escape (`\d`, `\p{Han}`): the same inside a class and alone. */
function escapeSet(re2: string): ClassAtom {
  return { set: re2, alone: re2 };
}

/** A set written as class ranges: alone, it needs its own brackets. */
function rangeSet(body: string): ClassAtom {
  return { set: body, alone: `[${body}]` };
}

function isAsciiAlnum(cp: number): boolean {
  return (cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a);
}

/** One character as an RE2 literal (inside or outside a class): never a metacharacter. */
function literal(cp: number): string {
  if (isAsciiAlnum(cp) || cp > 0x9f) return String.fromCodePoint(cp);
  if (cp > 0x20 && cp < 0x7f) return `\\${String.fromCharCode(cp)}`;
  return hex(cp);
}

function isSurrogate(cp: number): boolean {
  return cp >= 0xd800 && cp <= 0xdfff;
}

/** The translated pattern and the names of its groups (RE2 names are ASCII only, so groups are numbered). */
interface Translation {
  re2: string;
  /** Group number → name, for named groups. */
  names: Map<number, string>;
}

/**
 * What is known of a piece of pattern for the one place where JavaScript and RE2 read the same
 * syntax differently: a repetition whose inside can match the empty text. JavaScript rejects a round
 * that matched nothing and tries the inside's next way; RE2 takes it. The two agree when matching
 * nothing is the inside's last resort (`(a*)*`, `(a|)*`, `(\d*\.?\d*)?`), and may not otherwise
 * (`(a??)*`, `(|a)+`, `(a?|b)*`), so those are refused.
 */
interface Shape {
  /** It can match the empty text. */
  nullable: boolean;
  /** Matching nothing is the last of its ways to match (vacuously true when it cannot). */
  emptyLast: boolean;
}

const NOT_NULLABLE: Shape = { nullable: false, emptyLast: true };
const ASSERTION: Shape = { nullable: true, emptyLast: true };

/** One open group (or the whole pattern): its alternatives so far, the current sequence, its last item. */
interface Frame {
  /** The alternatives before the current one, combined; undefined before the first `|`. */
  alternatives?: Shape;
  sequence: Shape;
  /** The last item of the sequence and where it starts, still open to a quantifier. */
  last?: Shape & { start: number };
  /** Where the group starts (its `(`). */
  start: number;
}

function newFrame(start: number): Frame {
  return { sequence: { nullable: true, emptyLast: true }, start };
}

/** `A|B`: matching nothing is B's last resort only when A cannot match nothing at all. */
function alternation(a: Shape | undefined, b: Shape): Shape {
  if (!a) return b;
  return { nullable: a.nullable || b.nullable, emptyLast: !a.nullable && b.emptyLast };
}

/**
 * Reads a JavaScript pattern that `new RegExp(source, flags)` accepted and writes the RE2 pattern
 * with the same meaning; throws {@link LinearRegexError} for what has none.
 */
class Translator {
  private i = 0;
  private groups = 0;
  private readonly names = new Map<number, string>();
  private readonly out: string[] = [];
  private readonly frames: Frame[] = [newFrame(0)];

  constructor(
    private readonly src: string,
    private readonly unicode: boolean,
  ) {}

  run(): Translation {
    while (this.i < this.src.length) this.step();
    return { re2: this.out.join(''), names: this.names };
  }

  private get frame(): Frame {
    return this.frames[this.frames.length - 1];
  }

  private peek(offset = 0): string {
    return this.src[this.i + offset] ?? '';
  }

  /** The code point at the cursor (a surrogate pair is one character), and moves past it. */
  private nextCodePoint(): number {
    const cp = this.src.codePointAt(this.i)!;
    this.i += cp > 0xffff ? 2 : 1;
    if (isSurrogate(cp)) throw new LinearRegexError(LONE_SURROGATE(cp));
    return cp;
  }

  /** Folds the last item into the current sequence (it can no longer be quantified). */
  private settle(frame: Frame): void {
    if (!frame.last) return;
    frame.sequence = {
      nullable: frame.sequence.nullable && frame.last.nullable,
      emptyLast: frame.sequence.emptyLast && frame.last.emptyLast,
    };
    frame.last = undefined;
  }

  private item(start: number, re2: string, shape: Shape): void {
    this.settle(this.frame);
    this.out.push(re2);
    this.frame.last = { ...shape, start };
  }

  private step(): void {
    const start = this.i;
    const c = this.peek();
    QUANTIFIER.lastIndex = this.i;
    const quantifier = QUANTIFIER.exec(this.src);
    if (quantifier) return this.quantify(quantifier);
    switch (c) {
      case '|': {
        const f = this.frame;
        this.settle(f);
        f.alternatives = alternation(f.alternatives, f.sequence);
        f.sequence = { nullable: true, emptyLast: true };
        this.i++;
        this.out.push('|');
        return;
      }
      case '(':
        this.out.push(this.groupOpen());
        this.frames.push(newFrame(start));
        return;
      case ')': {
        const f = this.frames.pop()!;
        this.settle(f);
        this.i++;
        return this.item(f.start, ')', alternation(f.alternatives, f.sequence));
      }
      case '^':
      case '$':
        this.i++;
        return this.item(start, c, ASSERTION);
      case '.':
        this.i++;
        return this.item(start, DOT, NOT_NULLABLE);
      case '[':
        return this.item(start, this.characterClass(), NOT_NULLABLE);
      case '\\': {
        const atom = this.escapeAtom(false);
        if ('char' in atom) return this.item(start, literal(atom.char), NOT_NULLABLE);
        return this.item(start, atom.alone, atom.alone === '\\b' || atom.alone === '\\B' ? ASSERTION : NOT_NULLABLE);
      }
      default:
        // Includes "{" that does not start a quantifier, and "]" or "}" alone: JavaScript reads them as themselves.
        return this.item(start, literal(this.nextCodePoint()), NOT_NULLABLE);
    }
  }

  /** `*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}`, each possibly lazy, on the last item. */
  private quantify(q: RegExpExecArray): void {
    const written = q[0];
    const lazy = written.length > 1 && written.endsWith('?');
    const op = lazy ? written.slice(0, -1) : written;
    const min = op === '*' || op === '?' ? 0 : op === '+' ? 1 : Number(q[1]);
    const max = op === '*' || op === '+' ? Infinity : op === '?' ? 1 : q[2] === undefined ? min : q[3] === '' ? Infinity : Number(q[3]);
    for (const n of [min, max]) if (Number.isFinite(n) && n > MAX_REPEAT) throw new LinearRegexError(TOO_MANY_REPEATS(op));
    const last = this.frame.last!; // JavaScript refuses a quantifier with nothing to repeat
    if (max > min && last.nullable && !last.emptyLast) throw new LinearRegexError(EMPTY_ROUND(this.src.slice(last.start, this.i + written.length)));
    this.i += written.length;
    this.out.push(written);
    this.frame.last = {
      start: last.start,
      nullable: min === 0 || last.nullable,
      emptyLast: lazy ? !(min === 0 || last.nullable) : last.emptyLast,
    };
  }

  private groupOpen(): string {
    const rest = this.src.slice(this.i, this.i + 4);
    if (rest.startsWith('(?:')) {
      this.i += 3;
      return '(?:';
    }
    if (rest.startsWith('(?=') || rest.startsWith('(?!')) throw new LinearRegexError(LOOKAROUND('lookahead', rest.slice(0, 3)));
    if (rest.startsWith('(?<=') || rest.startsWith('(?<!')) throw new LinearRegexError(LOOKAROUND('lookbehind', rest));
    if (rest.startsWith('(?<')) {
      const end = this.src.indexOf('>', this.i);
      this.names.set(++this.groups, this.src.slice(this.i + 3, end));
      this.i = end + 1;
      return '(';
    }
    if (rest.startsWith('(?')) throw new LinearRegexError(`the group modifier "${rest.slice(0, 3)}" is not supported; use (…), (?:…) or (?<name>…)`);
    this.i++;
    this.groups++;
    return '(';
  }

  /**
   * An escape at the cursor (a backslash). Outside a class `\b` and `\B` are assertions (sets with
   * no class form); inside, `\b` is a backspace.
   */
  private escapeAtom(inClass: boolean): ClassAtom {
    const start = this.i;
    this.i++; // the backslash
    const c = this.peek();
    if (c === '') throw new LinearRegexError('ends with a backslash');
    this.i++;
    switch (c) {
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        return escapeSet(`\\${c}`);
      case 's':
        return rangeSet(SPACE_BODY);
      case 'S':
        return rangeSet(NON_SPACE_BODY);
      case 'b':
        return inClass ? { char: 0x08 } : escapeSet('\\b');
      case 'B':
        return inClass ? { char: 0x42 } : escapeSet('\\B');
      case 't':
        return { char: 0x09 };
      case 'n':
        return { char: 0x0a };
      case 'v':
        return { char: 0x0b };
      case 'f':
        return { char: 0x0c };
      case 'r':
        return { char: 0x0d };
      case 'c': {
        const letter = this.peek();
        if (/^[A-Za-z]$/.test(letter) || (inClass && !this.unicode && /^[0-9_]$/.test(letter))) {
          this.i++;
          return { char: letter.charCodeAt(0) % 32 };
        }
        throw new LinearRegexError('"\\c" without a control letter is ambiguous; write "\\\\c" for a backslash and c, or \\cA … \\cZ');
      }
      case 'x': {
        const h = /^[0-9A-Fa-f]{2}/.exec(this.src.slice(this.i));
        if (!h) return { char: 0x78 }; // JavaScript without u: "\x" is the letter x
        this.i += 2;
        return { char: parseInt(h[0], 16) };
      }
      case 'u':
        return this.unicodeEscape();
      case 'p':
      case 'P':
        if (!this.unicode) return { char: c.charCodeAt(0) };
        return escapeSet(this.propertyEscape(c));
      case 'k':
        if (this.unicode || this.names.size > 0 || /\(\?<(?![=!])/.test(this.src))
          throw new LinearRegexError(BACKREFERENCE(this.src.slice(start, this.src.indexOf('>', start) + 1) || '\\k'));
        return { char: 0x6b };
      default:
        break;
    }
    if (c >= '0' && c <= '9') {
      if (c === '0' && !/[0-9]/.test(this.peek())) return { char: 0 };
      const digits = /^[0-9]*/.exec(this.src.slice(this.i))![0];
      const written = `\\${c}${digits}`;
      if (inClass || c === '0') throw new LinearRegexError(OCTAL(written));
      throw new LinearRegexError(BACKREFERENCE(written));
    }
    // An identity escape: the character itself (JavaScript without u allows any; with u only syntax characters).
    this.i--;
    return { char: this.nextCodePoint() };
  }

  /** `\uXXXX` (a surrogate pair of two escapes is one character), or `\u{…}` with the u flag. */
  private unicodeEscape(): ClassAtom {
    const rest = this.src.slice(this.i);
    if (this.unicode && rest.startsWith('{')) {
      const m = /^\{([0-9A-Fa-f]+)\}/.exec(rest)!;
      this.i += m[0].length;
      const cp = parseInt(m[1], 16);
      if (isSurrogate(cp)) throw new LinearRegexError(LONE_SURROGATE(cp));
      return { char: cp };
    }
    const m = /^[0-9A-Fa-f]{4}/.exec(rest);
    if (!m) return { char: 0x75 }; // JavaScript without u: "\u" is the letter u
    this.i += 4;
    const unit = parseInt(m[0], 16);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const low = /^\\u(d[c-f][0-9a-f]{2})/i.exec(this.src.slice(this.i));
      if (low) {
        this.i += 6;
        return { char: 0x10000 + ((unit - 0xd800) << 10) + (parseInt(low[1], 16) - 0xdc00) };
      }
    }
    if (isSurrogate(unit)) throw new LinearRegexError(LONE_SURROGATE(unit));
    return { char: unit };
  }

  /** `\p{…}` / `\P{…}` (u flag): general categories by short name and scripts, as RE2 knows them. */
  private propertyEscape(c: 'p' | 'P'): string {
    const m = /^\{([^}]*)\}/.exec(this.src.slice(this.i))!;
    this.i += m[0].length;
    const [key, value] = m[1].includes('=') ? m[1].split('=') : [undefined, m[1]];
    if (key === undefined ? !/^[A-Z][a-z]?$/.test(value) : key !== 'Script' && key !== 'sc')
      throw new LinearRegexError(
        `the Unicode property "\\${c}{${m[1]}}" is not supported; use a general category by its short name (\\p{L}, \\p{Lu}, \\p{N}, …) or a script (\\p{Script=Han})`,
      );
    return `\\${c}{${value}}`;
  }

  private classAtom(): ClassAtom {
    if (this.peek() === '\\') return this.escapeAtom(true);
    return { char: this.nextCodePoint() };
  }

  private characterClass(): string {
    this.i++; // [
    const negate = this.peek() === '^';
    if (negate) this.i++;
    if (this.peek() === ']') {
      this.i++;
      return negate ? ANY : NOTHING;
    }
    const body: string[] = [];
    const put = (a: ClassAtom) => body.push('char' in a ? literal(a.char) : a.set);
    while (this.peek() !== ']') {
      const first = this.classAtom();
      if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== '') {
        this.i++;
        const last = this.classAtom();
        if ('char' in first && 'char' in last) body.push(`${literal(first.char)}-${literal(last.char)}`);
        else {
          // JavaScript without u: a range with a set at either end is the set, "-" and the other end.
          put(first);
          body.push(literal(0x2d));
          put(last);
        }
      } else put(first);
    }
    this.i++; // ]
    const sets = body.join('');
    return negate ? `[^${sets}]` : `[${sets}]`;
  }
}

// === Reasons

function BACKREFERENCE(written: string): string {
  return `uses a backreference "${written}", which cannot run in linear time; repeat the group's pattern instead of referring back to what it matched`;
}

function LOOKAROUND(kind: 'lookahead' | 'lookbehind', written: string): string {
  return `uses a ${kind} "${written}…)", which cannot run in linear time; match the text itself and capture the part you need with a group`;
}

function OCTAL(written: string): string {
  return `uses an old octal escape "${written}"; write the character itself, or \\xHH`;
}

function LONE_SURROGATE(unit: number): string {
  return `has half of a surrogate pair "\\u${unit.toString(16).toUpperCase()}", which never matches a whole character; write the emoji itself or \\u{…} with its code point`;
}

function EMPTY_ROUND(written: string): string {
  return `repeats "${written}", whose inside would rather match nothing than text; JavaScript and the linear-time engine answer such a repetition differently, so make the repeated part match at least one character (e.g. "(|a)*" or "(a??)+" → "a*")`;
}

function TOO_MANY_REPEATS(written: string): string {
  return `repeats "${written}", more than the linear-time engine allows (at most ${MAX_REPEAT}); use + or * for long runs`;
}

// === Compiling

const FLAG_SETS: Record<string, LinearRegexFlags> = { '': '', i: 'i', u: 'u', iu: 'iu', ui: 'iu' };

/**
 * Compiles an operator pattern for the linear-time engine. Throws `SyntaxError` when it is not a valid
 * JavaScript pattern (the message JavaScript gives), {@link LinearRegexError} when RE2 cannot run it.
 *
 * @example compileLinearRegex('^(a|a)*$').test('a'.repeat(100_000) + 'b') // false, at once
 * @see https://github.com/google/re2/wiki/Syntax
 */
export function compileLinearRegex(source: string, flags: string = ''): LinearRegex {
  const set = FLAG_SETS[flags];
  if (set === undefined) throw new TypeError(`compileLinearRegex: flags must be a combination of i and u, not "${flags}"`);
  new RegExp(source, set); // the operator writes JavaScript syntax: its errors are JavaScript's
  const { re2, names } = new Translator(source, set.includes('u')).run();
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(re2, set.includes('i') ? RE2JS.CASE_INSENSITIVE : 0);
  } catch (err) {
    const message = (err as Error).message.replace(/^error parsing regexp: /, '');
    if (/invalid repeat count/.test(message))
      throw new LinearRegexError(
        `repeats too much ("${message.replace(/^invalid repeat count: `?|`$/g, '')}" inside another repetition): the linear-time engine allows at most ${MAX_REPEAT} in all; use + or * for long runs`,
      );
    throw new LinearRegexError(`cannot run on the linear-time engine: ${message}`);
  }
  return new Re2Pattern(source, set, re2, compiled, names);
}

/**
 * Compiles an operator pattern, or says why it cannot be used, as the end of an operator message
 * (after the pattern itself).
 *
 * @example tryCompileLinearRegex('a(') // { problem: 'is not a valid regular expression: Unterminated group' }
 * tryCompileLinearRegex('(?<=#)\\d+') // { problem: 'uses a lookbehind "(?<=…)", which cannot run in linear time; …' }
 * @see https://github.com/google/re2/wiki/Syntax
 */
export function tryCompileLinearRegex(source: string, flags: string = ''): { regex: LinearRegex; problem?: undefined } | { regex?: undefined; problem: string } {
  try {
    return { regex: compileLinearRegex(source, flags) };
  } catch (err) {
    if (err instanceof LinearRegexError) return { problem: err.reason };
    if (err instanceof SyntaxError) return { problem: `is not a valid regular expression: ${err.message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '')}` };
    throw err;
  }
}

/**
 * Why `source` cannot be used as an operator pattern (see {@link tryCompileLinearRegex}), or
 * `undefined` when it can.
 *
 * @example linearRegexProblem('(a)\\1') // 'uses a backreference "\\1", which cannot run in linear time; …'
 * @see https://github.com/google/re2/wiki/Syntax
 */
export function linearRegexProblem(source: string, flags: string = ''): string | undefined {
  return tryCompileLinearRegex(source, flags).problem;
}

class Re2Pattern implements LinearRegex {
  constructor(
    readonly source: string,
    readonly flags: LinearRegexFlags,
    readonly re2Source: string,
    private readonly re: RE2JS,
    private readonly names: ReadonlyMap<number, string>,
  ) {}

  test(text: string): boolean {
    return this.re.test(text);
  }

  exec(text: string): LinearMatch | null {
    // The DFA answers "no" without tracking groups, several times faster than a full exec.
    if (!this.re.test(text)) return null;
    const r = this.re.exec(text);
    if (r === null) return null;
    const captures = Array.from(r as (string | undefined)[], (g) => (g === null ? undefined : g));
    if (this.names.size === 0) return { index: (r as unknown as { index: number }).index, captures };
    const groups: Record<string, string | undefined> = {};
    for (const [n, name] of this.names) groups[name] = captures[n];
    return { index: (r as unknown as { index: number }).index, captures, groups };
  }
}
