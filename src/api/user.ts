/**
 * Follower information: `user/info`.
 *
 * @example const info = await api.user.info('OPENID'); if (info.subscribe === 1) …
 * @see https://developers.weixin.qq.com/doc/offiaccount/User_Management/Get_users_basic_information_UnionID.html
 */
import type { ApiRequest } from './request';

/** WeChat's answer, field names verbatim. `subscribe` 0 means the user does not follow (other fields absent). */
export interface UserInfo {
  subscribe: 0 | 1;
  openid: string;
  language?: string;
  /** Epoch seconds of the (last) follow. */
  subscribe_time?: number;
  unionid?: string;
  remark?: string;
  groupid?: number;
  tagid_list?: number[];
  /** e.g. ADD_SCENE_QR_CODE, ADD_SCENE_SEARCH … */
  subscribe_scene?: string;
  qr_scene?: number;
  qr_scene_str?: string;
}

/**
 * `api.user`.
 * @see https://developers.weixin.qq.com/doc/offiaccount/User_Management/Get_users_basic_information_UnionID.html
 */
export interface UserApi {
  info(openId: string, lang?: 'zh_CN' | 'zh_TW' | 'en'): Promise<UserInfo>;
}

/**
 * Builds `api.user` over the client's request function.
 * @see https://developers.weixin.qq.com/doc/offiaccount/User_Management/Get_users_basic_information_UnionID.html
 */
export function createUserApi(request: ApiRequest): UserApi {
  return {
    async info(openId, lang = 'zh_CN') {
      if (typeof openId !== 'string' || openId === '') throw new TypeError('user.info: openId is required');
      return request<UserInfo>('GET', '/cgi-bin/user/info', { query: { openid: openId, lang } });
    },
  };
}
