/**
 * The Campaigns page's strings (English and Chinese).
 */
import type { Messages } from './console-page';

export const CAMPAIGNS_MESSAGES: Messages = {
  en: {
    'campaigns.title': 'Campaigns',
    'campaigns.pause': 'Pause',
    'campaigns.resume': 'Resume',
    'campaigns.reason': 'Reason',
    'campaigns.reasonPlaceholder': 'why (kept in the ledger)',
    'campaigns.actions': 'Actions',
    'campaigns.grant': 'One grant',
    'campaigns.grantHelp': 'Cancel a red packet not sent yet (or HELD), or reissue a FAILED one as a new grant — the same as "redpack cancel" / "redpack reissue".',
    'campaigns.billNo': 'Bill number (mch_billno)',
    'campaigns.cancel': 'Cancel grant',
    'campaigns.reissue': 'Reissue grant',
    'campaigns.done': 'Done: {message}',
    'campaigns.refused': 'Not done: {message}',
    'campaigns.audit': 'Latest console actions (audit log)',
    'campaigns.audit.when': 'When',
    'campaigns.audit.session': 'Session',
    'campaigns.audit.action': 'Action',
    'campaigns.audit.target': 'On',
    'campaigns.audit.outcome': 'Outcome',
  },
  'zh-CN': {
    'campaigns.title': '活动管理',
    'campaigns.pause': '暂停',
    'campaigns.resume': '恢复',
    'campaigns.reason': '原因',
    'campaigns.reasonPlaceholder': '原因（记录在账本中）',
    'campaigns.actions': '操作',
    'campaigns.grant': '单笔发放',
    'campaigns.grantHelp': '取消尚未发送（或已挂起）的红包，或将发送失败的红包作为新的发放重发 —— 与 "redpack cancel" / "redpack reissue" 相同。',
    'campaigns.billNo': '商户订单号（mch_billno）',
    'campaigns.cancel': '取消发放',
    'campaigns.reissue': '重新发放',
    'campaigns.done': '已完成：{message}',
    'campaigns.refused': '未执行：{message}',
    'campaigns.audit': '最近的控制台操作（审计日志）',
    'campaigns.audit.when': '时间',
    'campaigns.audit.session': '会话',
    'campaigns.audit.action': '操作',
    'campaigns.audit.target': '对象',
    'campaigns.audit.outcome': '结果',
  },
};
