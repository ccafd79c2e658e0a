/**
 * Customer-service messages (`message/custom/send`, `message/custom/typing`): the follower must be
 * reachable (40003 / 45015), the message type known (40008) and its payload complete, with WeChat's
 * code for each missing field. Delivered messages are recorded per openid (`sandbox.sent`).
 *
 * @example await api.customMessage.text('o_follower', '你好'); sandbox.sent.get('o_follower');
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html
 */
import { fail, SANDBOX_OK, type ApiRouteTable } from './api-route';
import { remember, type SentCustomMessage } from './api-state';
import { requireReachable } from './api-followers';

const CUSTOM_TYPES = new Set(['text', 'image', 'voice', 'video', 'music', 'news', 'mpnews', 'mpnewsarticle', 'msgmenu', 'wxcard', 'miniprogrampage']);

/** Fails with WeChat's code when a message payload lacks what its type needs. */
function checkPayload(msgtype: string, p: Record<string, unknown>): void {
  const need = (field: string, errcode: number, errmsg: string) => {
    if (typeof p[field] !== 'string' || p[field] === '') fail(errcode, errmsg);
  };
  switch (msgtype) {
    case 'text':
      need('content', 44004, 'empty content');
      break;
    case 'image':
    case 'voice':
    case 'video':
    case 'mpnews':
      need('media_id', 40007, 'invalid media_id');
      break;
    case 'music':
      need('thumb_media_id', 40007, 'invalid media_id');
      break;
    case 'news': {
      const articles = p.articles;
      if (!Array.isArray(articles) || articles.length === 0) fail(44003, 'empty news data');
      if ((articles as unknown[]).length > 1) fail(45008, 'article size out of limit');
      break;
    }
    case 'mpnewsarticle':
      need('article_id', 47001, 'data format error');
      break;
    case 'wxcard':
      need('card_id', 40073, 'invalid card id');
      break;
    case 'miniprogrampage':
      need('appid', 47001, 'data format error');
      need('pagepath', 47001, 'data format error');
      break;
    case 'msgmenu':
      if (!Array.isArray(p.list)) fail(47001, 'data format error');
      break;
  }
}

export const customMessageRoutes: ApiRouteTable = [
  {
    method: 'POST',
    path: '/cgi-bin/message/custom/send',
    handle(req, state) {
      const body = req.json();
      const openId = requireReachable(state, body.touser);
      const msgtype = body.msgtype;
      if (typeof msgtype !== 'string' || !CUSTOM_TYPES.has(msgtype)) fail(40008, 'invalid message type');
      const payload = body[msgtype as string] as Record<string, unknown> | undefined;
      if (payload === null || typeof payload !== 'object') fail(47001, 'data format error');
      checkPayload(msgtype as string, payload as Record<string, unknown>);
      const record: SentCustomMessage = { openId, msgtype: msgtype as string, body, at: state.config.clock.now() };
      const list = state.sent.get(openId) ?? [];
      remember(state, list, record);
      state.sent.set(openId, list);
      return { ...SANDBOX_OK };
    },
  },
  {
    method: 'POST',
    path: '/cgi-bin/message/custom/typing',
    handle(req, state) {
      const body = req.json();
      const openId = requireReachable(state, body.touser);
      if (body.command !== 'Typing' && body.command !== 'CancelTyping') fail(47001, 'data format error');
      remember(state, state.typing, { openId, command: body.command as string });
      return { ...SANDBOX_OK };
    },
  },
];
