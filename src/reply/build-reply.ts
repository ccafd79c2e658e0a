/**
 * Turns a reply spec (as the operator wrote it) into a `Reply` value: fills EJS variables into text
 * (inline strings and the named templates in `views/templates/*.ejs`), picks one of several random
 * replies, and passes media replies through.
 *
 * Escaping: a template's output is plain text, not XML, because the XML renderer wraps every value
 * in CDATA (splitting `]]>`). So templates are compiled with an identity `escape`: `<%= x %>` and
 * `<%- x %>` both print `x` verbatim. Never paste template output into XML yourself.
 *
 * Templates are compiled once per config load (`compileTemplates()`); strings without `<%` are used
 * as they are.
 *
 * @example buildReply({ kind: 'text', text: 'Hi <%= openid %>' }, vars, { templates, random: Math.random })
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
import ejs from 'ejs';
import type { NewsArticle, Reply } from './reply';
import type { ReplySpec } from './reply-spec';

// === Variables

/**
 * The variables every template sees. Strings are never undefined (empty when not applicable), so a
 * template can print any of them without a guard.
 */
export interface TemplateVars {
  /** The follower's openid (`FromUserName`). */
  openid: string;
  /** The text the follower sent (`Content`), empty for events. */
  text: string;
  /** Regex groups of the matched rule: `[0]` is the whole match, `[1]` the first group, … */
  captures: string[];
  /** Named regex groups (`(?<order>\d+)` → `groups.order`). */
  groups: Record<string, string>;
  /** The QR scene of a follow or SCAN (without `qrscene_`). */
  scene: string;
  /** The event key (menu key, VIEW url, …). */
  eventKey: string;
  /** Current time in Beijing, `2026-02-01 09:30:00`. */
  now: string;
  /** For grant replies: the amount in yuan (`"1.00"`), when known. */
  amount: string;
  /** For grant replies: the campaign name. */
  campaign: string;
  /** For grant replies: the outcome (`granted`, `already_claimed`, …). */
  outcome: string;
  /** For grant replies: why it was refused, when known. */
  reason: string;
  /** For a deferred grant's reply: when its packet goes out (HH:MM Beijing time). */
  send_after: string;
}

/** Names a rule's `vars:` may not use, because the built-in variables have them. */
export const BUILTIN_VAR_NAMES: ReadonlySet<string> = new Set([
  'openid',
  'text',
  'captures',
  'groups',
  'scene',
  'eventKey',
  'now',
  'amount',
  'campaign',
  'outcome',
  'reason',
  'vars',
]);

/**
 * Empty variables (every field present), to be spread with the real ones; also used to dry-run
 * templates when the config is loaded.
 *
 * @example renderText('Hi <%= openid %>', { ...emptyTemplateVars(), openid: 'o1' })
 * @see https://ejs.co/#docs
 */
export function emptyTemplateVars(): TemplateVars {
  return { openid: '', text: '', captures: [], groups: {}, scene: '', eventKey: '', now: '', amount: '', campaign: '', outcome: '', reason: '', send_after: '' };
}

// === Templates

export type TemplateFn = (locals: Record<string, unknown>) => string;

/** Compiled templates: the named ones from `views/templates`, and inline strings (keyed by source). */
export interface CompiledTemplates {
  readonly named: ReadonlyMap<string, TemplateFn>;
  /** Inline strings with EJS tags, compiled at load; strings seen later are compiled and added. */
  readonly inline: Map<string, TemplateFn>;
}

const identity = (s: unknown) => (s === undefined || s === null ? '' : String(s));

/**
 * Compiles one EJS source with plain-text semantics (identity escape, no includes).
 * Throws the EJS syntax error (with line) when the source does not compile.
 *
 * @example compileTemplate('Order <%= groups.order %> is on its way', 'order-status')({ groups: { order: '42' } })
 * @see https://ejs.co/#docs
 */
export function compileTemplate(source: string, name = 'inline'): TemplateFn {
  const fn = ejs.compile(source, {
    escape: identity,
    client: false,
    async: false,
    compileDebug: true,
    filename: name,
    includer: () => {
      throw new Error(`${name}: include() is not supported in reply templates`);
    },
    // The copy into a prototype-less object that EJS would make is made here, and only when the
    // caller's locals are not prototype-less already (localsOf builds them so).
    unsafePrototypeLocals: true,
  } as ejs.Options) as unknown as TemplateFn;
  return function renderTemplate(locals) {
    return fn(Object.getPrototypeOf(locals) === null ? locals : Object.assign(Object.create(null) as Record<string, unknown>, locals));
  };
}

/**
 * Compiles named template sources and inline strings. Throws on the first source that does not compile
 * (the loader reports each one separately; see `loadTemplates`).
 *
 * @example compileTemplates({ help: 'Send "menu" …' }, ['Hi <%= openid %>'])
 * @see https://ejs.co/#docs
 */
