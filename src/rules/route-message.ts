/**
 * The message router: what the bot does with one typed inbound message, in order —
 *
 * 1. `followers` are told of its sender (in sandbox mode the stand-in notes that this follower interacted, as WeChat
 *    would: custom messages to them are allowed for 48 hours);
 * 2. a card event first updates the card ledger (receipt, gift, deletion, redemption, reviews);
 * 3. the rules decide the reply (they may still answer a card event).
 *
 * A failure in step 2 propagates, so the webhook answers `success` and logs it (WeChat re-sends the
 * event, and card events are applied idempotently). The router knows no transport: the Koa edge calls
 * it through `dispatch`, and it returns the reply value.
 *
 * @example
 * const route = createMessageRouter({ cards, rules: createMessageHandler(deps) });
 * const reply = await route(message, { encrypted: false });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Coupons_Vouchers_and_Cards_Event_Push_Messages.html
 */
import type { Reply } from '../reply/reply';
import { isCardEvent, type CardEvent, type InboundMessage } from '../wechat/inbound';

/** How the message arrived (as the webhook's `Delivery`). */
export interface MessageDelivery {
  /** True when it came in safe or compatible mode. */
  encrypted: boolean;
}

/** Options of {@link createMessageRouter}. */
export interface MessageRouterDeps {
  /**
   * Told of every follower who sends something, first (sandbox mode: the API stand-in, which then
   * allows custom messages to them for 48 hours, as WeChat does). Must not throw.
   */
  followers?: { touch(openId: string): void };
  /** Applies a card event to the card ledger before the rules run (the card service). */
  cards?: { handleEvent(event: CardEvent): Promise<unknown> };
  /** Decides the reply: the rules' handler (`createMessageHandler`). */
  rules: (message: InboundMessage, delivery: MessageDelivery) => Promise<Reply>;
}

/**
 * Builds the router: followers, card events, then rules. Checks its dependencies now.
 *
 * @example createMessageRouter({ rules: createMessageHandler({ config, rewards, clock, log }) })
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
 */
export function createMessageRouter(deps: MessageRouterDeps): (message: InboundMessage, delivery: MessageDelivery) => Promise<Reply> {
  if (!deps || typeof deps.rules !== 'function') throw new TypeError('createMessageRouter: deps.rules must be the rules handler');
  const { followers, cards, rules } = deps;
  return async function routeMessage(message, delivery) {
    followers?.touch(message.FromUserName);
    if (cards && isCardEvent(message)) await cards.handleEvent(message);
    return rules(message, delivery);
  };
}
