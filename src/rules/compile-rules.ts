/**
 * Compiles a validated rules file once per config load into predicates and indexes, so deciding is a
 * handful of map lookups plus the few rules that need scanning: exact keywords and exact event keys
 * go into `Map`s, regexes are compiled once, and each message kind gets a cached list of the rules
 * that could apply to it. Rule order is always preserved.
 *
 * Also reports what the schema alone cannot see: conditions that contradict each other (content on
 * an event rule, a scene on a CLICK rule) as errors, and rules that can never match as warnings.
 *
 * @example const { rules, errors, warnings } = compileRules(parsedRulesFile);
 * @see https://github.com/grammyjs/grammY/blob/main/src/filter.ts
 */
import { CARD_EVENT_NAMES, type EventName, type InboundMessage, type MsgType } from '../wechat/inbound';
import { KEYED_EVENTS } from '../wechat/parse-inbound';
import { hhmm, isoDateOf, shanghaiParts, shanghaiToEpoch } from '../lib/clock';
import { tryCompileLinearRegex, type LinearRegex, type LinearRegexFlags } from '../lib/linear-regex';
import type { Action } from './actions';
import type { ContentMatch, DateBound, MatchSpec, RuleSpec, RulesFile, WindowSpec } from './schema';

// === Types

/** What a rule's regex captured: positional groups (`[0]` is the whole match) and named groups. */
export interface MatchCaptures {
  captures?: string[];
  named?: Record<string, string>;
}

/**
 * One compiled rule. `test` is the full predicate (conditions + window); `kinds` lists the message
 * kinds it can apply to (`text`, `event:CLICK`, …; `undefined` = any).
 */
export interface CompiledRule {
  readonly id: string;
  /** Position in `rules:` (0-based). */
  readonly index: number;
  readonly continue: boolean;
  readonly actions: readonly Action[];
  readonly kinds: ReadonlySet<string> | undefined;
  /** The conditions in words, for `rules explain`. */
  readonly conditions: readonly string[];
  readonly hasWindow: boolean;
  /** Returns the captures (possibly empty) when the rule matches, `undefined` otherwise. */
  test(message: InboundMessage, now: number, options?: { ignoreWindow?: boolean }): MatchCaptures | undefined;
}

/**
 * The compiled rule set: the ordered list, the top-level `default` and `welcome` actions, and the
 * candidate lookup used by `decide()`.
 */
export interface CompiledRules {
  readonly list: readonly CompiledRule[];
  readonly default: readonly Action[];
  readonly welcome: readonly Action[];
  /** Rules that could match `message`, in rule order (a superset of the matching ones). */
  candidates(message: InboundMessage): readonly CompiledRule[];
}

/** A problem found while compiling, with its path in the rules file. */
export interface RuleIssue {
  path: (string | number)[];
  message: string;
}

// === Message kinds

/** The kind of a message: its MsgType, or `event:<Event>` for events. */
export function messageKind(m: InboundMessage): string {
  return m.MsgType === 'event' ? `event:${m.Event}` : m.MsgType;
}

const SCENE_EVENTS: readonly EventName[] = ['subscribe', 'SCAN'];
const CARD_EVENTS_WITH_CARD_ID: readonly EventName[] = CARD_EVENT_NAMES.filter((e) => e !== 'card_pay_order' && e !== 'card_merchant_check_result');

function field(m: InboundMessage, name: string): string | undefined {
  const v = (m as unknown as Record<string, unknown>)[name];
  return typeof v === 'string' ? v : undefined;
}

/** A check that the value `read` finds in a message is one of `values` (a message without one fails). */
function isOneOf(values: readonly string[], read: (m: InboundMessage) => string | undefined): Check {
  const wanted = new Set(values);
  return (m) => {
    const v = read(m);
    return v !== undefined && wanted.has(v);
  };
}

function sceneOf(m: InboundMessage): string | undefined {
  if (m.MsgType !== 'event') return undefined;
  if (m.Event === 'subscribe') return m.Scene || undefined;
  if (m.Event === 'SCAN') return m.EventKey || undefined;
  return undefined;
}

// === Windows

