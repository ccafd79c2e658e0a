/**
 * The red-packet API of a bot without WeChat Pay credentials: every send is settled as a
 * configuration failure (not retried) and every query answers an error, each saying what to set. So
 * a bot that only replies runs without a merchant account, and a red-packet grant it records anyway
 * ends with a clear reason instead of a crash.
 *
 * @example const redpack = payClient ? createRedpackApi(payClient, { log }) : UNCONFIGURED_REDPACK;
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import type { RedpackApi } from './types';

/** Answers every call with `PAY_NOT_CONFIGURED`. */
export const UNCONFIGURED_REDPACK: RedpackApi = {
  send: async () => ({ status: 'config', code: 'PAY_NOT_CONFIGURED', message: 'WeChat Pay is not configured (set WECHAT_MCH_ID, WECHAT_PAY_KEY, WECHAT_PAY_CERT)' }),
  query: async () => ({ status: 'error', code: 'PAY_NOT_CONFIGURED', message: 'WeChat Pay is not configured' }),
};
