/**
 * The console's languages: which one a request gets (`?lang=` switch, then the `console_lang` cookie,
 * then Accept-Language; English by default) and the translator over the merged messages (the
 * console's common strings and every page's own), with `{name}` placeholders.
 *
 * @example
 * const lang = chooseLang(ctx.query.lang, ctx.cookies.get(LANG_COOKIE), ctx.get('accept-language')); // 'zh-CN'
 * translator(messages, lang)('login.title') // '登录'
 * @see https://www.rfc-editor.org/rfc/rfc9110#name-accept-language
 */
import type { ConsoleLang, Messages } from './console-page';

export const LANGS: readonly ConsoleLang[] = ['en', 'zh-CN'];
export const LANG_COOKIE = 'console_lang';

/** A language tag we serve, or undefined (`zh`, `zh-cn`, `zh-Hans-CN` → `zh-CN`; `en-GB` → `en`). */
export function langOf(tag: unknown): ConsoleLang | undefined {
  if (typeof tag !== 'string') return undefined;
  const primary = tag.trim().toLowerCase().split('-')[0];
  return primary === 'zh' ? 'zh-CN' : primary === 'en' ? 'en' : undefined;
}

/** The best of our languages by Accept-Language's q-values (ties: first listed), or undefined. */
export function fromAcceptLanguage(header: string | undefined): ConsoleLang | undefined {
  let best: { lang: ConsoleLang; q: number } | undefined;
  for (const part of (header ?? '').split(',').slice(0, 20)) {
    const [tag, ...params] = part.split(';');
    const lang = langOf(tag);
    const qParam = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)).find((m) => m);
    const q = qParam ? Number(qParam[1]) : 1;
    if (lang && Number.isFinite(q) && q > 0 && (!best || q > best.q)) best = { lang, q };
  }
  return best?.lang;
}

/** The request's language: the switch, then the cookie, then the browser's, then English. */
export function chooseLang(query: unknown, cookie: string | undefined, acceptLanguage: string | undefined): ConsoleLang {
  return langOf(query) ?? langOf(cookie) ?? fromAcceptLanguage(acceptLanguage) ?? 'en';
}

/** Merges message tables (later ones win on the same key). */
export function mergeMessages(...tables: (Messages | undefined)[]): Messages {
  const out: Messages = { en: {}, 'zh-CN': {} };
  for (const table of tables) for (const lang of LANGS) Object.assign(out[lang], table?.[lang]);
  return out;
}

/** `t(key, vars)`: the key's text in `lang` (English when missing, the key itself when unknown). */
export function translator(messages: Messages, lang: ConsoleLang): (key: string, vars?: Record<string, string | number>) => string {
  return (key, vars) => {
    const text = messages[lang][key] ?? messages.en[key] ?? key;
    return vars ? text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole)) : text;
  };
}
