/**
 * The Orders page (`/console/orders`, spend-and-get): the payment orders the bot recorded, newest
 * first, with the spend rule and tier that applied and what each earned — `orders-view.ts`, the
 * figures of `wechat-bot orders`. Read only; `beforeId` pages to older orders.
 *
 * Routes: `GET /console/orders?beforeId=N` (page), `GET /console/api/orders?limit=N&beforeId=N` (JSON).
 *
 * @example CONSOLE_PAGES = [..., ordersPage]
 * @see https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7&index=8
 */
import type { ConsoleContext, ConsoleDeps, ConsolePage } from './console-page';
import { ORDERS_MESSAGES } from './orders-messages';
import { MAX_ORDERS_PAGE, ordersView } from './orders-view';
import { answerJson, answerPageError, queryFields, type PageError } from './page-answers';
import { renderPage } from './render';

/** `limit` and `beforeId` from the query, or why they are refused. */
function pageOf(q: Record<string, string>): { limit?: number; beforeId?: number } | PageError {
  const out: { limit?: number; beforeId?: number } = {};
  for (const name of ['limit', 'beforeId'] as const) {
    const v = q[name];
    if (v === undefined || v === '') continue;
    if (!/^\d{1,15}$/.test(v) || Number(v) < 1) return { key: 'orders.error.number', vars: { name } };
    out[name] = Number(v);
  }
  if (out.limit !== undefined && out.limit > MAX_ORDERS_PAGE) return { key: 'orders.error.limit', vars: { max: MAX_ORDERS_PAGE } };
  return out;
}

async function load(ctx: ConsoleContext, deps: ConsoleDeps) {
  const page = pageOf(queryFields(ctx));
  return 'key' in page ? page : ordersView(deps, page);
}

export const ordersPage: ConsolePage = {
  id: 'orders',
  path: '/console/orders',
  title: { en: 'Orders', 'zh-CN': '订单' },
  messages: ORDERS_MESSAGES,
  mount(router, deps) {
    router.get('/console/orders', async (ctx: ConsoleContext) => {
      const view = await load(ctx, deps);
      if ('key' in view) ctx.status = 400;
      renderPage(ctx, 'orders', { title: ctx.state.view!.t('orders.title'), ...('key' in view ? { error: view, view: { rows: [] } } : { view }) });
    });
    router.get('/console/api/orders', async (ctx: ConsoleContext) => {
      const view = await load(ctx, deps);
      if ('key' in view) return answerPageError(ctx, 400, view);
      answerJson(ctx, { ...view });
    });
  },
};
