/**
 * The console's common strings (layout, login, errors) in English and Chinese. Each page brings its own
 * (`ConsolePage.messages`); they are merged into one table by `create-console.ts`.
 */
import type { Messages } from './console-page';

export const COMMON_MESSAGES: Messages = {
  en: {
    'console.name': 'Operator console',
    'nav.logout': 'Log out',
    'nav.lang': '中文',
    'login.title': 'Log in',
    'login.token': 'Admin token (BOT_ADMIN_TOKEN)',
    'login.submit': 'Log in',
    'login.wrong': 'That token is not right.',
    'login.locked': 'Too many failed attempts from this address: try again in {seconds} s.',
    'login.expired': 'The form expired: please try again.',
    'login.unavailable': 'The console is unavailable: the store does not answer.',
    'error.csrf': 'The request was refused: its CSRF token is missing or wrong. Reload the page.',
    'error.notFound': 'Not found.',
    'error.title': 'Something went wrong',
    'error.internal': "The console could not answer this request. The error is in the bot's log under request id {reqId}.",
    'error.back': 'Back to the overview',
    'time.zone': 'Times are Beijing time (UTC+8).',
  },
  'zh-CN': {
    'console.name': '运营控制台',
    'nav.logout': '退出',
    'nav.lang': 'English',
    'login.title': '登录',
    'login.token': '管理令牌（BOT_ADMIN_TOKEN）',
    'login.submit': '登录',
    'login.wrong': '令牌不正确。',
    'login.locked': '此地址失败次数过多，请在 {seconds} 秒后重试。',
    'login.expired': '表单已过期，请重试。',
    'login.unavailable': '控制台暂不可用：存储无响应。',
    'error.csrf': '请求被拒绝：CSRF 令牌缺失或错误，请刷新页面。',
    'error.notFound': '未找到。',
    'error.title': '出错了',
    'error.internal': '控制台无法处理此请求。错误已记录在机器人的日志中，请求编号 {reqId}。',
    'error.back': '返回概览',
    'time.zone': '时间均为北京时间（UTC+8）。',
  },
};
