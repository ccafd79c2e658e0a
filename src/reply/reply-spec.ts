/**
 * Reply specs: a reply as the operator wrote it (rules.yaml), before variables are filled in. They live
 * beside the replies they are built into (`buildReply()`), so reply/ depends on nothing in rules/.
 */
import type { NewsArticle } from './reply';

/**
 * A reply as the operator wrote it, before variables are filled in. Strings containing EJS tags
 * (`<%= text %>`) are rendered with the message's variables; see `buildReply()`.
 *
 * @example { kind: 'template', template: 'order-status', vars: { shop: 'Nanjing Road' } }
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
export type ReplySpec =
  | { kind: 'text'; text: string }
  /** A named EJS template from `views/templates/<template>.ejs`, rendered as a text reply. */
  | { kind: 'template'; template: string; vars?: Readonly<Record<string, string>> }
  /** One of several replies, picked uniformly at random. */
  | { kind: 'random'; random: readonly ReplySpec[] }
  | { kind: 'image'; mediaId: string }
  | { kind: 'voice'; mediaId: string }
  | { kind: 'video'; mediaId: string; title?: string; description?: string }
  | { kind: 'music'; thumbMediaId: string; title?: string; description?: string; musicUrl?: string; hqMusicUrl?: string }
  | { kind: 'news'; articles: readonly NewsArticle[] }
  /** Explicitly no reply (WeChat gets `success`). */
  | { kind: 'none' };

export type ReplySpecKind = ReplySpec['kind'];

/** Every reply-spec kind; `satisfies` makes a new kind break the build until listed. */
export const REPLY_SPEC_KINDS = {
  text: true,
  template: true,
  random: true,
  image: true,
  voice: true,
  video: true,
  music: true,
  news: true,
  none: true,
} as const satisfies Record<ReplySpecKind, true>;
