/**
 * How the pages of console-pages answer: JSON `{ ok: true, … }`, or `{ ok: false, message }` with a
 * status (400 for bad input, with the reason in words, in the request's language: a `PageError` is a
 * message key and its values); and the first value of a query field.
 *
 * @example if (!parsed.ok) return answerError(ctx, 400, parsed.error);
 */
import type { ConsoleContext } from './console-page';

/** Bad input, said in the request's language: a message key of the page's messages and its values. */
export interface PageError {
  key: string;
  vars?: Record<string, string | number>;
}

/** A refused input: `{ ok: false, error }` for the checkers' answers. */
export function refuse(key: string, vars?: PageError['vars']): { ok: false; error: PageError } {
  return { ok: false, error: { key, ...(vars ? { vars } : {}) } };
}

/** The error's text in the request's language. */
export function textOf(ctx: ConsoleContext, e: PageError): string {
  return ctx.state.view ? ctx.state.view.t(e.key, e.vars) : e.key;
}

/** Answers JSON with `ok: true` and the data. */
export function answerJson(ctx: ConsoleContext, data: Record<string, unknown>): void {
  ctx.body = { ok: true, ...data };
}

/** Answers JSON `{ ok: false, message }` with the status. */
export function answerError(ctx: ConsoleContext, status: number, message: string): void {
  ctx.status = status;
  ctx.body = { ok: false, message };
}

/** Answers JSON `{ ok: false, message }` for bad input, the message in the request's language. */
export function answerPageError(ctx: ConsoleContext, status: number, e: PageError): void {
  answerError(ctx, status, textOf(ctx, e));
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
