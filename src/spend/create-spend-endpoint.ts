/**
 * Wires the spend-and-get endpoint from settings, for `createBot`: the payment handler over the order
 * store and the rewards service, and the notification router on `BOT_PAY_NOTIFY_PATH` with v2 (API
 * key) and v3 (APIv3 key + platform certificates) enabled as configured. In sandbox mode the v3
 * platform certificate defaults to the sandbox's (`src/sandbox/certs/wechatpay-platform_cert.pem`).
 *
 * @example
 * const router = createSpendEndpoint({ settings, orders, rewards, spend: () => config.current().files.spend, clock, log });
 * if (router) app.use(router.routes());
 * @see https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7&index=8
 */
import fs from 'node:fs';
import type { Router } from '@koa/router';
import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import { SANDBOX_PAY_PLATFORM } from '../lib/sandbox-certs';
import { createPayNotifyRouter } from './create-pay-notify-router';
import { createPaymentHandler, type PaymentHandlerDeps } from './handle-payment';
import type { OrderStore } from './order-store';
import type { SpendConfig } from './spend-schema';
import { loadPlatformKeys } from './verify-v3-signature';

/** The settings the endpoint reads (the app's `Settings` fits; spend/ needs nothing from config/). */
export interface SpendEndpointSettings {
  /** True in sandbox mode: the v3 platform certificate defaults to the sandbox's. */
  sandbox: boolean;
  wechat: { appId: string };
  pay: { mchId?: string; key?: string; apiV3Key?: string; platformCertPaths: readonly string[]; publicKeyId?: string };
  /** BOT_PAY_NOTIFY_PATH. */
  payNotifyPath: string;
}

/** What {@link createSpendEndpoint} needs. */
export interface SpendEndpointDeps {
  settings: SpendEndpointSettings;
  orders: OrderStore;
  rewards: PaymentHandlerDeps['rewards'];
  spend: () => SpendConfig;
  clock: Clock;
  log: Logger;
}

/**
 * The router, or undefined when no merchant is configured (no WECHAT_MCH_ID outside sandbox mode).
 * Throws when a configured platform certificate cannot be read.
 *
 * @example createSpendEndpoint(deps)?.routes()
 * @see https://pay.weixin.qq.com/doc/v3/merchant/4012791861
 */
export function createSpendEndpoint(deps: SpendEndpointDeps): Router | undefined {
  const { settings, log } = deps;
  const mchId = settings.pay.mchId;
  if (!mchId) {
    log.info('spend-and-get: no WECHAT_MCH_ID, payment notifications are not served');
    return undefined;
  }
  const certPaths = settings.pay.platformCertPaths.length > 0 ? settings.pay.platformCertPaths : settings.sandbox ? [SANDBOX_PAY_PLATFORM.cert] : [];
  const platformKeys = loadPlatformKeys(certPaths.map((p) => ({ path: p, id: p.endsWith('.pem') && !isCert(p) ? settings.pay.publicKeyId : undefined })));
  const v3 = settings.pay.apiV3Key && platformKeys.size > 0 ? { apiV3Key: settings.pay.apiV3Key, platformKeys } : undefined;
  if (settings.pay.apiV3Key && !v3) log.warn('WECHAT_PAY_APIV3_KEY is set but WECHAT_PAY_PLATFORM_CERT is not: v3 notifications are refused');
  const handle = createPaymentHandler({ orders: deps.orders, rewards: deps.rewards, spend: deps.spend, clock: deps.clock, log });
  return createPayNotifyRouter({
    path: settings.payNotifyPath,
    v2: settings.pay.key ? { key: settings.pay.key } : undefined,
    v3,
    appIds: [settings.wechat.appId],
    mchId,
    handle,
    log,
    clock: deps.clock,
  });
}

function isCert(file: string): boolean {
  try {
    return fs.readFileSync(file, 'utf8').includes('BEGIN CERTIFICATE');
  } catch {
    return true; // loadPlatformKeys reports the unreadable file
  }
}
