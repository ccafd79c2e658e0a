/**
 * Keeps an eye on the merchant API certificate of a running bot: checks it at start and then daily,
 * exports its end of validity as metrics, and logs a warning every day of the last
 * {@link MERCHANT_CERT_WARN_DAYS} days — a bot that runs for months still warns before WeChat Pay starts
 * answering CA_ERROR. A certificate that is another merchant's or already expired refuses the start
 * ({@link PayConfigError}); one that expires while the bot runs is logged as an error (WeChat Pay then
 * refuses the sends, the outbox pauses the campaign and keeps the grants with their bill numbers).
 *
 * Metrics (Prometheus):
 * - `wechat_pay_cert_expiry_timestamp_seconds`: the certificate's notAfter, Unix seconds — alert on
 *   `wechat_pay_cert_expiry_timestamp_seconds - time() < 30 * 86400`; correct between checks.
 * - `wechat_pay_cert_expiry_seconds`: seconds left at the last check (negative once expired).
 *
 * @example
 * const watch = watchMerchantCert({ cert, file: certPath, mchId, clock, log, metrics });
 * … watch.stop();
 * @see https://pay.weixin.qq.com/doc/v3/partner/4012073263
 */
import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import type { Metrics } from '../lib/metrics';
import {
  checkMerchantCert,
  MERCHANT_CERT_RENEWAL_HINT,
  MERCHANT_CERT_WARN_DAYS,
  readMerchantCertInfo,
  type MerchantCertInfo,
  type MerchantCertVerdict,
} from './check-merchant-cert';
import { PayConfigError } from './errors';
import type { MerchantCert } from './load-merchant-cert';

/** Metric names of the merchant certificate. */
export const MERCHANT_CERT_METRICS = {
  notAfter: 'wechat_pay_cert_expiry_timestamp_seconds',
  secondsLeft: 'wechat_pay_cert_expiry_seconds',
} as const;

const DAY_MS = 24 * 3600 * 1000;

export interface WatchMerchantCertOptions {
  /** From `loadMerchantCert`. */
  cert: MerchantCert;
  /** The certificate file (WECHAT_PAY_CERT), for messages. */
  file: string;
  /** WECHAT_MCH_ID. */
  mchId: string;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  /** Default {@link MERCHANT_CERT_WARN_DAYS}. */
  warnDays?: number;
  /** Re-check period in ms (default one day; 0 = check at start only). */
  intervalMs?: number;
}

/** A running watch. */
export interface MerchantCertWatch {
  readonly info: MerchantCertInfo;
  /** Checks now: updates the metrics, logs when the certificate needs attention. Never throws. */
  check(): MerchantCertVerdict;
  stop(): void;
}

/**
 * Checks the certificate now (throws {@link PayConfigError} when it cannot be used) and every
 * `intervalMs` after that (unref'd timer: it never keeps the process alive).
 *
 * @example const watch = watchMerchantCert({ cert, file, mchId, clock: systemClock, log, metrics });
 * @see https://pay.weixin.qq.com/doc/v3/partner/4012073263
 */
export function watchMerchantCert(options: WatchMerchantCertOptions): MerchantCertWatch {
  const { cert, file, mchId, clock, metrics } = options;
  const warnDays = options.warnDays ?? MERCHANT_CERT_WARN_DAYS;
  const intervalMs = options.intervalMs ?? DAY_MS;
  if (!Number.isFinite(intervalMs) || intervalMs < 0) throw new TypeError('watchMerchantCert: intervalMs must be 0 or a positive number of ms');
  const log = options.log.child({ module: 'pay' });
  const info = readMerchantCertInfo(cert);
  const notAfter = metrics.gauge(MERCHANT_CERT_METRICS.notAfter, 'End of validity of the WeChat Pay merchant API certificate (Unix seconds)');
  const secondsLeft = metrics.gauge(MERCHANT_CERT_METRICS.secondsLeft, 'Seconds until the WeChat Pay merchant API certificate expires, at the last check');
  notAfter.set(Math.floor(info.validTo / 1000));

  function check(): MerchantCertVerdict {
    const verdict = checkMerchantCert(info, { mchId, now: clock.now(), file, warnDays });
    secondsLeft.set(verdict.secondsLeft);
    report(log, info, file, verdict);
    return verdict;
  }

  const first = check();
  if (!first.ok) throw new PayConfigError(first.problem);
  const timer = intervalMs > 0 ? setInterval(check, intervalMs) : undefined;
  timer?.unref();
  return {
    info,
    check,
    stop: function stopMerchantCertWatch() {
      if (timer) clearInterval(timer);
    },
  };
}

/** One log line when the certificate needs attention; nothing while it is fine. */
function report(log: Logger, info: MerchantCertInfo, file: string, verdict: MerchantCertVerdict): void {
  const fields = { certFile: file, certSerial: info.serialNumber, certSubjectCn: info.subjectCn, certNotAfter: new Date(info.validTo).toISOString() };
  if (!verdict.ok) {
    log.error({ ...fields, state: verdict.state }, verdict.problem);
  } else if (verdict.state === 'expiring') {
    log.warn(
      { ...fields, daysLeft: verdict.daysLeft },
      `WeChat Pay merchant certificate ${file} expires in ${verdict.daysLeft} days (${fields.certNotAfter}); after that WeChat Pay refuses every red packet with CA_ERROR. To renew: ${MERCHANT_CERT_RENEWAL_HINT}`,
    );
  } else if (verdict.state === 'not_yet_valid') {
    log.warn(
      { ...fields, certNotBefore: new Date(info.validFrom).toISOString() },
      `WeChat Pay merchant certificate ${file} is not valid before ${new Date(info.validFrom).toISOString()}: check this machine's clock, or wait before using a certificate issued just now`,
    );
  }
}
