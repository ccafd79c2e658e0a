/**
 * The Sandbox panel (`/console/sandbox`, sandbox mode only): play a follower (a text, a menu click, a
 * follow with a scene) through the bot's real webhook, pay an order (a signed sandbox payment
 * notification), and mark the stand-in's red packets received or refund the unclaimed ones — so a
 * newcomer sees the whole loop in the browser. Every action is a POST with the CSRF token and is
 * audited (`sandbox-actions.ts`).
 *
 * Routes: `GET /console/sandbox`; `POST /console/sandbox/{play,pay,receive,refund,send-due,reconcile}` (forms, the page
 * with the result); `GET /console/api/sandbox/packets`, `POST /console/api/sandbox/{play,pay,receive,refund,send-due,reconcile}` (JSON).
 *
 * @example CONSOLE_PAGES = [..., sandboxPage]
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
 */
import type { ConsoleContext, ConsoleDeps, ConsolePage } from './console-page';
import type { ConsoleSandbox } from './console-sandbox';
import { answerError, answerJson, answerPageError } from './page-answers';
import { readConsoleBody } from './read-body';
import { renderPage } from './render';
import { clickKeysOf } from './rule-tester';
import { packetView, SANDBOX_ACTIONS, runSandboxAction, type SandboxActionOutcome } from './sandbox-actions';
import { SANDBOX_OPENID } from './sandbox-input';
import { SANDBOX_MESSAGES } from './sandbox-messages';

const NO_PANEL = 'the sandbox panel is not wired (sandbox mode only)';

function show(ctx: ConsoleContext, deps: ConsoleDeps, panel: ConsoleSandbox, outcome?: SandboxActionOutcome): void {
  renderPage(ctx, 'sandbox', {
    title: ctx.state.view!.t('sandbox.title'),
    keys: clickKeysOf(deps.config.current()),
    packets: panel.packets(),
    openid: SANDBOX_OPENID,
    outcome,
  });
}

export const sandboxPage: ConsolePage = {
  id: 'sandbox',
  path: '/console/sandbox',
  title: { en: 'Sandbox', 'zh-CN': '沙盒' },
  messages: SANDBOX_MESSAGES,
  sandboxOnly: true,
  mount(router, deps) {
    const panel = deps.sandboxPanel;
    router.get('/console/sandbox', (ctx: ConsoleContext) => (panel ? show(ctx, deps, panel) : answerError(ctx, 503, NO_PANEL)));
    router.get('/console/api/sandbox/packets', (ctx: ConsoleContext) =>
      panel ? answerJson(ctx, { packets: panel.packets().map(packetView) }) : answerError(ctx, 503, NO_PANEL),
    );
    for (const action of SANDBOX_ACTIONS) {
      const run = async (ctx: ConsoleContext) =>
        panel ? runSandboxAction(action, await readConsoleBody(ctx), { panel, audit: deps.audit, session: ctx.state.session.id }) : undefined;
      router.post(`/console/sandbox/${action}`, async (ctx: ConsoleContext) => {
        const outcome = await run(ctx);
        if (!outcome || !panel) return answerError(ctx, 503, NO_PANEL);
        ctx.status = outcome.status;
        show(ctx, deps, panel, outcome);
      });
      router.post(`/console/api/sandbox/${action}`, async (ctx: ConsoleContext) => {
        const outcome = await run(ctx);
        if (!outcome) return answerError(ctx, 503, NO_PANEL);
        if (outcome.error) return answerPageError(ctx, outcome.status, outcome.error);
        answerJson(ctx, { result: outcome.result });
      });
    }
  },
};
