/**
 * Warns about custom-menu buttons nobody answers: each `click` key of `menu.yaml` is tried against the
 * compiled rules as a CLICK event (time windows ignored); a key no rule answers is a warning on its
 * button, since followers who tap it get no reply. The config still loads.
 *
 * @example checkMenuKeys(files.menu, compiled.rules, read.issueAt, warnings);
 * @see https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Custom_Menu_Push_Events.html
 */
import type { ConfigIssue } from '../lib/config-issue';
import type { CompiledRules } from '../rules/compile-rules';
import { decide } from '../rules/engine';
import type { InboundMessage } from '../wechat/inbound';
import type { ConfigFiles } from './config-files';
import { menuKeys } from './menu-schema';
import type { IssueAt } from './read-config-files';

/**
 * Pushes a warning for each click key of `menu` that no rule answers.
 *
 * @example checkMenuKeys({ button: [{ name: 'Help', type: 'click', key: 'HELP' }] }, rules, issueAt, warnings)
 */
export function checkMenuKeys(menu: ConfigFiles['menu'], rules: CompiledRules, issueAt: IssueAt, warnings: ConfigIssue[]): void {
  for (const k of menuKeys(menu)) {
    if (k.type !== 'click') continue;
    const probe = {
      ToUserName: 'gh_probe',
      FromUserName: 'o-probe',
      CreateTime: 0,
      MsgType: 'event',
      Event: 'CLICK',
      EventKey: k.key,
    } as InboundMessage;
    const d = decide(probe, rules, 0, { ignoreWindows: true });
    if (d.actions.length === 0) warnings.push(issueAt('menu', k.path, `no rule answers CLICK "${k.key}" (button "${k.name}"); followers who tap it get no reply`));
  }
}
