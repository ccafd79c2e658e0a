/**
 * Customer-service (custom) messages: `POST /cgi-bin/message/custom/send` and the typing indicator.
 * Only reach a follower within 48 h of their last interaction (else 45015). Also the delivery path of
 * late replies: `sendReply(openId, reply)` turns a passive {@link Reply} into the matching message.
 *
 * @example
 * await api.customMessage.text('OPENID', '你好');
 * await api.customMessage.sendReply('OPENID', { type: 'text', content: 'done' });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html
 */
import type { NewsArticle, Reply } from '../reply/reply';
import type { ApiRequest } from './request';

// === Message values

/** One custom message, camelCase; {@link buildCustomMessage} maps it to WeChat's JSON. */
export type CustomMessage =
  | { type: 'text'; content: string }
  | { type: 'image'; mediaId: string }
  | { type: 'voice'; mediaId: string }
  | { type: 'video'; mediaId: string; thumbMediaId?: string; title?: string; description?: string }
  | { type: 'music'; title?: string; description?: string; musicUrl?: string; hqMusicUrl?: string; thumbMediaId: string }
  /** One article (WeChat answers 45008 to more). */
  | { type: 'news'; article: NewsArticle }
  | { type: 'mpnews'; mediaId: string }
  | { type: 'mpnewsarticle'; articleId: string }
  | { type: 'wxcard'; cardId: string }
  | { type: 'miniprogrampage'; title: string; appId: string; pagePath: string; thumbMediaId: string }
  | { type: 'msgmenu'; headContent: string; list: { id: string; content: string }[]; tailContent: string };

/** The `msgtype` values of custom messages. */
export type CustomMessageType = CustomMessage['type'];

/** Per-message options of every `api.customMessage` method. */
export interface SendOptions {
  /** Send as this customer-service agent (`customservice.kf_account`, e.g. `test1@kftest`). */
  kfAccount?: string;
}

/** The JSON body of `message/custom/send`. */
export type CustomMessageBody = { touser: string; msgtype: CustomMessageType; customservice?: { kf_account: string } } & Record<string, unknown>;

/**
 * Maps a {@link CustomMessage} to WeChat's JSON body (shapes as in WxJava's `WxMpKefuMessageTest`).
 *
 * @example buildCustomMessage('OPENID', { type: 'text', content: 'hi' })
 *   // { touser: 'OPENID', msgtype: 'text', text: { content: 'hi' } }
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html
 */
export function buildCustomMessage(openId: string, message: CustomMessage, options: SendOptions = {}): CustomMessageBody {
  if (typeof openId !== 'string' || openId === '') throw new TypeError('custom message: openId is required');
  const payload = payloadOf(message);
  const body: CustomMessageBody = { touser: openId, msgtype: message.type, [message.type]: payload };
  if (options.kfAccount) body.customservice = { kf_account: options.kfAccount };
  return body;
}

function payloadOf(m: CustomMessage): Record<string, unknown> {
  switch (m.type) {
    case 'text':
      return { content: m.content };
    case 'image':
    case 'voice':
    case 'mpnews':
      return { media_id: m.mediaId };
    case 'video':
      return { media_id: m.mediaId, thumb_media_id: m.thumbMediaId, title: m.title, description: m.description };
    case 'music':
      return {
        title: m.title,
        description: m.description,
        musicurl: m.musicUrl,
        hqmusicurl: m.hqMusicUrl,
        thumb_media_id: m.thumbMediaId,
      };
    case 'news':
      return { articles: [{ title: m.article.title, description: m.article.description, url: m.article.url, picurl: m.article.picUrl }] };
    case 'mpnewsarticle':
      return { article_id: m.articleId };
    case 'wxcard':
      return { card_id: m.cardId };
    case 'miniprogrampage':
      return { title: m.title, appid: m.appId, pagepath: m.pagePath, thumb_media_id: m.thumbMediaId };
    case 'msgmenu':
      return { head_content: m.headContent, list: m.list.map((i) => ({ id: i.id, content: i.content })), tail_content: m.tailContent };
    default: {
      const never: never = m;
      throw new TypeError(`custom message: unknown type ${(never as { type: string }).type}`);
    }
  }
}

/**
 * The custom message that delivers a passive reply late, or undefined when there is nothing to send
 * (`none`, and `transfer_customer_service`, which only means something as a passive reply).
 * A news reply sends its first article (custom news carries one).
 *
 * @example replyToCustomMessage({ type: 'image', mediaId: 'M' }) // { type: 'image', mediaId: 'M' }
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html
 */
