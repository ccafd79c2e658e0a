/**
 * Follower info (`user/info`): 41009 without an openid, 40003 for one the sandbox does not know,
 * `subscribe: 0` for a follower who left, WeChat's fields otherwise.
 *
 * @example sandbox.follow('o_f'); await api.user.info('o_f'); // { subscribe: 1, openid: 'o_f', ... }
 * @see https://developers.weixin.qq.com/doc/offiaccount/User_Management/Get_users_basic_information_UnionID.html
 */
import { knownFollower } from './api-followers';
import { fail, type ApiRouteTable } from './api-route';

export const userRoutes: ApiRouteTable = [
  {
    method: 'GET',
    path: '/cgi-bin/user/info',
    handle(req, state) {
      const openId = req.query.get('openid');
      if (!openId) return fail(41009, 'missing openid');
      const f = knownFollower(state, openId);
      if (!f) return fail(40003, 'invalid openid');
      if (!f.subscribed) return { subscribe: 0, openid: f.openId, tagid_list: [] };
      return {
        subscribe: 1,
        openid: f.openId,
        language: req.query.get('lang') ?? 'zh_CN',
        subscribe_time: Math.floor(f.subscribedAt / 1000),
        remark: '',
        groupid: 0,
        tagid_list: [],
        subscribe_scene: 'ADD_SCENE_OTHERS',
        qr_scene: 0,
        qr_scene_str: '',
      };
    },
  },
];
