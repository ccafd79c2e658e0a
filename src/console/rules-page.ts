/**
 * The Rule tester (`/console/rules`): type a text, pick a menu click, a follow with a scene, or an
 * order amount, and see which rule matches and why (file:line, conditions), the reply as the
 * follower would see it (its text, and the XML rendered from the real views, shown escaped) and the
 * reward a grant would ask for — the engine of `wechat-bot rules explain` (`rule-tester.ts`). A GET
 * with the form's fields: it changes nothing, grants nothing, touches no ledger.
 *
 * Routes: `GET /console/rules` (page), `GET /console/api/rules/explain?kind=text&text=hello` (JSON).
 *
 * @example CONSOLE_PAGES = [..., rulesPage]
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
import { createReplyRenderer } from '../reply/render-reply';
import { GRANT_OUTCOMES } from '../rules/actions';
import type { ConsoleContext, ConsoleDeps, ConsolePage } from './console-page';
import { answerJson, answerPageError, queryFields, type PageError } from './page-answers';
import { renderPage } from './render';
import { parseRuleTestInput } from './rule-test-input';
import { clickKeysOf, runRuleTest, type RuleTestResult } from './rule-tester';
import { RULES_MESSAGES } from './rules-messages';

type Tested = { result?: RuleTestResult; error?: PageError };

async function test(deps: ConsoleDeps, renderer: ReturnType<typeof createReplyRenderer>, q: Record<string, string>): Promise<Tested> {
  const config = deps.config.current();
  const parsed = parseRuleTestInput(
    q,
    clickKeysOf(config).map((k) => k.key),
  );
  if (!parsed.ok) return { error: parsed.error };
  return { result: await runRuleTest(parsed.input, { config, renderer, now: deps.clock.now() }) };
}

export const rulesPage: ConsolePage = {
  id: 'rules',
  path: '/console/rules',
  title: { en: 'Rule tester', 'zh-CN': '规则测试' },
  messages: RULES_MESSAGES,
  mount(router, deps) {
    const renderer = createReplyRenderer({ viewsDir: deps.settings.viewsDir });
    router.get('/console/rules', async (ctx: ConsoleContext) => {
      const q = queryFields(ctx);
      const tested = q.kind ? await test(deps, renderer, q) : {};
      if (tested.error) ctx.status = 400;
      renderPage(ctx, 'rules', { title: ctx.state.view!.t('rules.title'), q, keys: clickKeysOf(deps.config.current()), outcomes: GRANT_OUTCOMES, ...tested });
    });
    router.get('/console/api/rules/explain', async (ctx: ConsoleContext) => {
      const tested = await test(deps, renderer, queryFields(ctx));
      if (tested.error) return answerPageError(ctx, 400, tested.error);
      answerJson(ctx, { result: tested.result });
    });
  },
};