export function replyToCustomMessage(reply: Reply): CustomMessage | undefined {
  switch (reply.type) {
    case 'text':
      return { type: 'text', content: reply.content };
    case 'image':
      return { type: 'image', mediaId: reply.mediaId };
    case 'voice':
      return { type: 'voice', mediaId: reply.mediaId };
    case 'video':
      return { type: 'video', mediaId: reply.mediaId, title: reply.title, description: reply.description };
    case 'music':
      return {
        type: 'music',
        title: reply.title,
        description: reply.description,
        musicUrl: reply.musicUrl,
        hqMusicUrl: reply.hqMusicUrl,
        thumbMediaId: reply.thumbMediaId,
      };
    case 'news': {
      const first = reply.articles[0];
      return first ? { type: 'news', article: first } : undefined;
    }
    case 'transfer_customer_service':
    case 'none':
      return undefined;
    default: {
      const never: never = reply;
      throw new TypeError(`late reply: unknown reply type ${(never as { type: string }).type}`);
    }
  }
}

// === The area

/**
 * `api.customMessage`: one method per message type, each a `POST /cgi-bin/message/custom/send`.
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html
 */
export interface CustomMessageApi {
  /** Sends any {@link CustomMessage}. */
  send(openId: string, message: CustomMessage, options?: SendOptions): Promise<void>;
  text(openId: string, content: string, options?: SendOptions): Promise<void>;
  image(openId: string, mediaId: string, options?: SendOptions): Promise<void>;
  voice(openId: string, mediaId: string, options?: SendOptions): Promise<void>;
  video(openId: string, video: Omit<Extract<CustomMessage, { type: 'video' }>, 'type'>, options?: SendOptions): Promise<void>;
  music(openId: string, music: Omit<Extract<CustomMessage, { type: 'music' }>, 'type'>, options?: SendOptions): Promise<void>;
  news(openId: string, article: NewsArticle, options?: SendOptions): Promise<void>;
  mpnews(openId: string, mediaId: string, options?: SendOptions): Promise<void>;
  mpnewsArticle(openId: string, articleId: string, options?: SendOptions): Promise<void>;
  /** Sends a card coupon (the card must be API-created and approved). */
  wxcard(openId: string, cardId: string, options?: SendOptions): Promise<void>;
  miniprogramPage(openId: string, page: Omit<Extract<CustomMessage, { type: 'miniprogrampage' }>, 'type'>, options?: SendOptions): Promise<void>;
  msgmenu(openId: string, menu: Omit<Extract<CustomMessage, { type: 'msgmenu' }>, 'type'>, options?: SendOptions): Promise<void>;
  /** Shows (`true`) or hides the "typing…" indicator (`/cgi-bin/message/custom/typing`). */
  typing(openId: string, on?: boolean): Promise<void>;
  /**
   * Delivers a passive reply late (the edge's deadline guard fired, or a rule's work finished later).
   * Resolves true when a message was sent, false for `none` / `transfer_customer_service` (no-op).
   */
  sendReply(openId: string, reply: Reply, options?: SendOptions): Promise<boolean>;
}

/**
 * Builds `api.customMessage` over the client's request function.
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html
 */
export function createCustomMessageApi(request: ApiRequest): CustomMessageApi {
  async function send(openId: string, message: CustomMessage, options?: SendOptions): Promise<void> {
    await request('POST', '/cgi-bin/message/custom/send', { body: buildCustomMessage(openId, message, options) });
  }
  return {
    send,
    text: (openId, content, o) => send(openId, { type: 'text', content }, o),
    image: (openId, mediaId, o) => send(openId, { type: 'image', mediaId }, o),
    voice: (openId, mediaId, o) => send(openId, { type: 'voice', mediaId }, o),
    video: (openId, video, o) => send(openId, { type: 'video', ...video }, o),
    music: (openId, music, o) => send(openId, { type: 'music', ...music }, o),
    news: (openId, article, o) => send(openId, { type: 'news', article }, o),
    mpnews: (openId, mediaId, o) => send(openId, { type: 'mpnews', mediaId }, o),
    mpnewsArticle: (openId, articleId, o) => send(openId, { type: 'mpnewsarticle', articleId }, o),
    wxcard: (openId, cardId, o) => send(openId, { type: 'wxcard', cardId }, o),
    miniprogramPage: (openId, page, o) => send(openId, { type: 'miniprogrampage', ...page }, o),
    msgmenu: (openId, menu, o) => send(openId, { type: 'msgmenu', ...menu }, o),
    async typing(openId, on = true) {
      if (typeof openId !== 'string' || openId === '') throw new TypeError('typing: openId is required');
      await request('POST', '/cgi-bin/message/custom/typing', { body: { touser: openId, command: on ? 'Typing' : 'CancelTyping' } });
    },
    async sendReply(openId, reply, o) {
      const message = replyToCustomMessage(reply);
      if (!message) return false;
      await send(openId, message, o);
      return true;
    },
  };
}
