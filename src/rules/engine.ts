/**
 * Deciding what to do with a message: a pure function of (message, compiled rules, now). Rules are
 * tried in order; the first match wins unless it says `continue: true` (then later rules are tried
 * too and their actions appended). When no terminal rule matched, a follow gets the `welcome`
 * actions and a user message the `default` actions; other events get nothing.
 *
 * @example const d = decide(textMessage, config.rules, clock.now()); d.matched[0]?.ruleId;
 * @see https://github.com/Wechat-Group/WxJava/blob/develop/weixin-java-mp/src/main/java/me/chanjar/weixin/mp/api/WxMpMessageRouter.java
 */
import type { InboundMessage } from '../wechat/inbound';
import type { DecidedAction } from './actions';
import type { CompiledRules, MatchCaptures } from './compile-rules';

/** Pseudo rule ids used when the top-level `default` / `welcome` actions apply. */
export const DEFAULT_RULE_ID = '#default';
export const WELCOME_RULE_ID = '#welcome';

export interface MatchedRule extends MatchCaptures {
  ruleId: string;
}

/**
 * What `decide()` returns: the rules that matched (in order) and their actions, flattened, each
 * tagged with its rule id.
 */
export interface Decision {
  matched: MatchedRule[];
  actions: DecidedAction[];
}

/** True for messages a person sent (text, image, …), as opposed to events. */
function isUserMessage(m: InboundMessage): boolean {
  return m.MsgType !== 'event' && m.MsgType !== 'unknown';
}

/**
 * Runs the compiled rules against one message. Pure: no I/O, no clock, no randomness.
 * `ignoreWindows` is for tooling (e.g. "does any rule handle this menu key at all?").
 *
 * @example decide({ MsgType: 'event', Event: 'CLICK', EventKey: 'HELP', … }, rules, Date.now())
 * @see https://github.com/Wechat-Group/WxJava/blob/develop/weixin-java-mp/src/main/java/me/chanjar/weixin/mp/api/WxMpMessageRouterRule.java
 */
export function decide(message: InboundMessage, rules: CompiledRules, now: number, options?: { ignoreWindows?: boolean }): Decision {
  const matched: MatchedRule[] = [];
  const actions: DecidedAction[] = [];
  const testOptions = options?.ignoreWindows ? { ignoreWindow: true } : undefined;
  let terminal = false;
  for (const rule of rules.candidates(message)) {
    const r = rule.test(message, now, testOptions);
    if (!r) continue;
    matched.push({ ruleId: rule.id, ...r });
    for (const a of rule.actions) actions.push({ ...a, ruleId: rule.id });
    if (!rule.continue) {
      terminal = true;
      break;
    }
  }
  if (!terminal) {
    const isFollow = message.MsgType === 'event' && message.Event === 'subscribe';
    const fallback = isFollow ? rules.welcome : isUserMessage(message) ? rules.default : [];
    if (fallback.length > 0) {
      const ruleId = isFollow ? WELCOME_RULE_ID : DEFAULT_RULE_ID;
      matched.push({ ruleId });
      for (const a of fallback) actions.push({ ...a, ruleId });
    }
  }
  return { matched, actions };
}