export function compileTemplates(named: Record<string, string>, inline: readonly string[] = []): CompiledTemplates {
  const namedMap = new Map<string, TemplateFn>();
  for (const [n, src] of Object.entries(named)) namedMap.set(n, compileTemplate(src, n));
  const inlineMap = new Map<string, TemplateFn>();
  for (const s of inline) if (hasTags(s) && !inlineMap.has(s)) inlineMap.set(s, compileTemplate(s));
  return { named: namedMap, inline: inlineMap };
}

/** True when a string contains EJS tags and so needs rendering. */
export function hasTags(s: string): boolean {
  return s.includes('<%');
}

/**
 * A template's locals: a rule's own `vars` (also as `vars`), then the message's variables over them.
 * Prototype-less, so no name resolves through Object.prototype (see compileTemplate).
 */
function localsOf(vars: TemplateVars, extra?: Readonly<Record<string, string>>): Record<string, unknown> {
  const locals = Object.create(null) as Record<string, unknown>;
  if (extra) Object.assign(locals, extra);
  locals.vars = extra ?? {};
  return Object.assign(locals, vars);
}

function renderString(s: string | undefined, locals: Record<string, unknown>, templates: CompiledTemplates): string | undefined {
  if (s === undefined || !hasTags(s)) return s;
  let fn = templates.inline.get(s);
  if (!fn) {
    fn = compileTemplate(s);
    if (templates.inline.size < 10_000) templates.inline.set(s, fn);
  }
  return fn(locals);
}

// === Building

/**
 * Builds the reply for `spec`. `random` picks among `random:` alternatives (inject it for tests).
 * Throws when a named template is missing (the loader refuses such configs, so this means a bug).
 *
 * @example buildReply({ kind: 'template', template: 'help' }, vars, { templates, random: () => 0 })
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
export function buildReply(spec: ReplySpec, vars: TemplateVars, deps: { templates: CompiledTemplates; random: () => number }): Reply {
  const { templates } = deps;
  switch (spec.kind) {
    case 'text':
      return { type: 'text', content: renderString(spec.text, localsOf(vars), templates) ?? '' };
    case 'template': {
      const fn = templates.named.get(spec.template);
      if (!fn) throw new Error(`buildReply: no template named "${spec.template}" in views/templates`);
      // Template files end with a newline; a chat message should not.
      return { type: 'text', content: fn(localsOf(vars, spec.vars)).replace(/\s+$/, '') };
    }
    case 'random': {
      const n = spec.random.length;
      const i = Math.min(n - 1, Math.max(0, Math.floor(deps.random() * n)));
      return buildReply(spec.random[i], vars, deps);
    }
    case 'image':
      return { type: 'image', mediaId: spec.mediaId };
    case 'voice':
      return { type: 'voice', mediaId: spec.mediaId };
    case 'video': {
      const l = localsOf(vars);
      return {
        type: 'video',
        mediaId: spec.mediaId,
        ...(spec.title !== undefined ? { title: renderString(spec.title, l, templates) } : {}),
        ...(spec.description !== undefined ? { description: renderString(spec.description, l, templates) } : {}),
      };
    }
    case 'music': {
      const l = localsOf(vars);
      const out: Reply = { type: 'music', thumbMediaId: spec.thumbMediaId };
      for (const k of ['title', 'description', 'musicUrl', 'hqMusicUrl'] as const) {
        if (spec[k] !== undefined) out[k] = renderString(spec[k], l, templates);
      }
      return out;
    }
    case 'news': {
      const l = localsOf(vars);
      const articles: NewsArticle[] = spec.articles.map((a) => {
        const out: NewsArticle = { title: renderString(a.title, l, templates) ?? '' };
        for (const k of ['description', 'picUrl', 'url'] as const) if (a[k] !== undefined) out[k] = renderString(a[k], l, templates);
        return out;
      });
      return { type: 'news', articles };
    }
    case 'none':
      return { type: 'none' };
    default: {
      const never: never = spec;
      throw new Error(`buildReply: unknown reply kind ${(never as { kind: string }).kind}`);
    }
  }
}

/**
 * Every string of a spec that is rendered through EJS (for compiling and dry-running at load time).
 *
 * @example templateStringsOf({ kind: 'text', text: 'Hi <%= openid %>' }) // ['Hi <%= openid %>']
 * @see https://ejs.co/#docs
 */
export function templateStringsOf(spec: ReplySpec): string[] {
  switch (spec.kind) {
    case 'text':
      return [spec.text];
    case 'random':
      return spec.random.flatMap(templateStringsOf);
    case 'video':
      return [spec.title, spec.description].filter((s): s is string => s !== undefined);
    case 'music':
      return [spec.title, spec.description, spec.musicUrl, spec.hqMusicUrl].filter((s): s is string => s !== undefined);
    case 'news':
      return spec.articles.flatMap((a) => [a.title, a.description, a.picUrl, a.url]).filter((s): s is string => s !== undefined);
    default:
      return [];
  }
}
