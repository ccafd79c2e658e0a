/**
 * The console's error funnel: a page or API that fails answers 500 with a short page (or
 * `{ ok: false, message }` on `/console/api/*`) naming the request id — never the error's message or
 * stack, which may carry a database address or a secret — and the error goes to `app.emit('error')`,
 * which logs it with that request id. A client mistake thrown with its status (`ctx.throw(400, …)`,
 * a body too large: 413) keeps its status and its message. The security headers set before stay.
 *
 * @example compose([securityHeaders(), consoleLanguage, consoleErrors(), …])
 * @see https://cheatsheetseries.owasp.org/cheatsheets/Error_Handling_Cheat_Sheet.html
 */
import type { Middleware } from 'koa';
import type { ConsoleContext, ConsoleState } from './console-page';
import { renderWithChrome } from './render';
import { isApiPath } from './session-guard';

interface HttpishError {
  status?: unknown;
  expose?: unknown;
  message?: unknown;
  headers?: unknown;
}

export function consoleErrors(): Middleware<ConsoleState> {
  return async function consoleErrorFunnel(ctx, next) {
    try {
      await next();
    } catch (err) {
      const e = (err ?? {}) as HttpishError;
      const status = typeof e.status === 'number' && e.status >= 400 && e.status < 500 ? e.status : 500;
      if (status === 500) ctx.app.emit('error', err, ctx);
      const reqId = (ctx.state as { requestId?: string }).requestId ?? '';
      const t = ctx.state.view?.t ?? ((key: string) => key);
      const message = status < 500 && e.expose === true && typeof e.message === 'string' ? e.message : t('error.internal', { reqId });
      if (status < 500 && e.headers && typeof e.headers === 'object') ctx.set(e.headers as Record<string, string>);
      ctx.status = status;
      if (isApiPath(ctx.path) || !ctx.state.view) ctx.body = { ok: false, message };
      else
        renderWithChrome(
          ctx as unknown as ConsoleContext,
          'error',
          { t, lang: ctx.state.lang, csrf: '', nav: [], current: ctx.path },
          { title: t('error.title'), message },
        );
    }
  };
}
