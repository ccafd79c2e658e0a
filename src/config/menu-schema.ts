/**
 * The schema of `config/menu.yaml`: the custom menu, in WeChat's own field names (`button`,
 * `sub_button`, `type`, `key`, `url`, `appid`, `pagepath`, `media_id`, `article_id`) so the file reads
 * like the API documentation. Validated against WeChat's limits: 1–3 top-level buttons, 1–5 per
 * sub-menu, names ≤ 16 bytes (top level) / ≤ 60 bytes (sub-menu), keys ≤ 128 bytes, urls ≤ 1024
 * bytes, keys unique across the menu. An empty file means "no menu managed here".
 *
 * @example menuFileSchema.parse({ button: [{ type: 'click', name: 'Help', key: 'HELP' }] })
 * @see https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Creating_Custom-Defined_Menu.html
 */
import { z } from 'zod';
import { KEY_BUTTON_TYPES, MENU_BUTTON_TYPES, MENU_LIMITS, type MenuButtonType } from '../api/menu';
import { byteString, forward, listOf, showValue, strictObject } from '../lib/schema-helpers';
import { didYouMean } from '../lib/closest-name';

// === Limits (WeChat's, defined with the wire types)

export { KEY_BUTTON_TYPES, MENU_BUTTON_TYPES, MENU_LIMITS, type MenuButtonType } from '../api/menu';

// === Types

export type MenuActionButton =
  | { type: (typeof KEY_BUTTON_TYPES)[number]; name: string; key: string }
  | { type: 'view'; name: string; url: string }
  | { type: 'miniprogram'; name: string; url: string; appid: string; pagepath: string }
  | { type: 'media_id' | 'view_limited'; name: string; media_id: string }
  | { type: 'article_id' | 'article_view_limited'; name: string; article_id: string };

export type MenuButton = MenuActionButton | { name: string; sub_button: MenuActionButton[] };

export interface MenuFile {
  /** Empty when the file is empty or absent: the menu is not managed from config. */
  button: MenuButton[];
}

// === Schema

const url = byteString(MENU_LIMITS.urlBytes, 'url').superRefine((s, ctx) => {
  if (!/^https?:\/\/[^\s]+$/i.test(s)) ctx.addIssue({ code: 'custom', message: `${showValue(s)} is not an http(s) URL` });
});

function actionButton(nameBytes: number) {
  const name = byteString(nameBytes, 'name');
  const key = byteString(MENU_LIMITS.keyBytes, 'key');
  const byType: Record<MenuButtonType, z.ZodType<MenuActionButton>> = {
    ...(Object.fromEntries(KEY_BUTTON_TYPES.map((t) => [t, strictObject({ type: z.literal(t), name, key })])) as unknown as Record<
      (typeof KEY_BUTTON_TYPES)[number],
      z.ZodType<MenuActionButton>
    >),
    view: strictObject({ type: z.literal('view'), name, url }),
    miniprogram: strictObject({ type: z.literal('miniprogram'), name, url, appid: z.string().min(1), pagepath: z.string().min(1) }),
    media_id: strictObject({ type: z.literal('media_id'), name, media_id: z.string().min(1) }),
    view_limited: strictObject({ type: z.literal('view_limited'), name, media_id: z.string().min(1) }),
    article_id: strictObject({ type: z.literal('article_id'), name, article_id: z.string().min(1) }),
    article_view_limited: strictObject({ type: z.literal('article_view_limited'), name, article_id: z.string().min(1) }),
  };
  return z.unknown().transform((v, ctx): MenuActionButton => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      ctx.addIssue({ code: 'custom', message: `expected a button (a mapping with type and name), got ${showValue(v)}` });
      return z.NEVER;
    }
    const type = (v as Record<string, unknown>).type;
    if (typeof type !== 'string' || !(MENU_BUTTON_TYPES as readonly string[]).includes(type)) {
      ctx.addIssue({
        code: 'custom',
        path: ['type'],
        message:
          type === undefined
            ? `is required (one of ${MENU_BUTTON_TYPES.join(', ')})`
            : `${showValue(type)} is not one of ${MENU_BUTTON_TYPES.join(', ')}${typeof type === 'string' ? didYouMean(type, MENU_BUTTON_TYPES) : ''}`,
      });
      return z.NEVER;
    }
    return forward(byType[type as MenuButtonType], v, ctx);
  });
}

const subButton = actionButton(MENU_LIMITS.subNameBytes);
const topAction = actionButton(MENU_LIMITS.topNameBytes);
const subMenu = strictObject({
  name: byteString(MENU_LIMITS.topNameBytes, 'name'),
  sub_button: listOf(subButton, { min: 1, max: MENU_LIMITS.subButtons, what: 'buttons', limitNote: 'a sub-menu holds' }),
});

const topButton = z.unknown().transform((v, ctx): MenuButton => {
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && 'sub_button' in v) return forward(subMenu, v, ctx);
  return forward(topAction, v, ctx);
});

function keyOf(b: MenuButton): string | undefined {
  return 'key' in b ? b.key : undefined;
}

/**
 * The whole `menu.yaml`.
 *
 * @example menuFileSchema.safeParse(yamlData, { error: configErrorMap })
 * @see https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Creating_Custom-Defined_Menu.html
 */
export const menuFileSchema = z.preprocess(
  (v) => (v === null || v === undefined ? { button: [] } : v),
  strictObject({ button: listOf(topButton, { max: MENU_LIMITS.topLevelButtons, what: 'top-level buttons', limitNote: 'WeChat allows' }) }).superRefine((menu, ctx) => {
    const seen = new Map<string, string>();
    menu.button.forEach((b, i) => {
      const entries: [MenuButton, (string | number)[]][] = 'sub_button' in b ? b.sub_button.map((s, j) => [s, ['button', i, 'sub_button', j]]) : [[b, ['button', i]]];
      for (const [btn, at] of entries) {
        const key = keyOf(btn);
        if (key === undefined) continue;
        const where = at
          .map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`))
          .join('')
          .slice(1);
        const prev = seen.get(key);
        if (prev) ctx.addIssue({ code: 'custom', path: [...at, 'key'], message: `duplicate menu key "${key}" (also ${prev}.key)` });
        else seen.set(key, where);
      }
    });
  }),
) as unknown as z.ZodType<MenuFile>;

/**
 * Every key-carrying button of a menu with its path, for cross-checks (a click key with no rule).
 *
 * @example menuKeys(menu) // [{ type: 'click', key: 'HELP', path: ['button', 0, 'key'] }]
 * @see https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Custom_Menu_Push_Events.html
 */
export function menuKeys(menu: MenuFile): { type: MenuButtonType; key: string; name: string; path: (string | number)[] }[] {
  const out: { type: MenuButtonType; key: string; name: string; path: (string | number)[] }[] = [];
  menu.button.forEach((b, i) => {
    const list: [MenuButton, (string | number)[]][] = 'sub_button' in b ? b.sub_button.map((s, j) => [s, ['button', i, 'sub_button', j]]) : [[b, ['button', i]]];
    for (const [btn, at] of list) if ('key' in btn) out.push({ type: btn.type, key: btn.key, name: btn.name, path: [...at, 'key'] });
  });
  return out;
}
