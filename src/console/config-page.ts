/**
 * The Config page (`/console/config`): the serving config's version and load time, whether the files
 * on disk are valid now, the last reload attempt, and the last refused edit with each error at its
 * place (file:line, path, message) — `config-status-view.ts` over the config holder. Read only.
 *
 * Routes: `GET /console/config` (page), `GET /console/api/config` (JSON).
 *
 * @example CONSOLE_PAGES = [..., configPage]
 * @see https://nodejs.org/api/fs.html#fswatchfilename-options-listener
 */
import type { ConsoleContext, ConsolePage } from './console-page';
import { configStatusView } from './config-status-view';
import { answerJson } from './page-answers';
import { renderPage } from './render';

export const configPage: ConsolePage = {
  id: 'config',
  path: '/console/config',
  title: { en: 'Config', 'zh-CN': '配置' },
  messages: {
    en: {
      'config.title': 'Config',
      'config.version': 'Serving version',
      'config.loadedAt': 'Loaded',
      'config.files': 'Files on disk',
      'config.valid': 'valid',
      'config.invalid': 'refused: the last good config keeps serving',
      'config.warnings': 'Warnings',
      'config.lastAttempt': 'Last reload',
      'config.never': 'none since the bot started',
      'config.accepted': 'accepted',
      'config.refused': 'refused',
      'config.lastRefused': 'Last refused edit',
      'config.refusedAt': 'Refused at {time}; version {version} kept serving.',
      'config.noRefusal': 'No edit has been refused since the bot started.',
      'config.where': 'File:line',
      'config.path': 'Path',
      'config.message': 'Error',
      'config.hint': 'Check an edit before saving it with `npx wechat-bot check-config`; the bot reloads the folder by itself (or on SIGHUP).',
    },
    'zh-CN': {
      'config.title': '配置',
      'config.version': '当前版本',
      'config.loadedAt': '加载时间',
      'config.files': '磁盘上的文件',
      'config.valid': '有效',
      'config.invalid': '被拒绝：继续使用上一份有效配置',
      'config.warnings': '警告',
      'config.lastAttempt': '上次重新加载',
      'config.never': '启动以来没有',
      'config.accepted': '已接受',
      'config.refused': '已拒绝',
      'config.lastRefused': '上次被拒绝的修改',
      'config.refusedAt': '{time} 被拒绝；版本 {version} 继续生效。',
      'config.noRefusal': '启动以来没有被拒绝的修改。',
      'config.where': '文件:行',
      'config.path': '路径',
      'config.message': '错误',
      'config.hint': '保存前可用 `npx wechat-bot check-config` 检查修改；机器人会自动（或收到 SIGHUP 时）重新加载配置目录。',
    },
  },
  mount(router, deps) {
    router.get('/console/config', (ctx: ConsoleContext) =>
      renderPage(ctx, 'config', { title: ctx.state.view!.t('config.title'), status: configStatusView(deps.config) }),
    );
    router.get('/console/api/config', (ctx: ConsoleContext) => answerJson(ctx, { status: configStatusView(deps.config) }));
  },
};
