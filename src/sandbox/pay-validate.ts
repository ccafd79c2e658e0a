/**
 * Field checks of the WeChat Pay sandbox, as WeChat Pay applies them to red-packet requests: every
 * required field present, no field the endpoint does not document, lengths, formats and amounts.
 *
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import { FISSION_TOTAL_NUM } from '../rewards/config-schema';

/** A red-packet endpoint of the sandbox. */
export type PaySandboxEndpoint = 'sendredpack' | 'sendgroupredpack' | 'gethbinfo';

/** A refusal: the `err_code` and a human-readable `err_code_des`. */
export interface PayRefusal {
  errCode: string;
  des: string;
}

interface FieldRule {
  required: boolean;
  /** Max length in characters. */
  max: number;
  pattern?: RegExp;
}

const ID = /^[0-9A-Za-z]+$/;
const DIGITS = /^\d+$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const SCENE = /^PRODUCT_[1-8]$/;

const SEND_COMMON: Record<string, FieldRule> = {
  nonce_str: { required: true, max: 32 },
  sign: { required: true, max: 64 },
  mch_billno: { required: true, max: 28, pattern: ID },
  mch_id: { required: true, max: 32, pattern: DIGITS },
  wxappid: { required: true, max: 32 },
  send_name: { required: true, max: 32 },
  re_openid: { required: true, max: 32 },
  total_amount: { required: true, max: 10, pattern: DIGITS },
  total_num: { required: true, max: 10, pattern: DIGITS },
  wishing: { required: true, max: 128 },
  act_name: { required: true, max: 32 },
  remark: { required: true, max: 256 },
  scene_id: { required: false, max: 32, pattern: SCENE },
  risk_info: { required: false, max: 128 },
  sub_mch_id: { required: false, max: 32, pattern: DIGITS },
  msgappid: { required: false, max: 32 },
  consume_mch_id: { required: false, max: 32, pattern: DIGITS },
};

/** The documented fields of each endpoint. Anything else is PARAM_ERROR (`sign_type`, `sub_appid`, …). */
export const PAY_SANDBOX_FIELDS: Record<PaySandboxEndpoint, Record<string, FieldRule>> = {
  sendredpack: { ...SEND_COMMON, client_ip: { required: true, max: 15, pattern: IPV4 } },
  sendgroupredpack: { ...SEND_COMMON, amt_type: { required: true, max: 32, pattern: /^ALL_RAND$/ } },
  gethbinfo: {
    nonce_str: { required: true, max: 32 },
    sign: { required: true, max: 64 },
    mch_billno: { required: true, max: 28, pattern: ID },
    mch_id: { required: true, max: 32, pattern: DIGITS },
    appid: { required: true, max: 32 },
    bill_type: { required: true, max: 32, pattern: /^MCHT$/ },
    sub_mch_id: { required: false, max: 32, pattern: DIGITS },
  },
};

/**
 * Checks presence, extras, lengths and formats; returns the first refusal or undefined.
 *
 * @example validatePayFields('sendredpack', fields) // { errCode: 'PARAM_ERROR', des: 'sign_type is not a field of sendredpack' }
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function validatePayFields(endpoint: PaySandboxEndpoint, fields: Record<string, string>): PayRefusal | undefined {
  const rules = PAY_SANDBOX_FIELDS[endpoint];
  for (const name of Object.keys(fields)) {
    if (!(name in rules)) return { errCode: 'PARAM_ERROR', des: `${name} is not a field of ${endpoint}` };
  }
  for (const [name, rule] of Object.entries(rules)) {
    const value = fields[name];
    if (value === undefined || value === '') {
      if (rule.required) return { errCode: 'PARAM_ERROR', des: `${name} is required` };
      continue;
    }
    if ([...value].length > rule.max) return { errCode: 'PARAM_ERROR', des: `${name} is longer than ${rule.max} characters` };
    if (rule.pattern && !rule.pattern.test(value)) return { errCode: 'PARAM_ERROR', des: `${name} "${value}" is not valid` };
  }
  if (endpoint === 'gethbinfo') return undefined;

  const sp = fields.sub_mch_id !== undefined;
  if (sp && fields.msgappid === undefined) return { errCode: 'PARAM_ERROR', des: 'msgappid is required with sub_mch_id' };
  if (!sp && (fields.msgappid !== undefined || fields.consume_mch_id !== undefined))
    return { errCode: 'PARAM_ERROR', des: 'msgappid and consume_mch_id are only taken with sub_mch_id (service-provider mode)' };
  const num = Number(fields.total_num);
  if (endpoint === 'sendredpack' && num !== 1) return { errCode: 'PARAM_ERROR', des: 'total_num must be 1 for sendredpack' };
  const group = FISSION_TOTAL_NUM;
  if (endpoint === 'sendgroupredpack' && (num < group.min || num > group.max))
    return { errCode: 'PARAM_ERROR', des: `total_num must be ${group.min}–${group.max} for sendgroupredpack` };
  return undefined;
}

/** Amount ranges (fen, per packet). */
export interface PayAmountRules {
  /** Without scene_id (WeChat: 1.00–200.00 yuan). */
  defaultRangeFen: readonly [number, number];
  /** With scene_id (the merchant applied for a wider range). */
  sceneRangeFen: readonly [number, number];
}

/**
 * MONEY_LIMIT when an amount is outside the allowed per-packet range (fission: average per person).
 *
 * @example checkAmount(fields, { defaultRangeFen: [100, 20000], sceneRangeFen: [1, 499999] })
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function checkAmount(fields: Record<string, string>, rules: PayAmountRules): PayRefusal | undefined {
  const total = Number(fields.total_amount);
  const num = Number(fields.total_num);
  const [min, max] = fields.scene_id !== undefined ? rules.sceneRangeFen : rules.defaultRangeFen;
  if (total < min * num || total > max * num)
    return {
      errCode: 'MONEY_LIMIT',
      des: `amount per packet must be ${min}–${max} fen${fields.scene_id === undefined ? ' without scene_id' : ''}`,
    };
  return undefined;
}
