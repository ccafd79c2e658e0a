/**
 * Card job "merchant approval": when WeChat approves a sub-merchant (`card_merchant_check_result`),
 * the cards of cards.yaml that waited for it are created — after the webhook has answered.
 *
 * @example return { handled: true, followUp: createWaitingCards(ctx, 'cafe') };
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Coupons_Vouchers_and_Cards_Event_Push_Messages.html
 */
import { describeApiError, type CardsContext } from './card-context';
import { syncCard, type CardSyncResult } from './card-sync';

/**
 * Creates the cards of cards.yaml that wait for sub-merchant `name` (no card_id yet), the same way
 * `cards sync` does. Started by the approval event and not awaited by the webhook; it runs on the
 * next turn of the event loop, so the answer to WeChat goes out first. Never rejects: errors are
 * logged, and the cards still wait for the next `cards sync`.
 */
export function createWaitingCards(ctx: CardsContext, name: string): Promise<CardSyncResult[]> {
  const { config, log, registry } = ctx;
  return new Promise<void>((resolve) => setImmediate(resolve))
    .then(async () => {
      const results: CardSyncResult[] = [];
      for (const def of Object.values(config().cards)) {
        if (def.subMerchant !== name || (await registry.getCard(def.name)).cardId) continue;
        const r = await syncCard(ctx, def).catch(async (err: unknown): Promise<CardSyncResult> => {
          const rec = await registry.getCard(def.name);
          return { name: def.name, action: 'failed', cardId: rec.cardId, status: rec.status, message: describeApiError(err) };
        });
        if (r.action === 'failed')
          log.error(
            { card: def.name, submerchant: name, reason: r.message },
            `card ${def.name} could not be created after ${name}'s approval: ${r.message} — run "cards sync"`,
          );
        else log.info({ card: def.name, submerchant: name, action: r.action, cardId: r.cardId }, `card ${def.name} after ${name}'s approval: ${r.message}`);
        results.push(r);
      }
      return results;
    })
    .catch((err: unknown) => {
      log.error({ err, submerchant: name }, `the cards waiting for ${name} could not be created — run "cards sync"`);
      return [];
    });
}
