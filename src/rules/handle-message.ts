/**
 * What the bot does with one typed inbound message: the message router, then the rules' handler.
 *
 * The router ({@link createMessageRouter}), in order: 1. `followers` are told of its sender (in
 * sandbox mode the stand-in notes that this follower interacted, as WeChat would: custom messages to
 * them are allowed for 48 hours); 2. a card event first updates the card ledger (receipt, gift,
 * deletion, redemption, reviews); 3. the rules decide the reply (they may still answer a card event).
 * A failure in step 2 propagates, so the webhook answers `success` and logs it (WeChat re-sends the
 * event, and card events are applied idempotently).
 *
 * The handler ({@link createMessageHandler}): typed message in, reply value out. Takes one config
 * snapshot, decides (pure), then carries out the actions in order: grants go through the
 * `RewardsPort`; the first action that produces a reply wins (a grant's reply is the variant for its
 * outcome); a transfer hands over to customer service; no reply at all means `{ type: 'none' }`
 * (WeChat gets `success`).
 *
 * Both know no transport: the Koa edge calls the router through `dispatch`, and it returns the reply value.
 *
 * @example
 * const route = createMessageRouter({ cards, rules: createMessageHandler({ config: holder, rewards, clock: systemClock, log }) });
 * const reply = await route(message, { encrypted: false });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Coupons_Vouchers_and_Cards_Event_Push_Messages.html
 */
import type { Logger } from '../lib/logger';
import { fenToYuan } from '../lib/money';
import { type Clock, hhmm, shanghaiDateTimeText, shanghaiMinuteOfDay } from '../lib/clock';
import { dedupeKey, isCardEvent, type CardEvent, type InboundMessage } from '../wechat/inbound';
import { NO_REPLY, type Reply } from '../reply/reply';
import { buildReply, emptyTemplateVars, type CompiledTemplates, type TemplateVars } from '../reply/build-reply';
import type { CompiledRules } from './compile-rules';
import { decide } from './engine';
import { DEFAULT_GRANT_TEXTS, type GrantReplyKey, type ReplySpec, type RewardsPort } from './actions';

/**
 * The part of the loaded config the handler reads: a `BotConfig` (src/config) fits, so rules/ needs
 * nothing from config/.
 */
export interface MessageConfigView {
  readonly version: string;
  readonly rules: CompiledRules;
  readonly templates: CompiledTemplates;
  readonly files: { readonly campaigns: { readonly campaigns: Readonly<Record<string, { readonly replies: Readonly<Record<string, unknown>> }>> } };
}

export interface MessageHandlerDeps {
  /** Anything with `current()`: a `ConfigHolder`, or a fixed config in tests. */
  config: { current(): MessageConfigView };
  /** Where grants go; without it every grant answers `failed`. */
  rewards?: RewardsPort;
  clock: Clock;
  /** For `random:` replies (default `Math.random`). */
  random?: () => number;
  log: Logger;
}

/** The last second formatted by {@link shanghaiTimeString}: messages arrive many to a second. */
let lastTime = { second: NaN, text: '' };

/** `2026-02-01 09:30:00` in Beijing time. */
export function shanghaiTimeString(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second === lastTime.second) return lastTime.text;
  const text = shanghaiDateTimeText(ms);
  lastTime = { second, text };
  return text;
}

/** The built-in template variables of a message (before captures and grant fields). */
export function messageVars(message: InboundMessage, now: number): TemplateVars {
  const m = message as unknown as Record<string, unknown>;
  const str = (k: string) => (typeof m[k] === 'string' ? (m[k] as string) : '');
  let scene = '';
  if (message.MsgType === 'event' && message.Event === 'subscribe') scene = message.Scene ?? '';
  else if (message.MsgType === 'event' && message.Event === 'SCAN') scene = message.EventKey;
  return {
    ...emptyTemplateVars(),
    openid: message.FromUserName,
    text: message.MsgType === 'text' ? message.Content : '',
    scene,
    eventKey: str('EventKey'),
    now: shanghaiTimeString(now),
  };
}

/** HH:MM of an instant, Beijing time. */
function beijingHourMinute(ms: number): string {
  return hhmm(shanghaiMinuteOfDay(ms));
}

/**
 * Builds the handler. Validates its dependencies now, so a wiring mistake fails at start.
 *
 * @example createMessageHandler({ config: { current: () => config }, clock: fixedClock(t), log: silentLogger() })
 * @see https://github.com/node-webot/co-wechat/blob/master/lib/wechat.js
 */
