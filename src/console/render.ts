/**
 * Renders a console page: `views/console/<view>.ejs` inside `views/console/layout.ejs` (the package's
 * views, not the operator's BOT_VIEWS_DIR), as HTML with the locals every page has — `t` (the
 * request's language), `lang`, `csrf` (the session's token, for forms), `nav`, `fmt` (yuan and Beijing
 * time, from lib/money and lib/clock) — plus the page's own (`title` names the tab; `scripts`, a list of
 * `/console/static/…` paths, are loaded with `defer` after the console's own script). Templates are compiled once per file and
 * escape every `<%= %>`; nothing inline runs (the CSP forbids inline scripts: pages load their scripts
 * from /console/static/).
 *
 * @example renderPage(ctx, 'overview', { title: ctx.state.view!.t('overview.title'), campaigns })
 * @see https://ejs.co/#docs
 */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import ejs from 'ejs';
import { beijingTime } from '../lib/clock';
import { fenToYuan } from '../lib/money';
import { packageViewsDir } from '../lib/package-views-dir';
import type { ConsoleContext, ConsoleLang, ConsoleNavItem } from './console-page';

/** The formatting helpers of every view. */
export const fmt = {
  /** Fen as yuan with two decimals: `1234` → `"12.34"`. */
  yuan: (fen: number): string => fenToYuan(fen),
  /** Epoch ms as Beijing time with the zone: `"2026-12-04 19:30 (UTC+8)"`. */
  time: (ms: number): string => beijingTime(ms),
};

/** What the layout shows around a view. */
interface Chrome {
  t: (key: string, vars?: Record<string, string | number>) => string;
  lang: ConsoleLang;
  csrf: string;
  nav: ConsoleNavItem[];
  /** The path of the page shown (its nav item is marked). */
  current: string;
}

const compiled = new Map<string, ejs.TemplateFunction>();

/** The console's views folder (`views/console` of the package). */
export function consoleViewsDir(): string {
  return path.join(packageViewsDir(), 'console');
}

function template(view: string): ejs.TemplateFunction {
  if (!/^[a-z][a-z0-9-]*$/.test(view)) throw new TypeError(`renderPage: bad view name ${JSON.stringify(view)}`);
  const file = path.join(consoleViewsDir(), `${view}.ejs`);
  let fn = compiled.get(file);
  if (!fn) {
    fn = ejs.compile(readFileSync(file, 'utf8'), { filename: file, strict: false });
    compiled.set(file, fn);
  }
  return fn;
}

/** Renders `view` inside the layout with the given chrome; sets the body and the HTML type. */
export function renderWithChrome(ctx: ConsoleContext, view: string, chrome: Chrome, locals: Record<string, unknown> = {}): void {
  const all = { ...locals, ...chrome, fmt };
  const body = template(view)(all);
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = template('layout')({ ...all, body, title: typeof locals.title === 'string' ? locals.title : chrome.t('console.name') });
}

/**
 * Renders a page of the signed-in console: the view inside the layout with `{ t, lang, csrf, nav, fmt }`
 * and the page's locals (`title` names the page in the tab).
 *
 * @example router.get('/console/ledger', (ctx) => renderPage(ctx, 'ledger', { title: 'Ledger', rows }));
 */
export function renderPage(ctx: ConsoleContext, view: string, locals: Record<string, unknown> = {}): void {
  const { session, lang, view: v } = ctx.state;
  if (!v) throw new Error('renderPage: no console view in ctx.state (is the route mounted on the console router?)');
  renderWithChrome(ctx, view, { t: v.t, lang, csrf: session.csrf, nav: v.nav, current: ctx.path }, locals);
}
