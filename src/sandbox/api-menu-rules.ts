/**
 * How WeChat validates a `menu/create` body, as the sandbox applies it: the first violation found,
 * with WeChat's errcode and errmsg (global return codes 40016–40027, 41007, 47001, 40007).
 *
 * Limits follow the current doc text: 1–3 top-level buttons, 1–5 per sub-menu; names ≤16 bytes top
 * level and ≤60 bytes in a sub-menu; `key` ≤128 bytes; `url` ≤1024 bytes (older docs said 40 / 256).
 *
 * @example checkMenu({ button: [] }) // { errcode: 40016, errmsg: 'invalid button size' }
 * @see https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Creating_Custom-Defined_Menu.html
 */
import { KEY_BUTTON_TYPES, MENU_BUTTON_TYPES, MENU_LIMITS } from '../api/menu';

export interface MenuViolation {
  errcode: number;
  errmsg: string;
}

const KEY_TYPES = new Set<string>(KEY_BUTTON_TYPES);
const MEDIA_TYPES = new Set(['media_id', 'view_limited']);
const ARTICLE_TYPES = new Set(['article_id', 'article_view_limited']);
const ALL_TYPES = new Set<string>(MENU_BUTTON_TYPES);

const bytes = (s: unknown): number => (typeof s === 'string' ? Buffer.byteLength(s, 'utf8') : 0);
const present = (s: unknown): boolean => typeof s === 'string' && s !== '';

/** Top-level and sub-menu variants of each code. */
const CODES = {
  top: {
    type: [40017, 'invalid button type'],
    name: [40018, 'invalid button name size'],
    key: [40019, 'invalid button key size'],
    url: [40020, 'invalid button url size'],
    nameMax: MENU_LIMITS.topNameBytes,
  },
  sub: {
    type: [40024, 'invalid sub button type'],
    name: [40025, 'invalid sub button name size'],
    key: [40026, 'invalid sub button key size'],
    url: [40027, 'invalid sub button url size'],
    nameMax: MENU_LIMITS.subNameBytes,
  },
} as const;

function violation([errcode, errmsg]: readonly [number, string]): MenuViolation {
  return { errcode, errmsg };
}

function checkAction(b: Record<string, unknown>, level: 'top' | 'sub'): MenuViolation | undefined {
  const c = CODES[level];
  const type = b.type;
  if (typeof type !== 'string' || !ALL_TYPES.has(type)) return violation(c.type);
  if (KEY_TYPES.has(type) && (!present(b.key) || bytes(b.key) > MENU_LIMITS.keyBytes)) return violation(c.key);
  if ((type === 'view' || type === 'miniprogram') && (!present(b.url) || bytes(b.url) > MENU_LIMITS.urlBytes)) return violation(c.url);
  if (type === 'miniprogram' && (!present(b.appid) || !present(b.pagepath))) return { errcode: 47001, errmsg: 'data format error' };
  if (MEDIA_TYPES.has(type) && !present(b.media_id)) return { errcode: 40007, errmsg: 'invalid media_id' };
  if (ARTICLE_TYPES.has(type) && !present(b.article_id)) return { errcode: 47001, errmsg: 'data format error' };
  return undefined;
}

/**
 * The first rule a menu body breaks, or undefined when WeChat would accept it.
 * @see https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Creating_Custom-Defined_Menu.html
 */
export function checkMenu(body: unknown): MenuViolation | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { errcode: 47001, errmsg: 'data format error' };
  const buttons = (body as { button?: unknown }).button;
  if (!Array.isArray(buttons) || buttons.length < 1 || buttons.length > MENU_LIMITS.topLevelButtons) return { errcode: 40016, errmsg: 'invalid button size' };
  for (const raw of buttons) {
    if (raw === null || typeof raw !== 'object') return { errcode: 47001, errmsg: 'data format error' };
    const b = raw as Record<string, unknown>;
    if (!present(b.name) || bytes(b.name) > CODES.top.nameMax) return violation(CODES.top.name);
    const subs = b.sub_button;
    if (Array.isArray(subs) && subs.length > 0) {
      if (subs.length > MENU_LIMITS.subButtons) return { errcode: 40023, errmsg: 'invalid sub button size' };
      for (const rawSub of subs) {
        if (rawSub === null || typeof rawSub !== 'object') return { errcode: 47001, errmsg: 'data format error' };
        const s = rawSub as Record<string, unknown>;
        if (Array.isArray(s.sub_button) && s.sub_button.length > 0) return { errcode: 40022, errmsg: 'invalid sub_menu level' };
        if (!present(s.name) || bytes(s.name) > CODES.sub.nameMax) return violation(CODES.sub.name);
        const v = checkAction(s, 'sub');
        if (v) return v;
      }
    } else if (b.type === undefined && Array.isArray(subs)) {
      return { errcode: 41007, errmsg: 'missing sub_menu data' };
    } else {
      const v = checkAction(b, 'top');
      if (v) return v;
    }
  }
  return undefined;
}
