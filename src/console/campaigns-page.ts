/**
 * The Campaigns page (`/console/campaigns`): every campaign with its state and use, a pause form
 * (with a reason) or a resume button per campaign, and a form to cancel or reissue one grant by its
 * bill number. Forms post to `/console/campaigns/<action>` (the page is shown again with the result);
 * scripts and tests may post JSON to `/console/api/campaigns/<action>`. Both run
 * `campaign-actions.ts` (the CLI's operations, audited). Under them, the latest console actions of
 * the audit log (`GET /console/api/audit?limit=` gives up to 200).
 *
 * @example CONSOLE_PAGES = [overviewPage, campaignsPage, …]
 */
import { rewardsConfigOf } from '../config/config-views';
import { campaignStatuses } from '../rewards/campaign-control';
import { type ActionResult, CAMPAIGN_ACTIONS, type CampaignAction, runCampaignAction } from './campaign-actions';
import { CAMPAIGNS_MESSAGES } from './campaigns-messages';
import type { ConsoleContext, ConsoleDeps, ConsolePage } from './console-page';
import { readConsoleBody } from './read-body';
import { renderPage } from './render';

/** Console actions listed under the page (the API gives up to 200). */
const AUDIT_SHOWN = 20;

async function showPage(ctx: ConsoleContext, deps: ConsoleDeps, result?: ActionResult & { action: CampaignAction }): Promise<void> {
  const campaigns = await campaignStatuses(deps.ledger, rewardsConfigOf(deps.config.current()), deps.clock.now());
  const audit = await deps.audit.recent(AUDIT_SHOWN);
  renderPage(ctx, 'campaigns', { title: ctx.state.view!.t('campaigns.title'), campaigns, result, audit });
  if (result) ctx.status = result.status;
}

export const campaignsPage: ConsolePage = {
  id: 'campaigns',
  path: '/console/campaigns',
  title: { en: 'Campaigns', 'zh-CN': '活动管理' },
  messages: CAMPAIGNS_MESSAGES,
  mount(router, deps) {
    router.get('/console/campaigns', (ctx) => showPage(ctx, deps));
    router.get('/console/api/campaigns', async (ctx) => {
      ctx.body = { ok: true, campaigns: await campaignStatuses(deps.ledger, rewardsConfigOf(deps.config.current()), deps.clock.now()) };
    });
    router.get('/console/api/audit', async (ctx) => {
      const limit = Math.min(200, Math.max(1, Number(ctx.query.limit) || 50));
      ctx.body = { ok: true, records: await deps.audit.recent(limit) };
    });
    for (const action of CAMPAIGN_ACTIONS) {
      router.post(`/console/campaigns/${action}`, async (ctx) => {
        const result = await runCampaignAction(deps, ctx.state.session, action, await readConsoleBody(ctx));
        await showPage(ctx, deps, { ...result, action });
      });
      router.post(`/console/api/campaigns/${action}`, async (ctx) => {
        const result = await runCampaignAction(deps, ctx.state.session, action, await readConsoleBody(ctx));
        ctx.status = result.status;
        ctx.body = { ok: result.ok, message: result.message };
      });
    }
  },
};
