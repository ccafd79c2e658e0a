/**
 * Actions, reply specs and messages in words, one line each: what `rules explain` prints and what the
 * console's rule tester shows beside the rule that matched.
 *
 * @example describeAction({ type: 'grant', campaign: 'welcome-packet', replies: {} }) // 'grant from campaign "welcome-packet"'
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
import type { InboundMessage } from '../wechat/inbound';
import { GRANT_OUTCOMES, type Action, type ReplySpec } from './actions';

function describeSpec(spec: ReplySpec): string {
  switch (spec.kind) {
    case 'text':
      return `text ${JSON.stringify(spec.text.length > 60 ? `${spec.text.slice(0, 57)}...` : spec.text)}`;
    case 'template':
      return `template "${spec.template}"${spec.vars ? ` with ${Object.keys(spec.vars).join(', ')}` : ''}`;
    case 'random':
      return `one of ${spec.random.length} at random: ${spec.random.map(describeSpec).join(' | ')}`;
    case 'image':
    case 'voice':
    case 'video':
      return `${spec.kind} ${spec.mediaId}`;
    case 'music':
      return `music ${spec.title ?? spec.thumbMediaId}`;
    case 'news':
      return `news "${spec.articles[0]?.title ?? ''}"`;
    case 'none':
      return 'no reply';
  }
}

/**
 * One line per action, as shown by `rules explain`.
 *
 * @example describeAction({ type: 'grant', campaign: 'welcome-packet', replies: {} }) // 'grant from campaign "welcome-packet"'
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
export function describeAction(a: Action): string {
  switch (a.type) {
    case 'reply':
      return `reply: ${describeSpec(a.reply)}`;
    case 'grant': {
      const own = GRANT_OUTCOMES.filter((o) => a.replies[o]);
      return `grant from campaign "${a.campaign}"${own.length ? ` (own replies for ${own.join(', ')})` : ''}`;
    }
    case 'transfer_customer_service':
      return `transfer to customer service${a.kfAccount ? ` (agent ${a.kfAccount})` : ''}`;
  }
}

/**
 * A message in words: `text "hello"`, `event CLICK with key "HELP"`, `location`.
 *
 * @example describeMessage(textMessage) // 'text "hello"'
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
 */
export function describeMessage(m: InboundMessage): string {
  if (m.MsgType === 'text') return `text ${JSON.stringify(m.Content)}`;
  if (m.MsgType === 'event') {
    const key = (m as unknown as { EventKey?: string }).EventKey;
    return `event ${m.Event}${key ? ` with key ${JSON.stringify(key)}` : ''}`;
  }
  return m.MsgType;
}
