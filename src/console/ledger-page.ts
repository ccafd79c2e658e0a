/**
 * The Ledger page (`/console/ledger`): search the grants by follower, bill number, campaign, state and
 * Beijing days, page by page; a grant's detail with its history and WeChat Pay's answers; the CSV of
 * the current search. Every route reads the search the same way (`ledger-query.ts`: a bad field is a
 * 400 naming it and how to fix it), and the ledger binds every value (`findGrants`).
 *
 * - `GET /console/ledger` — the search page; `GET /console/ledger/grants/:id` — a grant's detail;
 * - `GET /console/api/ledger/grants` and `/console/api/ledger/grants/:id` — the same as JSON;
 * - `GET /console/api/ledger/export.csv` — the CSV download (audited: `ledger.export`).
 *
 * @example CONSOLE_PAGES = [overviewPage, ledgerPage, …]
 */
import { Readable } from 'node:stream';
import type { Router } from '@koa/router';
import type { ConsoleContext, ConsoleDeps, ConsolePage, ConsoleState } from './console-page';
import { csvFileName, ledgerCsv } from './ledger-csv';
import { LEDGER_MESSAGES } from './ledger-messages';
import { parseLedgerQuery, queryStringOf, type LedgerQuery } from './ledger-query';
import { grantDetail, grantView } from './ledger-view';
import { renderPage } from './render';
import { GRANT_STATUSES } from '../rewards/ledger';

/** One page of a search: the grants shown and the count of all that match. */
async function search(deps: ConsoleDeps, q: LedgerQuery) {
  const [total, grants] = await Promise.all([deps.ledger.countGrants(q.filter), deps.ledger.findGrants(q.filter, { limit: q.size, offset: (q.page - 1) * q.size })]);
  return { total, pages: Math.max(1, Math.ceil(total / q.size)), grants: grants.map(grantView) };
}

/** A grant id from the path, or undefined. */
const idOf = (raw: string | undefined): number | undefined => (raw !== undefined && /^[1-9]\d{0,14}$/.test(raw) ? Number(raw) : undefined);

function badId(ctx: ConsoleContext): void {
  ctx.status = 400;
  ctx.body = {
    ok: false,
    problems: [{ field: 'id', value: String(ctx.params.id).slice(0, 60), message: 'is not a grant id', fix: 'give the number of the grant (a positive whole number)' }],
  };
}

/** The search of an API request, or undefined once a 400 naming the problems is answered. */
function apiQuery(ctx: ConsoleContext): LedgerQuery | undefined {
  const q = parseLedgerQuery(ctx.query);
  if (q.ok) return q;
  ctx.status = 400;
  ctx.body = { ok: false, problems: q.problems };
  return undefined;
}

async function searchPage(ctx: ConsoleContext, deps: ConsoleDeps): Promise<void> {
  const t = ctx.state.view!.t;
  const q = parseLedgerQuery(ctx.query);
  const locals = { title: t('ledger.title'), statuses: GRANT_STATUSES, fields: q.fields, queryStringOf };
  if (!q.ok) {
    ctx.status = 400;
    return renderPage(ctx, 'ledger', { ...locals, problems: q.problems, result: undefined, page: 1 });
  }
  renderPage(ctx, 'ledger', { ...locals, problems: [], result: await search(deps, q), page: q.page });
}

async function searchApi(ctx: ConsoleContext, deps: ConsoleDeps): Promise<void> {
  const q = apiQuery(ctx);
  if (!q) return;
  ctx.body = { ok: true, page: q.page, size: q.size, ...(await search(deps, q)) };
}

async function detailPage(ctx: ConsoleContext, deps: ConsoleDeps): Promise<void> {
  const t = ctx.state.view!.t;
  const id = idOf(ctx.params.id);
  const detail = id === undefined ? undefined : await grantDetail(deps.ledger, id);
  if (!detail) {
    ctx.status = id === undefined ? 400 : 404;
    return renderPage(ctx, 'not-found', { title: t('ledger.notFound') });
  }
  renderPage(ctx, 'ledger-detail', { title: t('ledger.detail', { id: detail.grant.id }), ...detail });
}

async function detailApi(ctx: ConsoleContext, deps: ConsoleDeps): Promise<void> {
  const id = idOf(ctx.params.id);
  if (id === undefined) return badId(ctx);
  const detail = await grantDetail(deps.ledger, id);
  ctx.status = detail ? 200 : 404;
  ctx.body = detail ? { ok: true, ...detail } : { ok: false, message: `no grant ${id} in this ledger` };
}

async function exportCsv(ctx: ConsoleContext, deps: ConsoleDeps): Promise<void> {
  const q = apiQuery(ctx);
  if (!q) return;
  const rows = await deps.ledger.countGrants(q.filter);
  await deps.audit.record({
    session: ctx.state.session.id,
    action: 'ledger.export',
    target: queryStringOf(q.fields, { page: undefined, size: undefined, lang: undefined }) || 'all',
    detail: { rows },
  });
  ctx.set('content-disposition', `attachment; filename="${csvFileName(deps.clock.now())}"`);
  ctx.set('cache-control', 'no-store');
  ctx.type = 'text/csv; charset=utf-8';
  ctx.body = Readable.from(ledgerCsv(deps.ledger, q.filter));
}

export const ledgerPage: ConsolePage = {
  id: 'ledger',
  path: '/console/ledger',
  title: { en: 'Ledger', 'zh-CN': '账本' },
  messages: LEDGER_MESSAGES,
  mount(router: Router<ConsoleState>, deps: ConsoleDeps) {
    router.get('/console/ledger', (ctx) => searchPage(ctx, deps));
    router.get('/console/ledger/grants/:id', (ctx) => detailPage(ctx, deps));
    router.get('/console/api/ledger/grants', (ctx) => searchApi(ctx, deps));
    router.get('/console/api/ledger/grants/:id', (ctx) => detailApi(ctx, deps));
    router.get('/console/api/ledger/export.csv', (ctx) => exportCsv(ctx, deps));
  },
};
