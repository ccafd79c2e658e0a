/**
 * Loads and checks the WeChat Pay merchant client certificate (`apiclient_cert.p12`, or the PEM pair
 * `apiclient_cert.pem` + `apiclient_key.pem`) once, at start. A missing, unreadable or wrongly protected
 * certificate, the certificate of another merchant (subject CN ≠ mch_id) or an expired one throws
 * {@link PayConfigError} with a message naming the file, what is wrong and how to fix it — never the
 * passphrase or the key. (Expiry that is near is reported by `watchMerchantCert`, not here.)
 *
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=4_3
 */
import fs from 'node:fs';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import tls from 'node:tls';
import { checkMerchantCert, readMerchantCertInfo } from './check-merchant-cert';
import { PayConfigError } from './errors';

/** A merchant client certificate as Node's TLS takes it. */
export type { MerchantCert } from './check-merchant-cert';
import type { MerchantCert } from './check-merchant-cert';

export interface LoadMerchantCertOptions {
  /** `apiclient_cert.p12` (PKCS#12) or `apiclient_cert.pem` (WECHAT_PAY_CERT). */
  certPath: string;
  /** `apiclient_key.pem` when `certPath` is a PEM certificate (WECHAT_PAY_KEY_PEM); may be omitted when the PEM file holds both. */
  keyPemPath?: string;
  /** PKCS#12 passphrase (WECHAT_PAY_CERT_PASSPHRASE); WeChat Pay sets it to the mch_id, the default. */
  passphrase?: string;
  mchId: string;
  /** For the expiry check (default: now); the bot passes its clock. */
  now?: () => number;
}

/**
 * Reads the certificate and proves it can be used by actually opening it (`tls.createSecureContext`).
 *
 * @example const cert = loadMerchantCert({ certPath: '/etc/wechat/apiclient_cert.p12', mchId: '1900000109' });
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=4_3
 */
export function loadMerchantCert(options: LoadMerchantCertOptions): MerchantCert {
  if (options === null || typeof options !== 'object') throw new PayConfigError('loadMerchantCert: options are required');
  const { certPath, keyPemPath, mchId } = options;
  if (typeof mchId !== 'string' || !/^\d{6,32}$/.test(mchId))
    throw new PayConfigError('WeChat Pay merchant certificate: mch_id is missing or not a merchant id (digits)');
  if (typeof certPath !== 'string' || certPath.trim() === '')
    throw new PayConfigError(
      'WeChat Pay merchant certificate is not configured (WECHAT_PAY_CERT: path of apiclient_cert.p12 or apiclient_cert.pem); red packets cannot be sent without it',
    );
  const certFile = readCertFile(certPath, 'WECHAT_PAY_CERT');
  const now = options.now ?? Date.now;

  if (!looksLikePem(certFile)) {
    if (keyPemPath !== undefined)
      throw new PayConfigError(
        `WeChat Pay merchant certificate ${certPath} is not a PEM certificate, but WECHAT_PAY_KEY_PEM is set: give the PEM pair, or the .p12 alone`,
      );
    const passphrase = options.passphrase ?? mchId;
    try {
      tls.createSecureContext({ pfx: certFile, passphrase });
    } catch (err) {
      throw new PayConfigError(describeP12Failure(certPath, err, options.passphrase !== undefined));
    }
    return usableOrThrow({ pfx: certFile, passphrase }, certPath, mchId, now);
  }

  if (!/-----BEGIN CERTIFICATE-----/.test(certFile.toString('latin1')))
    throw new PayConfigError(`WeChat Pay merchant certificate ${certPath} is a PEM file without a certificate (expected apiclient_cert.pem)`);
  let key: Buffer;
  if (keyPemPath !== undefined) key = readCertFile(keyPemPath, 'WECHAT_PAY_KEY_PEM');
  else if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(certFile.toString('latin1'))) key = certFile;
  else throw new PayConfigError(`WeChat Pay merchant certificate ${certPath} is a PEM certificate without its private key: set WECHAT_PAY_KEY_PEM to apiclient_key.pem`);
  try {
    createPrivateKey(key);
  } catch {
    const encrypted = /ENCRYPTED/.test(key.toString('latin1'));
    throw new PayConfigError(
      `WeChat Pay merchant key ${keyPemPath ?? certPath} cannot be read: ${encrypted ? 'it is encrypted (export it unencrypted, or use the .p12)' : 'not a PEM private key'}`,
    );
  }
  try {
    new X509Certificate(certFile);
  } catch {
    throw new PayConfigError(`WeChat Pay merchant certificate ${certPath} cannot be read: not a valid PEM certificate`);
  }
  try {
    tls.createSecureContext({ cert: certFile, key });
  } catch {
    throw new PayConfigError(`WeChat Pay merchant certificate ${certPath} and key ${keyPemPath ?? certPath} do not belong together`);
  }
  return usableOrThrow({ cert: certFile, key }, certPath, mchId, now);
}

/** The certificate, once it is known to be this merchant's and not expired (both formats alike). */
function usableOrThrow<T extends MerchantCert>(cert: T, certPath: string, mchId: string, now: () => number): T {
  const verdict = checkMerchantCert(readMerchantCertInfo(cert), { mchId, now: now(), file: certPath });
  if (!verdict.ok) throw new PayConfigError(verdict.problem);
  return cert;
}

function readCertFile(file: string, variable: string): Buffer {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code ?? 'error'})`;
    throw new PayConfigError(`WeChat Pay merchant certificate file ${file} (${variable}): ${why}`);
  }
  if (data.length === 0) throw new PayConfigError(`WeChat Pay merchant certificate file ${file} (${variable}) is empty`);
  return data;
}

function looksLikePem(data: Buffer): boolean {
  return data.subarray(0, 4096).toString('latin1').includes('-----BEGIN ');
}

function describeP12Failure(file: string, err: unknown, passphraseGiven: boolean): string {
  const text = err instanceof Error ? err.message : String(err);
  if (/mac verify failure|bad decrypt|invalid password/i.test(text))
    return passphraseGiven
      ? `WeChat Pay merchant certificate ${file} cannot be opened: wrong passphrase (WECHAT_PAY_CERT_PASSPHRASE)`
      : `WeChat Pay merchant certificate ${file} cannot be opened with the default passphrase (the mch_id): set WECHAT_PAY_CERT_PASSPHRASE`;
  if (/unsupported/i.test(text))
    return (
      `WeChat Pay merchant certificate ${file} uses legacy PKCS#12 encryption (RC2) that this Node/OpenSSL cannot open: ` +
      'use the PEM pair the merchant platform also provides (WECHAT_PAY_CERT=apiclient_cert.pem, WECHAT_PAY_KEY_PEM=apiclient_key.pem), ' +
      'or re-export the file (openssl pkcs12 -legacy -in old.p12 -nodes | openssl pkcs12 -export -out apiclient_cert.p12)'
    );
  return `WeChat Pay merchant certificate ${file} is not a PKCS#12 (.p12) file or is damaged`;
}