/** Compiles a window into a predicate on epoch milliseconds (Asia/Shanghai wall clock). */
function compileWindow(w: WindowSpec): (now: number) => boolean {
  const toEpoch = (b: DateBound) => shanghaiToEpoch(b.year, b.month, b.day, b.hour, b.minute, b.second);
  const from = w.from ? toEpoch(w.from) : -Infinity;
  const to = w.to ? (w.to.dateOnly ? shanghaiToEpoch(w.to.year, w.to.month, w.to.day + 1) : toEpoch(w.to)) : Infinity;
  const weekdays = w.weekdays ? new Set(w.weekdays) : undefined;
  const hours = w.hours;
  return function inWindow(now: number): boolean {
    if (now < from || now >= to) return false;
    if (!weekdays && !hours) return true;
    const p = shanghaiParts(now);
    if (weekdays && !weekdays.has(p.weekday)) return false;
    if (hours) {
      const minute = p.hour * 60 + p.minute;
      return hours.some((h) => (h.start < h.end ? minute >= h.start && minute < h.end : minute >= h.start || minute < h.end));
    }
    return true;
  };
}

function describeWindow(w: WindowSpec): string {
  const parts: string[] = [];
  const fmt = (b: DateBound) => isoDateOf(b.year, b.month, b.day) + (b.dateOnly ? '' : ` ${hhmm(b.hour * 60 + b.minute)}`);
  if (w.from) parts.push(`from ${fmt(w.from)}`);
  if (w.to) parts.push(`to ${fmt(w.to)}`);
  if (w.weekdays) parts.push(`on ${w.weekdays.map((d) => ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'][d - 1]).join('/')}`);
  if (w.hours) {
    parts.push(`between ${w.hours.map((h) => `${hhmm(h.start)}-${hhmm(h.end)}`).join(', ')}`);
  }
  return `window: ${parts.join(' ')} (Asia/Shanghai)`;
}

// === One rule

type Check = (m: InboundMessage) => boolean;
type Capture = (m: InboundMessage) => MatchCaptures | undefined;

interface RuleCompilation {
  rule: CompiledRule;
  /** Exact content keys (already lower-cased when ignoreCase). */
  exact?: { keys: string[]; ignoreCase: boolean };
  /** Exact event+key pairs. */
  eventKeys?: string[];
  /** True when nothing but msgType/event constrains the rule (and no window, not continue). */
  catchAll: boolean;
  /** True when the exact keywords are the rule's only condition (no window, not continue). */
  onlyExact: boolean;
}

function quoteList(list: readonly string[]): string {
  return list.map((s) => JSON.stringify(s)).join(' or ');
}

function regexCapture(re: LinearRegex, get: (m: InboundMessage) => string | undefined): Capture {
  return (m) => {
    const v = get(m);
    if (v === undefined) return undefined;
    const r = re.exec(v);
    if (!r) return undefined;
    const named = r.groups ? Object.fromEntries(Object.entries(r.groups).map(([k, g]) => [k, g ?? ''])) : undefined;
    return { captures: r.captures.map((g) => g ?? ''), ...(named ? { named } : {}) };
  };
}

/**
 * An operator pattern on the linear-time engine (the schema has already refused what it cannot run;
 * should anything slip through, it becomes an error at `path`, never a crash or a backtracking regex).
 */
function operatorRegex(source: string, flags: LinearRegexFlags, path: (string | number)[], issues: RuleIssue[]): LinearRegex | undefined {
  const r = tryCompileLinearRegex(source, flags);
  if (r.problem !== undefined) issues.push({ path, message: `${JSON.stringify(source)} ${r.problem}` });
  return r.regex;
}

/** Adds a regex condition to `captures`; a refused pattern (the config is refused too) never matches. */
function addRegex(re: LinearRegex | undefined, get: (m: InboundMessage) => string | undefined, captures: Capture[]): void {
  captures.push(re ? regexCapture(re, get) : () => undefined);
}

/** Compiles an operator pattern found at a path under the rule's `match` (refusals become issues). */
type CompileRegex = (source: string, flags: LinearRegexFlags, ...path: string[]) => LinearRegex | undefined;

function compileContent(c: ContentMatch, checks: Check[], captures: Capture[], conditions: string[], regex: CompileRegex) {
  const ic = c.ignoreCase === true;
  const norm = (s: string) => (ic ? s.toLowerCase() : s);
  const textOf = (m: InboundMessage) => (m.MsgType === 'text' ? norm(m.Content.trim()) : undefined);
  const how = ic ? ' (ignoring case)' : '';
  const exactList = c.equals ?? c.keywords;
  if (exactList) {
    const set = new Set(exactList.map((s) => norm(s.trim())));
    checks.push((m) => {
      const t = textOf(m);
      return t !== undefined && set.has(t);
    });
    conditions.push(`text is ${quoteList(exactList)}${how}`);
    return { keys: [...set], ignoreCase: ic };
  }
  if (c.contains) {
    const list = c.contains.map(norm);
    checks.push((m) => {
      const t = textOf(m);
      return t !== undefined && list.some((s) => t.includes(s));
    });
    conditions.push(`text contains ${quoteList(c.contains)}${how}`);
  } else if (c.prefix) {
    const list = c.prefix.map(norm);
    checks.push((m) => {
      const t = textOf(m);
      return t !== undefined && list.some((s) => t.startsWith(s));
    });
    conditions.push(`text starts with ${quoteList(c.prefix)}${how}`);
  } else if (c.regex !== undefined) {
    addRegex(regex(c.regex, ic ? 'i' : '', 'content', 'regex'), (m) => (m.MsgType === 'text' ? m.Content.trim() : undefined), captures);
    conditions.push(`text matches /${c.regex}/${ic ? 'i' : ''}`);
  }
  return undefined;
}

