/**
 * What a WeChat Pay merchant API certificate says about itself, and whether it can be used: it must be
 * the certificate of `WECHAT_MCH_ID` and not be expired; within {@link MERCHANT_CERT_WARN_DAYS} of its
 * end it still works but must be renewed.
 *
 * WeChat Pay names the merchant in the subject: CN = the merchant id (商户号), O = 微信商户系统,
 * OU = the company name, issued by "Tenpay.com Root CA" for five years (official: the merchant API
 * certificate "包含商户的商户号、公司名称、公钥信息"). A certificate of another merchant, or an expired
 * one, is refused by WeChat Pay with CA_ERROR on every call — so we refuse it at start instead, naming
 * the file and the fix.
 *
 * @example
 * const info = readMerchantCertInfo(loadMerchantCert({ certPath, mchId }));
 * const verdict = checkMerchantCert(info, { mchId, now: Date.now(), file: certPath });
 * if (!verdict.ok) throw new PayConfigError(verdict.problem);
 * @see https://pay.weixin.qq.com/doc/v3/partner/4012073263
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=4_3
 */
import net from 'node:net';
import tls from 'node:tls';
/** A merchant's API certificate as loaded (PKCS#12, or PEM cert + key); see `loadMerchantCert`. */
export type MerchantCert = { pfx: Buffer; passphrase?: string } | { cert: Buffer; key: Buffer };

/** Warn this many days before the certificate ends (log + metric); it keeps working until then. */
export const MERCHANT_CERT_WARN_DAYS = 30;

const DAY_MS = 24 * 3600 * 1000;

/** Where a new certificate comes from, for every message that asks for one. */
export const MERCHANT_CERT_RENEWAL_HINT =
  'apply for a new API certificate in the WeChat Pay merchant platform (pay.weixin.qq.com → 账户中心 Account Center → API安全 API Security → ' +
  'API证书 API certificate), then point WECHAT_PAY_CERT (and WECHAT_PAY_KEY_PEM for a PEM pair) at the new files';

/** The fields of the merchant certificate we check and report. None of them is a secret. */
export interface MerchantCertInfo {
  /** Subject CN: the merchant id on a WeChat Pay certificate; undefined when the subject has none. */
  subjectCn: string | undefined;
  /** Subject O (`微信商户系统` on WeChat Pay certificates), for messages. */
  subjectO: string | undefined;
  /** Serial number (hex), as the merchant platform shows it. */
  serialNumber: string;
  /** Start and end of validity, ms since the epoch. */
  validFrom: number;
  validTo: number;
}

/**
 * Reads the certificate TLS will present — the leaf of the .p12, or the PEM certificate that goes with
 * the key — through a TLS context, so both formats are read the same way (`TLSSocket#getCertificate`).
 *
 * @example readMerchantCertInfo({ pfx, passphrase: '1900000109' }).subjectCn // '1900000109'
 * @see https://nodejs.org/api/tls.html#tlssocketgetcertificate
 */
export function readMerchantCertInfo(cert: MerchantCert): MerchantCertInfo {
  const context = tls.createSecureContext('pfx' in cert ? { pfx: cert.pfx, passphrase: cert.passphrase } : { cert: cert.cert, key: cert.key });
  const raw = new net.Socket();
  const socket = new tls.TLSSocket(raw, { secureContext: context });
  try {
    const peer = socket.getCertificate();
    if (peer === null || !('subject' in peer) || peer.subject === undefined) throw new TypeError('readMerchantCertInfo: the TLS context holds no certificate');
    const subject = peer.subject as unknown as Record<string, string | string[] | undefined>;
    return {
      subjectCn: firstValue(subject.CN),
      subjectO: firstValue(subject.O),
      serialNumber: String(peer.serialNumber ?? '').toUpperCase(),
      validFrom: Date.parse(peer.valid_from),
      validTo: Date.parse(peer.valid_to),
    };
  } finally {
    socket.destroy();
    raw.destroy();
  }
}

/** Whether the certificate can be used now, and for how long. */
export type MerchantCertVerdict =
  | {
      ok: true;
      /** `expiring`: at most {@link MERCHANT_CERT_WARN_DAYS} days left; `not_yet_valid`: starts later (check the clock). */
      state: 'valid' | 'expiring' | 'not_yet_valid';
      /** Seconds until the end of validity. */
      secondsLeft: number;
      /** Whole days left (rounded down). */
      daysLeft: number;
    }
  | {
      ok: false;
      state: 'wrong_merchant' | 'expired';
      /** What is wrong, which file, how to fix it. */
      problem: string;
      secondsLeft: number;
    };

export interface CheckMerchantCertOptions {
  /** WECHAT_MCH_ID. */
  mchId: string;
  /** Epoch ms to judge validity at. */
  now: number;
  /** The certificate file, for messages. */
  file: string;
  /** Default {@link MERCHANT_CERT_WARN_DAYS}. */
  warnDays?: number;
}

/**
 * Judges a merchant certificate: another merchant's certificate or an expired one is not usable
 * (`ok: false` with a message naming the file and the fix); within `warnDays` of its end it is
 * `expiring`.
 *
 * @example checkMerchantCert(info, { mchId: '1900000109', now: Date.now(), file: 'apiclient_cert.p12' }).state // 'valid'
 * @see https://pay.weixin.qq.com/doc/v3/partner/4012073263
 */
export function checkMerchantCert(info: MerchantCertInfo, options: CheckMerchantCertOptions): MerchantCertVerdict {
  const { mchId, now, file } = options;
  const warnDays = options.warnDays ?? MERCHANT_CERT_WARN_DAYS;
  const secondsLeft = Math.floor((info.validTo - now) / 1000);
  const described = `WeChat Pay merchant certificate ${file} (serial ${info.serialNumber})`;
  if (info.subjectCn === undefined)
    return {
      ok: false,
      state: 'wrong_merchant',
      secondsLeft,
      problem:
        `${described} has no subject CN, where WeChat Pay puts the merchant id: it is not a WeChat Pay merchant API certificate ` +
        `(expected CN=${mchId}, O=微信商户系统). Use apiclient_cert of merchant ${mchId}: ${MERCHANT_CERT_RENEWAL_HINT}`,
    };
  if (info.subjectCn !== mchId)
    return {
      ok: false,
      state: 'wrong_merchant',
      secondsLeft,
      problem:
        `${described} belongs to merchant ${info.subjectCn} (subject CN), not to WECHAT_MCH_ID=${mchId}: WeChat Pay would refuse every call with CA_ERROR. ` +
        `Set WECHAT_PAY_CERT to the apiclient_cert of merchant ${mchId}, or correct WECHAT_MCH_ID`,
    };
  if (!Number.isFinite(info.validTo) || info.validTo <= now)
    return {
      ok: false,
      state: 'expired',
      secondsLeft,
      problem: `${described} expired on ${isoOrUnknown(info.validTo)}: WeChat Pay would refuse every call with CA_ERROR. To fix: ${MERCHANT_CERT_RENEWAL_HINT}`,
    };
  const daysLeft = Math.floor((info.validTo - now) / DAY_MS);
  const state = info.validFrom > now ? 'not_yet_valid' : info.validTo - now <= warnDays * DAY_MS ? 'expiring' : 'valid';
  return { ok: true, state, secondsLeft, daysLeft };
}

function firstValue(v: string | string[] | undefined): string | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' && s.trim() !== '' ? s.trim() : undefined;
}

function isoOrUnknown(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : 'an unreadable date';
}
