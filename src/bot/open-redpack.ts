/**
 * The bot's WeChat Pay side: the merchant certificate (checked at start: this merchant's and not
 * expired, or the start fails with the fix), its expiry watch (log + metric in its last 30 days,
 * daily), the Pay client and the red-packet API over it — or {@link UNCONFIGURED_REDPACK} when no
 * merchant is configured. In sandbox mode the stand-in's own certificate passes the same check.
 *
 * @example const { redpack, close } = openRedpack(settings, { payBase, sandboxCa, clock, log, metrics });
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=4_3
 */
import fs from 'node:fs';
import type { Settings } from '../config/settings';
import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import type { Metrics } from '../lib/metrics';
import { createPayClient } from '../pay/client';
import { loadMerchantCert } from '../pay/load-merchant-cert';
import { createRedpackApi } from '../pay/redpack';
import type { RedpackApi } from '../pay/types';
import { UNCONFIGURED_REDPACK } from '../pay/unconfigured-redpack';
import { watchMerchantCert } from '../pay/watch-merchant-cert';
import { SANDBOX_PAY_CERTS } from '../sandbox/pay-server';

/** Where Pay calls go and what they are checked with. */
export interface OpenRedpackOptions {
  /** The Pay base URL (the sandbox's in sandbox mode). */
  payBase: string;
  /** In sandbox mode: the stand-in's CA (its certificate replaces WECHAT_PAY_CERT). */
  sandboxCa?: Buffer;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
}

/**
 * Opens Pay from `settings.pay`; `close()` stops the certificate watch and the client.
 *
 * @example openRedpack(settings, { payBase: settings.pay.apiBase, clock: systemClock, log, metrics })
 */
export function openRedpack(settings: Pick<Settings, 'pay' | 'wechat'>, o: OpenRedpackOptions): { redpack: RedpackApi; close(): void } {
  const { pay } = settings;
  if (!pay.mchId || !pay.key) return { redpack: UNCONFIGURED_REDPACK, close: () => undefined };
  const sandbox = o.sandboxCa !== undefined;
  const certPath = sandbox ? SANDBOX_PAY_CERTS.p12 : pay.certPath!;
  const now = () => o.clock.now();
  const cert = sandbox
    ? loadMerchantCert({ certPath, mchId: pay.mchId, now })
    : loadMerchantCert({ certPath, keyPemPath: pay.keyPemPath, passphrase: pay.certPassphrase, mchId: pay.mchId, now });
  const certWatch = watchMerchantCert({ cert, file: certPath, mchId: pay.mchId, clock: o.clock, log: o.log, metrics: o.metrics });
  try {
    const client = createPayClient({
      mchId: pay.mchId,
      key: pay.key,
      appId: settings.wechat.appId,
      baseUrl: o.payBase,
      clientIp: pay.clientIp,
      cert,
      ca: o.sandboxCa ?? (pay.caPath ? fs.readFileSync(pay.caPath) : undefined),
      log: o.log,
    });
    return {
      redpack: createRedpackApi(client, { log: o.log }),
      close() {
        certWatch.stop();
        client.close();
      },
    };
  } catch (error) {
    certWatch.stop();
    throw error;
  }
}
