/**
 * A readable line diff between two menus (what WeChat has → what the config says), for `menu push`.
 *
 * @example
 * const d = diffMenu(await api.menu.get(), configMenu);
 * if (d.changed) console.log(d.lines.join('\n'));
 * //   [click] 今日歌曲 key=V1001_TODAY_MUSIC
 * // - [view] 官网 url=https://old.example.com
 * // + [view] 官网 url=https://www.example.com
 * @see https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Querying_Custom_Menus.html
 */
import { type Menu, type MenuButton, normalizeMenu } from './menu';

export interface MenuDiff {
  /** False when both menus are the same after normalization. */
  changed: boolean;
  /** Every line of both menus, prefixed `"  "` (same), `"- "` (only before), `"+ "` (only after). */
  lines: string[];
}

function describe(b: MenuButton): string {
  if (b.sub_button && b.sub_button.length > 0) return `[menu] ${b.name}`;
  const parts = [`[${b.type ?? '?'}] ${b.name}`];
  for (const f of ['key', 'url', 'media_id', 'article_id', 'appid', 'pagepath'] as const) if (b[f] !== undefined) parts.push(`${f}=${b[f]}`);
  return parts.join(' ');
}

/** One line per button; sub-buttons indented under their menu. */
export function menuLines(menu: Menu | undefined): string[] {
  if (!menu) return [];
  const out: string[] = [];
  for (const b of normalizeMenu(menu).button) {
    out.push(describe(b));
    for (const s of b.sub_button ?? []) out.push(`    ${describe(s)}`);
  }
  return out;
}

/**
 * Diffs two menus line by line (longest common subsequence), `undefined` meaning "no menu".
 * @see https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Creating_Custom-Defined_Menu.html
 */
export function diffMenu(before: Menu | undefined, after: Menu | undefined): MenuDiff {
  const a = menuLines(before);
  const b = menuLines(after);
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const lines: string[] = [];
  let i = 0;
  let j = 0;
  let changed = false;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      lines.push(`  ${a[i]}`);
      i++;
      j++;
    } else if (i < n && (j >= m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      lines.push(`- ${a[i]}`);
      i++;
      changed = true;
    } else {
      lines.push(`+ ${b[j]}`);
      j++;
      changed = true;
    }
  }
  // Same lines but a different structure (e.g. a field we don't print) still counts as a change.
  if (!changed) changed = JSON.stringify(normalizeMenu(before ?? { button: [] })) !== JSON.stringify(normalizeMenu(after ?? { button: [] }));
  return { changed, lines };
}
