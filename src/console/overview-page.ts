/**
 * The Overview page (`/console`): per campaign its state, budget and packets used, sends today against
 * the merchant's daily limits; the hourly chart of grants, sends, claims and refunds; open alerts.
 *
 * @example CONSOLE_PAGES = [overviewPage, …]
 */
import type { ConsolePage } from './console-page';
import { renderPage } from './render';

export const overviewPage: ConsolePage = {
  id: 'overview',
  path: '/console',
  title: { en: 'Overview', 'zh-CN': '概览' },
  mount(router) {
    router.get('/console', (ctx) => renderPage(ctx, 'overview', { title: ctx.state.view!.t('console.name') }));
  },
};
