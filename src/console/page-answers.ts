/**
 * How the pages of console-pages answer: JSON `{ ok: true, … }`, or `{ ok: false, message }` with a
 * status (400 for bad input, with the reason in words); and the first value of a query field.
 *
 * @example if (!parsed.ok) return answerError(ctx, 400, parsed.error);
 */
import type { ConsoleContext } from './console-page';

/** Answers JSON with `ok: true` and the data. */
export function answerJson(ctx: ConsoleContext, data: Record<string, unknown>): void {
  ctx.body = { ok: true, ...data };
}

/** Answers JSON `{ ok: false, message }` with the status. */
export function answerError(ctx: ConsoleContext, status: number, message: string): void {
  ctx.status = status;
  ctx.body = { ok: false, message };
}

/** The query as plain fields (a repeated field keeps its first value). */
export function queryFields(ctx: ConsoleContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(ctx.query)) {
    const first = Array.isArray(v) ? v[0] : v;
    if (typeof first === 'string') out[k] = first;
  }
  return out;
}