export function createMessageHandler(deps: MessageHandlerDeps): (message: InboundMessage, delivery?: { encrypted: boolean }) => Promise<Reply> {
  if (!deps || !deps.config || typeof deps.config.current !== 'function') throw new TypeError('createMessageHandler: deps.config must have current()');
  if (!deps.clock || typeof deps.clock.now !== 'function') throw new TypeError('createMessageHandler: deps.clock is required');
  if (!deps.log) throw new TypeError('createMessageHandler: deps.log is required');
  if (deps.rewards !== undefined && typeof deps.rewards.grant !== 'function') throw new TypeError('createMessageHandler: deps.rewards must implement grant()');
  const random = deps.random ?? Math.random;
  const log = deps.log.child({ module: 'rules' });

  async function grant(
    campaign: string,
    message: InboundMessage,
    ruleId: string,
    now: number,
    via: 'encrypted' | 'plain',
  ): Promise<Awaited<ReturnType<RewardsPort['grant']>>> {
    if (!deps.rewards) return { outcome: 'failed', reason: 'rewards are not configured' };
    try {
      return await deps.rewards.grant({ campaign, openId: message.FromUserName, dedupeKey: dedupeKey(message), ruleId, now, via });
    } catch (err) {
      log.error({ err, campaign, ruleId }, 'grant failed');
      return { outcome: 'failed', reason: 'internal error' };
    }
  }

  function grantReplySpec(config: MessageConfigView, campaign: string, outcome: GrantReplyKey, own: ReplySpec | undefined): ReplySpec {
    if (own) return own;
    const campaigns = config.files.campaigns.campaigns;
    const c = Object.prototype.hasOwnProperty.call(campaigns, campaign) ? campaigns[campaign] : undefined;
    const text: unknown = c?.replies[outcome];
    return { kind: 'text', text: typeof text === 'string' ? text : DEFAULT_GRANT_TEXTS[outcome] };
  }

  /** `delivery` omitted counts as plain: a caller that does not know cannot vouch for encryption. */
  return async function handleMessage(message: InboundMessage, delivery?: { encrypted: boolean }): Promise<Reply> {
    const via = delivery?.encrypted === true ? 'encrypted' : 'plain';
    const config = deps.config.current(); // one snapshot for the whole message
    const now = deps.clock.now();
    const decision = decide(message, config.rules, now);
    const base = messageVars(message, now);
    const buildDeps = { templates: config.templates, random };
    let reply: Reply | undefined;

    const tryBuild = (spec: ReplySpec, vars: TemplateVars, ruleId: string): Reply | undefined => {
      try {
        return buildReply(spec, vars, buildDeps);
      } catch (err) {
        log.error({ err, ruleId }, 'reply could not be built');
        return undefined;
      }
    };

    for (const action of decision.actions) {
      const m = decision.matched.find((x) => x.ruleId === action.ruleId);
      const vars: TemplateVars = { ...base, captures: m?.captures ?? [], groups: m?.named ?? {} };
      switch (action.type) {
        case 'reply':
          if (!reply) reply = tryBuild(action.reply, vars, action.ruleId);
          break;
        case 'grant': {
          const result = await grant(action.campaign, message, action.ruleId, now, via);
          log.info({ ruleId: action.ruleId, campaign: action.campaign, outcome: result.outcome }, 'grant requested');
          if (!reply) {
            // A grant that waits for quiet hours to end answers with its own text, never "on its way".
            const key: GrantReplyKey = result.outcome === 'granted' && result.deferredUntil !== undefined ? 'deferred' : result.outcome;
            const spec = grantReplySpec(config, action.campaign, key, action.replies[key]);
            reply = tryBuild(
              spec,
              {
                ...vars,
                // Empty for a reward without money (a coupon), so no reply ever says "¥0.00".
                amount: result.amountFen && Number.isFinite(result.amountFen) ? fenToYuan(result.amountFen) : '',
                send_after: result.deferredUntil !== undefined ? beijingHourMinute(result.deferredUntil) : '',
                campaign: action.campaign,
                outcome: result.outcome,
                reason: result.reason ?? '',
              },
              action.ruleId,
            );
          }
          break;
        }
        case 'transfer_customer_service':
          if (!reply) reply = action.kfAccount ? { type: 'transfer_customer_service', kfAccount: action.kfAccount } : { type: 'transfer_customer_service' };
          break;
        default: {
          const never: never = action;
          throw new Error(`handleMessage: unknown action ${(never as { type: string }).type}`);
        }
      }
    }
    if (log.isLevelEnabled('debug')) log.debug({ rules: decision.matched.map((x) => x.ruleId), reply: reply?.type ?? 'none', config: config.version }, 'decided');
    return reply ?? NO_REPLY;
  };
}

// === The router: followers, card events, then the rules

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
