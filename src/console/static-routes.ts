/**
 * The console's static files: our own page scripts and CSS from `views/console/static/`
 * (`/console/static/<file>`) and the chart library from node_modules (`/console/static/vendor/<file>`,
 * an allow-list: no CDN, deployments may have no internet). Flat names only (no `..`, no folders);
 * files are read once and kept. Served without a session (they are public code, no data).
 *
 * @example if (await serveStatic(ctx)) return;
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Context } from 'koa';
import { consoleViewsDir } from './render';

export const STATIC_PREFIX = '/console/static/';

/**
 * The vendor files served, by the name in the URL → the package and the file beside its main entry
 * (packages' `exports` hide their dist files from `require.resolve`).
 */
const VENDOR: Record<string, { pkg: string; file: string }> = { 'chart.umd.min.js': { pkg: 'chart.js', file: 'chart.umd.min.js' } };

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };
const NAME = /^[a-z0-9][a-z0-9._-]*$/;
const cache = new Map<string, Buffer>();

function fileOf(rest: string): string | undefined {
  if (rest.startsWith('vendor/')) {
    const name = rest.slice('vendor/'.length);
    const v = Object.hasOwn(VENDOR, name) ? VENDOR[name]! : undefined;
    return v && path.join(path.dirname(require.resolve(v.pkg)), v.file);
  }
  return NAME.test(rest) && !rest.includes('..') && TYPES[path.extname(rest)] ? path.join(consoleViewsDir(), 'static', rest) : undefined;
}

/** Answers a GET of a static file and returns true; false when the path is not one. */
export async function serveStatic(ctx: Pick<Context, 'path' | 'method' | 'type' | 'body' | 'status'>): Promise<boolean> {
  if (!ctx.path.startsWith(STATIC_PREFIX) || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return false;
  const file = fileOf(ctx.path.slice(STATIC_PREFIX.length));
  if (!file) return false;
  let data = cache.get(file);
  if (!data) {
    try {
      data = await readFile(file);
    } catch {
      return false;
    }
    cache.set(file, data);
  }
  ctx.type = TYPES[path.extname(file)] ?? 'application/octet-stream';
  ctx.body = data;
  return true;
}
