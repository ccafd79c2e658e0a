/**
 * The body of a console POST, parsed once per request (the CSRF check reads it, then the page): a form
 * (`application/x-www-form-urlencoded`) or JSON object, at most 16 KiB. Anything else is an empty
 * object; a body too large or malformed throws a 400/413 Koa error.
 *
 * @example const { token, _csrf } = await readConsoleBody(ctx);
 */
import type { Context } from 'koa';
import { readRawBody } from '../lib/read-raw-body';
import { parseQueryString } from '../lib/query-string';

export type ConsoleBody = Record<string, unknown>;

const LIMIT_BYTES = 16 * 1024;
const parsed = new WeakMap<object, ConsoleBody>();

export async function readConsoleBody(ctx: Pick<Context, 'req' | 'is' | 'throw'>): Promise<ConsoleBody> {
  const known = parsed.get(ctx.req);
  if (known) return known;
  const kind = ctx.is('urlencoded', 'json');
  let body: ConsoleBody = {};
  if (kind) {
    const text = await readRawBody(ctx.req, {
      limitBytes: LIMIT_BYTES,
      timeoutMs: 10_000,
      fail: (why) => Object.assign(new Error(`console body: ${why}`), { status: why === 'too_large' ? 413 : 400, expose: true }),
    });
    if (kind === 'json') {
      let value: unknown;
      try {
        value = text === '' ? {} : JSON.parse(text);
      } catch {
        ctx.throw(400, 'the body is not JSON');
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) ctx.throw(400, 'the body must be a JSON object');
      body = value as ConsoleBody;
    } else body = { ...parseQueryString(text) };
  }
  parsed.set(ctx.req, body);
  return body;
}