function compileRule(spec: RuleSpec, index: number, issues: RuleIssue[]): RuleCompilation {
  const match: MatchSpec = spec.match ?? {};
  const at = (...p: (string | number)[]) => ['rules', index, 'match', ...p];
  const checks: Check[] = [];
  const captures: Capture[] = [];
  const conditions: string[] = [];

  // Kinds: explicit msgType/event, narrowed by what the other conditions imply.
  const msgTypes = match.msgType ? new Set<MsgType>(match.msgType) : undefined;
  let events: Set<EventName> | undefined = match.event ? new Set(match.event) : undefined;
  const needsEvent =
    match.eventKey !== undefined ||
    match.eventKeyRegex !== undefined ||
    match.scene !== undefined ||
    match.sceneRegex !== undefined ||
    match.hasScene !== undefined ||
    match.cardId !== undefined;
  if (match.event && msgTypes && !msgTypes.has('event'))
    issues.push({ path: at('event'), message: `an event rule needs msgType event (msgType is ${[...msgTypes].join(', ')})` });
  if (match.content && msgTypes && !msgTypes.has('text'))
    issues.push({ path: at('content'), message: `content applies to text messages only (msgType is ${[...msgTypes].join(', ')})` });
  if (match.content && (events || needsEvent))
    issues.push({ path: at('content'), message: 'content applies to text messages only; it cannot be combined with event conditions' });
  if (needsEvent && msgTypes && !msgTypes.has('event'))
    issues.push({ path: at('msgType'), message: `event conditions need msgType event (msgType is ${[...msgTypes].join(', ')})` });

  const restrictEvents = (allowed: readonly EventName[], what: string, key: string) => {
    if (events) {
      const bad = [...events].filter((e) => !allowed.includes(e));
      if (bad.length > 0) issues.push({ path: at(key), message: `${what} applies only to ${allowed.join(', ')} events (not ${bad.join(', ')})` });
    } else events = new Set(allowed);
  };
  if (match.scene !== undefined || match.sceneRegex !== undefined) restrictEvents(SCENE_EVENTS, 'scene', match.scene ? 'scene' : 'sceneRegex');
  if (match.hasScene !== undefined) restrictEvents(['subscribe'], 'hasScene', 'hasScene');
  if (match.eventKey !== undefined || match.eventKeyRegex !== undefined) restrictEvents(KEYED_EVENTS, 'eventKey', match.eventKey ? 'eventKey' : 'eventKeyRegex');
  if (match.cardId !== undefined) restrictEvents(CARD_EVENTS_WITH_CARD_ID, 'cardId', 'cardId');

  let kinds: Set<string> | undefined;
  if (events) kinds = new Set([...events].map((e) => `event:${e}`));
  else if (match.content) kinds = new Set(['text']);
  else if (msgTypes) kinds = new Set(msgTypes);
  if (msgTypes) conditions.push(`msgType is ${[...msgTypes].join(' or ')}`);
  if (match.event) conditions.push(`event is ${match.event.join(' or ')}`);

  // Conditions.
  let exact: RuleCompilation['exact'];
  const regex: CompileRegex = (source, flags, ...path) => operatorRegex(source, flags, at(...path), issues);
  if (match.content) exact = compileContent(match.content, checks, captures, conditions, regex);
  let eventKeys: string[] | undefined;
  if (match.eventKey) {
    checks.push(isOneOf(match.eventKey, (m) => field(m, 'EventKey')));
    conditions.push(`event key is ${quoteList(match.eventKey)}`);
    if (events) eventKeys = [...events].flatMap((e) => match.eventKey!.map((k) => `${e}\u0000${k}`));
  }
  if (match.eventKeyRegex !== undefined) {
    addRegex(regex(match.eventKeyRegex, '', 'eventKeyRegex'), (m) => field(m, 'EventKey'), captures);
    conditions.push(`event key matches /${match.eventKeyRegex}/`);
  }
  if (match.scene) {
    checks.push(isOneOf(match.scene, sceneOf));
    conditions.push(`QR scene is ${quoteList(match.scene)}`);
  }
  if (match.sceneRegex !== undefined) {
    addRegex(regex(match.sceneRegex, '', 'sceneRegex'), sceneOf, captures);
    conditions.push(`QR scene matches /${match.sceneRegex}/`);
  }
  if (match.hasScene !== undefined) {
    const want = match.hasScene;
    checks.push((m) => (sceneOf(m) !== undefined) === want);
    conditions.push(want ? 'the follow came from a QR code (has a scene)' : 'the follow did not come from a QR code (no scene)');
  }
  if (match.cardId) {
    checks.push(isOneOf(match.cardId, (m) => field(m, 'CardId')));
    conditions.push(`card id is ${quoteList(match.cardId)}`);
  }
  const inWindow = spec.window ? compileWindow(spec.window) : undefined;
  if (spec.window) conditions.push(describeWindow(spec.window));
  if (conditions.length === 0) conditions.push('always (no conditions)');

  const kindMatches = (m: InboundMessage) => kinds === undefined || kinds.has(messageKind(m)) || (m.MsgType === 'event' && kinds.has('event'));

  const rule: CompiledRule = {
    id: spec.id,
    index,
    continue: spec.continue === true,
    actions: spec.actions,
    kinds,
    conditions,
    hasWindow: inWindow !== undefined,
    test(m, now, options) {
      if (!kindMatches(m)) return undefined;
      for (const c of checks) if (!c(m)) return undefined;
      if (inWindow && !options?.ignoreWindow && !inWindow(now)) return undefined;
      let result: MatchCaptures = {};
      for (const cap of captures) {
        const r = cap(m);
        if (!r) return undefined;
        if (result.captures === undefined) result = r; // the first regex's groups are the rule's captures
      }
      return result;
    },
  };
  const catchAll = checks.length === 0 && captures.length === 0 && inWindow === undefined && spec.continue !== true && !match.content;
  const onlyExact = exact !== undefined && checks.length === 1 && captures.length === 0 && inWindow === undefined && spec.continue !== true;
  return { rule, exact, eventKeys, catchAll, onlyExact };
}

