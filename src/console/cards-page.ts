/**
 * The Cards page (`/console/cards`): per card of cards.yaml its card_id, review state and sub-merchant,
 * the `wechat-bot cards report` counts beside WeChat's own statistics, and each sub-merchant's review
 * state — `cards-view.ts`. Read only; no card code is ever shown (the page has counts, not codes).
 *
 * Routes: `GET /console/cards` (page), `GET /console/api/cards` (JSON).
 *
 * @example CONSOLE_PAGES = [..., cardsPage]
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Managing_Coupons_Vouchers_and_Cards.html
 */
import { cardsConfigOf } from '../cards/cards';
import type { ConsoleContext, ConsoleDeps, ConsolePage } from './console-page';
import { CARDS_MESSAGES } from './cards-messages';
import { cardsView } from './cards-view';
import { answerJson } from './page-answers';
import { renderPage } from './render';

const load = (deps: ConsoleDeps) => cardsView({ cards: deps.cards, config: () => cardsConfigOf(deps.config.current().files) });

export const cardsPage: ConsolePage = {
  id: 'cards',
  path: '/console/cards',
  title: { en: 'Cards', 'zh-CN': '卡券' },
  messages: CARDS_MESSAGES,
  mount(router, deps) {
    router.get('/console/cards', async (ctx: ConsoleContext) => renderPage(ctx, 'cards', { title: ctx.state.view!.t('cards.title'), view: await load(deps) }));
    router.get('/console/api/cards', async (ctx: ConsoleContext) => answerJson(ctx, { ...(await load(deps)) }));
  },
};
