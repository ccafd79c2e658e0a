/**
 * JS-API tickets (`ticket/getticket?type=wx_card|jsapi`, 40097 for another type), counted in
 * `sandbox.ticketFetches` so tests can see the client's cache at work.
 *
 * @example await api.ticket.getCardTicket(); sandbox.ticketFetches; // 1
 * @see https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/JS-SDK.html#54
 */
import { randomBytes } from 'node:crypto';
import { fail, type ApiRouteTable } from './api-route';

export const ticketRoutes: ApiRouteTable = [
  {
    method: 'GET',
    path: '/cgi-bin/ticket/getticket',
    handle(req, state) {
      const type = req.query.get('type');
      if (type !== 'wx_card' && type !== 'jsapi') fail(40097, 'invalid args');
      state.ticketFetches++;
      return { errcode: 0, errmsg: 'ok', ticket: `${type === 'wx_card' ? 'card' : 'js'}_${randomBytes(32).toString('base64url')}`, expires_in: 7200 };
    },
  },
];