// === Rules that can never match

/** True when every text `later`'s exact keywords accept is also accepted by `earlier`'s. */
function keywordsCovered(earlier: NonNullable<RuleCompilation['exact']>, later: NonNullable<RuleCompilation['exact']>): boolean {
  if (!earlier.ignoreCase && later.ignoreCase) return false; // "Help" would pass the later rule only
  const have = new Set(earlier.keys);
  return later.keys.every((k) => have.has(earlier.ignoreCase ? k.toLowerCase() : k));
}

/**
 * Warnings for rules an earlier rule always answers first (first match wins unless `continue`).
 * Only what can be proved is reported: an earlier rule without `continue` or `window` that is a
 * catch-all for the later rule's message kinds, or whose only condition is exact keywords that
 * include every keyword of the later rule (with a case rule at least as broad). Anything else — a
 * window, `continue`, another condition on the earlier rule, keywords only partly shared — might
 * let the later rule run, so it gets no warning.
 */
function shadowedRules(compiled: readonly RuleCompilation[]): RuleIssue[] {
  const out: RuleIssue[] = [];
  const catchAlls: RuleCompilation[] = [];
  const keywordRules: RuleCompilation[] = [];
  for (const c of compiled) {
    const k = c.rule.kinds;
    const all = catchAlls.find(
      (s) => s.rule.kinds === undefined || (k !== undefined && [...k].every((x) => s.rule.kinds!.has(x) || (x.startsWith('event:') && s.rule.kinds!.has('event')))),
    );
    const exact = c.exact;
    const word = all || !exact ? undefined : keywordRules.find((s) => keywordsCovered(s.exact!, exact));
    if (all)
      out.push({
        path: ['rules', c.rule.index],
        message: `rule "${c.rule.id}" can never match: rule "${all.rule.id}" (rules[${all.rule.index}]) above matches every ${
          all.rule.kinds === undefined ? 'message' : [...all.rule.kinds].join('/') + ' message'
        } first`,
      });
    else if (word)
      out.push({
        path: ['rules', c.rule.index],
        message: `rule "${c.rule.id}" can never match: rule "${word.rule.id}" (rules[${word.rule.index}]) above answers ${quoteList(
          exact!.keys,
        )}${word.exact!.ignoreCase ? ' (ignoring case)' : ''} first; remove one, or give the earlier rule \`continue: true\``,
      });
    if (c.catchAll) catchAlls.push(c);
    if (c.onlyExact) keywordRules.push(c);
  }
  return out;
}

