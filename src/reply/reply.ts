/**
 * Passive replies as values. The edge renders them with the EJS template of their type in `views/`.
 *
 * @example const r: Reply = { type: 'text', content: 'hello' };
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */

/**
 * How many articles a passive news reply may carry. WeChat's current rule is one article when replying
 * to a user message (multi-article news was restricted to one on 2018-10-12); older docs said 10.
 */
export const MAX_NEWS_ARTICLES = 1;

export interface NewsArticle {
  title: string;
  description?: string;
  picUrl?: string;
  url?: string;
}

export type Reply =
  | { type: 'text'; content: string }
  | { type: 'image'; mediaId: string }
  | { type: 'voice'; mediaId: string }
  | { type: 'video'; mediaId: string; title?: string; description?: string }
  | {
      type: 'music';
      title?: string;
      description?: string;
      musicUrl?: string;
      hqMusicUrl?: string;
      thumbMediaId: string;
    }
  | { type: 'news'; articles: NewsArticle[] }
  | { type: 'transfer_customer_service'; kfAccount?: string }
  /** No passive reply: the edge answers the literal `success`. */
  | { type: 'none' };

export type ReplyType = Reply['type'];

export const REPLY_TYPES = {
  text: true,
  image: true,
  voice: true,
  video: true,
  music: true,
  news: true,
  transfer_customer_service: true,
  none: true,
} as const satisfies Record<ReplyType, true>;

export const NO_REPLY: Reply = { type: 'none' };
