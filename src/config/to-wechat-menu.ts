/**
 * The JSON body of WeChat's `POST /cgi-bin/menu/create` for a validated menu. Field names are
 * WeChat's own, so this is a clean copy that drops anything else.
 *
 * @example await api.menu.create(toWeChatMenu(config.files.menu));
 * @see https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Creating_Custom-Defined_Menu.html
 */
import type { MenuButton as WireMenuButton } from '../api/menu';
import type { MenuActionButton, MenuButton, MenuFile } from './menu-schema';

/** One button of the `menu/create` body (WeChat's field names): the API's wire type {@link WireMenuButton}. */
export type WeChatMenuButton = WireMenuButton;

function actionJson(b: MenuActionButton): WeChatMenuButton {
  switch (b.type) {
    case 'view':
      return { type: b.type, name: b.name, url: b.url };
    case 'miniprogram':
      return { type: b.type, name: b.name, url: b.url, appid: b.appid, pagepath: b.pagepath };
    case 'media_id':
    case 'view_limited':
      return { type: b.type, name: b.name, media_id: b.media_id };
    case 'article_id':
    case 'article_view_limited':
      return { type: b.type, name: b.name, article_id: b.article_id };
    default:
      return { type: b.type, name: b.name, key: b.key };
  }
}

/**
 * Converts the menu file into `{ button: [...] }` for `menu/create`.
 *
 * @example toWeChatMenu({ button: [{ type: 'click', name: 'Help', key: 'HELP' }] })
 *   // { button: [{ type: 'click', name: 'Help', key: 'HELP' }] }
 * @see https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Creating_Custom-Defined_Menu.html
 */
export function toWeChatMenu(menu: MenuFile): { button: WeChatMenuButton[] } {
  return {
    button: menu.button.map((b: MenuButton) => ('sub_button' in b ? { name: b.name, sub_button: b.sub_button.map(actionJson) } : actionJson(b))),
  };
}