// === The rule set

/**
 * Rule ids used twice, as errors at the later one. `undefined` entries (a rule whose id could not
 * be read) are skipped, so this also runs on a rules file that failed its schema.
 *
 * @example duplicateRuleIds(['a', 'b', 'a']) // [{ path: ['rules', 2, 'id'], message: 'duplicate rule id "a" (also rules[0])' }]
 * @see https://github.com/Wechat-Group/WxJava/blob/develop/weixin-java-mp/src/main/java/me/chanjar/weixin/mp/api/WxMpMessageRouterRule.java
 */
export function duplicateRuleIds(ids: readonly (string | undefined)[]): RuleIssue[] {
  const out: RuleIssue[] = [];
  const seen = new Map<string, number>();
  ids.forEach((id, i) => {
    if (id === undefined) return;
    const prev = seen.get(id);
    if (prev !== undefined) out.push({ path: ['rules', i, 'id'], message: `duplicate rule id "${id}" (also rules[${prev}])` });
    else seen.set(id, i);
  });
  return out;
}

/**
 * Compiles the parsed rules file. `errors` refuse the config; `warnings` do not.
 *
 * @example const { rules } = compileRules(rulesFileSchema.parse(data)); decide(msg, rules, Date.now());
 * @see https://github.com/grammyjs/grammY/blob/main/src/filter.ts
 */
export function compileRules(file: RulesFile): { rules: CompiledRules; errors: RuleIssue[]; warnings: RuleIssue[] } {
  const errors: RuleIssue[] = [];
  const warnings: RuleIssue[] = [];
  errors.push(...duplicateRuleIds(file.rules.map((r) => r.id)));

  const compiled = file.rules.map((r, i) => compileRule(r, i, errors));
  const list = compiled.map((c) => c.rule);

  warnings.push(...shadowedRules(compiled));

  // Indexes.
  const exactCs = new Map<string, number[]>();
  const exactCi = new Map<string, number[]>();
  const byEventKey = new Map<string, number[]>();
  const indexed = new Set<number>();
  const add = (map: Map<string, number[]>, key: string, i: number) => {
    const arr = map.get(key);
    if (!arr) map.set(key, [i]);
    else if (arr[arr.length - 1] !== i) arr.push(i);
  };
  for (const c of compiled) {
    const i = c.rule.index;
    if (c.exact) {
      for (const k of c.exact.keys) add(c.exact.ignoreCase ? exactCi : exactCs, k, i);
      indexed.add(i);
    } else if (c.eventKeys) {
      for (const k of c.eventKeys) add(byEventKey, k, i);
      indexed.add(i);
    }
  }
  const scanCache = new Map<string, CompiledRule[]>();
  function scanListFor(m: InboundMessage): CompiledRule[] {
    const kind = messageKind(m);
    let l = scanCache.get(kind);
    if (!l) {
      l = list.filter((r) => !indexed.has(r.index) && (r.kinds === undefined || r.kinds.has(kind) || (m.MsgType === 'event' && r.kinds.has('event'))));
      if (scanCache.size < 256) scanCache.set(kind, l);
    }
    return l;
  }
  function indexHits(m: InboundMessage): number[] {
    if (m.MsgType === 'text') {
      const t = m.Content.trim();
      const a = exactCs.get(t);
      const b = exactCi.size > 0 ? exactCi.get(t.toLowerCase()) : undefined;
      if (a && b) return [...new Set([...a, ...b])].sort((x, y) => x - y);
      return a ?? b ?? [];
    }
    if (m.MsgType === 'event' && byEventKey.size > 0) {
      const k = field(m, 'EventKey');
      if (k !== undefined) return byEventKey.get(`${m.Event}\u0000${k}`) ?? [];
    }
    return [];
  }

  const rules: CompiledRules = {
    list,
    default: file.default,
    welcome: file.welcome,
    candidates(m) {
      const scan = scanListFor(m);
      const hits = indexHits(m);
      if (hits.length === 0) return scan;
      const out: CompiledRule[] = [];
      let i = 0;
      let j = 0;
      while (i < scan.length || j < hits.length) {
        if (j >= hits.length || (i < scan.length && scan[i].index < hits[j])) out.push(scan[i++]);
        else out.push(list[hits[j++]]);
      }
      return out;
    },
  };
  return { rules, errors, warnings };
}
