/**
 * The custom menu: `menu/create`, `menu/get`, `menu/delete`. Wire types keep WeChat's field names.
 *
 * @example
 * await api.menu.create({ button: [{ type: 'click', name: '今日歌曲', key: 'V1001_TODAY_MUSIC' }] });
 * const current = await api.menu.get(); // undefined when no menu is set (46003)
 * @see https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Creating_Custom-Defined_Menu.html
 */
import { MENU_KEY_EVENTS } from '../wechat/inbound';
import type { ApiRequest } from './request';
import { WeChatApiError } from './errors';

// === Wire types

/**
 * WeChat's limits on a `menu/create` body (current doc text): buttons per level, byte lengths of fields.
 * @see https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Creating_Custom-Defined_Menu.html
 */
export const MENU_LIMITS = {
  topLevelButtons: 3,
  subButtons: 5,
  topNameBytes: 16,
  subNameBytes: 60,
  keyBytes: 128,
  urlBytes: 1024,
} as const;

/**
 * Button types that carry a `key`: each pushes the event of its name in upper case ({@link MENU_KEY_EVENTS}) with that `EventKey`.
 * @see https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Creating_Custom-Defined_Menu.html
 */
export const KEY_BUTTON_TYPES: readonly Lowercase<(typeof MENU_KEY_EVENTS)[number]>[] = MENU_KEY_EVENTS.map((e) => e.toLowerCase() as Lowercase<typeof e>);

/**
 * Every button type `menu/create` accepts.
 * @see https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Creating_Custom-Defined_Menu.html
 */
export const MENU_BUTTON_TYPES = [...KEY_BUTTON_TYPES, 'view', 'miniprogram', 'media_id', 'view_limited', 'article_id', 'article_view_limited'] as const;

/** One of {@link MENU_BUTTON_TYPES}. */
export type MenuButtonType = (typeof MENU_BUTTON_TYPES)[number];

/**
 * One button: an action (`type` + its field) or a sub-menu (`name` + `sub_button`, 1–5 actions).
 * Names: ≤16 bytes top level, ≤60 bytes in a sub-menu; `key` ≤128 bytes; `url` ≤1024 bytes.
 */
export interface MenuButton {
  type?: MenuButtonType;
  name: string;
  key?: string;
  url?: string;
  media_id?: string;
  article_id?: string;
  appid?: string;
  pagepath?: string;
  sub_button?: MenuButton[];
}

/** The body of `menu/create` and the `menu` of `menu/get`: 1–3 top-level buttons. */
export interface Menu {
  button: MenuButton[];
}

const BUTTON_FIELDS = ['type', 'name', 'key', 'url', 'media_id', 'article_id', 'appid', 'pagepath'] as const;

/**
 * A canonical copy of a menu: known fields only, in a fixed order, empty `sub_button: []` (which
 * `menu/get` adds to every action button) removed. Used to compare what WeChat has with the config.
 *
 * @example normalizeMenu({ button: [{ type: 'click', name: 'A', key: 'a', sub_button: [] }] })
 *   // { button: [{ type: 'click', name: 'A', key: 'a' }] }
 * @see https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Querying_Custom_Menus.html
 */
export function normalizeMenu(menu: Menu): Menu {
  const norm = (b: MenuButton): MenuButton => {
    const out: Record<string, unknown> = {};
    for (const f of BUTTON_FIELDS) if (b[f] !== undefined && b[f] !== null) out[f] = b[f];
    if (Array.isArray(b.sub_button) && b.sub_button.length > 0) out.sub_button = b.sub_button.map(norm);
    return out as unknown as MenuButton;
  };
  return { button: (menu?.button ?? []).map(norm) };
}

// === The area

/**
 * `api.menu`.
 * @see https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Creating_Custom-Defined_Menu.html
 */
export interface MenuApi {
  /** Replaces the account's menu (`menu/create`). Takes effect for followers within minutes. */
  create(menu: Menu): Promise<void>;
  /** The current menu, normalized; undefined when none is set (WeChat's 46003). */
  get(): Promise<Menu | undefined>;
  /** Deletes the menu (and every conditional menu). */
  delete(): Promise<void>;
}

/**
 * Builds `api.menu` over the client's request function.
 * @see https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Creating_Custom-Defined_Menu.html
 */
export function createMenuApi(request: ApiRequest): MenuApi {
  return {
    async create(menu) {
      if (!menu || !Array.isArray(menu.button)) throw new TypeError('menu.create: expected { button: [...] }');
      await request('POST', '/cgi-bin/menu/create', { body: { button: menu.button } });
    },
    async get() {
      try {
        const res = await request<{ menu?: Menu }>('GET', '/cgi-bin/menu/get');
        return res.menu ? normalizeMenu(res.menu) : undefined;
      } catch (err) {
        if (err instanceof WeChatApiError && err.errcode === 46003) return undefined;
        throw err;
      }
    },
    async delete() {
      await request('GET', '/cgi-bin/menu/delete');
    },
  };
}
