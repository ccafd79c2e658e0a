/**
 * The Overview page (`/console`): per campaign its state (active, paused and why, off, ended), budget
 * and packets used, sends today; today's totals against the merchant's daily limits; the hourly chart
 * of grants, sends, claims and refunds (drawn by `views/console/static/overview.js` with chart.js from
 * `GET /console/api/overview/activity?range=24h|7d`); the open alerts. `GET /console/api/overview` is
 * the same data as JSON.
 *
 * @example CONSOLE_PAGES = [overviewPage, …]
 */
import { shanghaiParts } from '../lib/clock';
import type { ConsolePage } from './console-page';
import { type ActivityRange, ACTIVITY_RANGES, activitySeries, overviewData } from './overview-data';
import { OVERVIEW_MESSAGES } from './overview-messages';
import { renderPage } from './render';

const rangeOf = (v: unknown): ActivityRange => (typeof v === 'string' && Object.hasOwn(ACTIVITY_RANGES, v) ? (v as ActivityRange) : '24h');

/** `12-04 19:00`: a bucket's start as a short Beijing label for the chart's axis. */
function hourLabel(ms: number): string {
  const p = shanghaiParts(ms);
  return `${p.isoDate.slice(5)} ${String(p.hour).padStart(2, '0')}:00`;
}

export const overviewPage: ConsolePage = {
  id: 'overview',
  path: '/console',
  title: { en: 'Overview', 'zh-CN': '概览' },
  messages: OVERVIEW_MESSAGES,
  mount(router, deps) {
    router.get('/console', async (ctx) => {
      const data = await overviewData(deps);
      renderPage(ctx, 'overview', {
        title: ctx.state.view!.t('overview.title'),
        data,
        range: rangeOf(ctx.query.range),
        scripts: ['/console/static/vendor/chart.umd.min.js', '/console/static/overview.js'],
      });
    });
    router.get('/console/api/overview', async (ctx) => {
      ctx.body = { ok: true, ...(await overviewData(deps)) };
    });
    router.get('/console/api/overview/activity', async (ctx) => {
      const range = rangeOf(ctx.query.range);
      const buckets = await activitySeries(deps, range);
      ctx.body = { ok: true, range, buckets: buckets.map((b) => ({ ...b, label: hourLabel(b.start) })) };
    });
  },
};
