/**
 * The custom menu (`menu/create`, `menu/get`, `menu/delete`): `create` validates the body as WeChat
 * does (`api-menu-rules.ts`) and stores it with WeChat's `sub_button: []` normalisation; `get`
 * answers 46003 when there is none.
 *
 * @example await api.menu.create(menu); sandbox.menu; // { button: [...] }
 * @see https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Creating_Custom-Defined_Menu.html
 */
import { checkMenu } from './api-menu-rules';
import { fail, SANDBOX_OK, type ApiRouteTable } from './api-route';

/** A button as `menu/get` answers it: `sub_button` always present, sub-buttons with an empty one. */
function withSubs(b: Record<string, unknown>): Record<string, unknown> {
  return Array.isArray(b.sub_button) && b.sub_button.length > 0
    ? { ...b, sub_button: (b.sub_button as Record<string, unknown>[]).map((s) => ({ ...s, sub_button: [] })) }
    : { ...b, sub_button: [] };
}

export const menuRoutes: ApiRouteTable = [
  {
    method: 'POST',
    path: '/cgi-bin/menu/create',
    handle(req, state) {
      const body = req.json();
      const v = checkMenu(body);
      if (v) fail(v.errcode, v.errmsg);
      state.menu = { button: (body.button as Record<string, unknown>[]).map(withSubs) };
      return { ...SANDBOX_OK };
    },
  },
  {
    method: 'GET',
    path: '/cgi-bin/menu/get',
    handle(_req, state) {
      if (!state.menu) fail(46003, 'menu no exist');
      return { menu: structuredClone(state.menu) as Record<string, unknown> };
    },
  },
  {
    method: 'GET',
    path: '/cgi-bin/menu/delete',
    handle(_req, state) {
      state.menu = undefined;
      return { ...SANDBOX_OK };
    },
  },
];
