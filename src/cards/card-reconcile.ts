/**
 * Card job "reconcile": SENT card grants checked through card data (`card/user/getcardlist`); a code
 * the bot has no record of is applied as its missed `user_get_card`.
 *
 * @example const report = await reconcileCardGrants(ctx, { limit: 100 });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Managing_Coupons_Vouchers_and_Cards.html
 */
import type { CardEvent } from '../wechat/inbound';
import { describeApiError, type CardsContext } from './card-context';
import { applyCardEvent } from './card-events';

/** What one {@link Cards.reconcile} run found. */
export interface CardReconcileReport {
  checked: number;
  /** Settled RECEIVED from a code found in the follower's card list. */
  received: number;
  unchanged: number;
  errors: number;
}

/**
 * Runs one reconciliation pass over SENT card grants, least recently checked first.
 *
 * @example await reconcileCardGrants(ctx)
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Managing_Coupons_Vouchers_and_Cards.html
 */
export async function reconcileCardGrants(ctx: CardsContext, opts: { limit?: number } = {}): Promise<CardReconcileReport> {
  const { ledger, config, clock, log, registry, tracker } = ctx;
  const report: CardReconcileReport = { checked: 0, received: 0, unchanged: 0, errors: 0 };
  for (const g of await ledger.listByStatus(['SENT'], { kind: 'card', limit: opts.limit ?? 500 })) {
    const cardName = String(g.payload.card ?? '');
    const rec = await registry.getCard(cardName);
    if (!rec.cardId) continue;
    report.checked += 1;
    let held: { code: string; cardId: string }[];
    try {
      held = await ctx.apiOf(config().cards[cardName]).card.userCardList(g.openId, rec.cardId);
    } catch (err) {
      report.errors += 1;
      log.warn({ grant: g.id, card: cardName, reason: describeApiError(err) }, 'card reconcile: card/user/getcardlist failed; will retry next run');
      continue;
    }
    for (const { code } of held) {
      if (code === '' || (await tracker.getCode(rec.cardId, code))) continue;
      // A code the bot never heard of: its user_get_card was missed (bot down, event lost).
      const missed = {
        ToUserName: '',
        FromUserName: g.openId,
        CreateTime: Math.floor(clock.now() / 1000),
        MsgType: 'event',
        Event: 'user_get_card',
        CardId: rec.cardId,
        UserCardCode: code,
        IsGiveByFriend: '0',
      } as CardEvent;
      await applyCardEvent(ctx, missed);
    }
    await ledger.markChecked(g.id, clock.now());
    const after = await ledger.getGrant(g.id);
    if (after?.status === 'RECEIVED') {
      report.received += 1;
      log.info({ grant: g.id, card: cardName }, 'card grant reconciled: the follower holds the card');
    } else report.unchanged += 1;
  }
  return report;
}
