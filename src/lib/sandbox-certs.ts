/**
 * Where the public, sandbox-only certificates live (`src/sandbox/certs/`, see its README): the Pay
 * sandbox's CA, server and merchant client certificates, and the WeChat Pay platform key pair the
 * sandbox signs v3 notifications with. A leaf module, so the bot's Pay and spend code can default to
 * the sandbox's files in sandbox mode without importing the sandbox servers.
 *
 * @example const ca = fs.readFileSync(SANDBOX_PAY_CERTS.ca);
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=4_3
 */
import fs from 'node:fs';
import path from 'node:path';

/** `src/sandbox/certs`; from a compiled `dist/src/lib/` the source folder is used. */
const CERT_DIR =
  [path.resolve(__dirname, '../sandbox/certs'), path.resolve(__dirname, '../../../src/sandbox/certs')].find((dir) => fs.existsSync(path.join(dir, 'ca.pem'))) ??
  path.resolve(__dirname, '../sandbox/certs');

/** Paths of the public sandbox certificates (see `src/sandbox/certs/README.md`). */
export const SANDBOX_PAY_CERTS = {
  dir: CERT_DIR,
  ca: path.join(CERT_DIR, 'ca.pem'),
  serverCert: path.join(CERT_DIR, 'server.pem'),
  serverKey: path.join(CERT_DIR, 'server-key.pem'),
  /** Merchant client certificate of SANDBOX_CREDENTIALS.mchId; passphrase = the mch_id. */
  p12: path.join(CERT_DIR, 'apiclient_cert.p12'),
  clientCert: path.join(CERT_DIR, 'apiclient_cert.pem'),
  clientKey: path.join(CERT_DIR, 'apiclient_key.pem'),
  /** Sandbox-CA client certificate of another merchant (1900000999). */
  otherMchCert: path.join(CERT_DIR, 'other-mch_cert.pem'),
  otherMchKey: path.join(CERT_DIR, 'other-mch_key.pem'),
  /** A client certificate for the sandbox merchant from an unrelated CA. */
  rogueCert: path.join(CERT_DIR, 'rogue_cert.pem'),
  rogueKey: path.join(CERT_DIR, 'rogue_key.pem'),
} as const;

/** The sandbox's WeChat Pay platform certificate and private key (v3 notification signatures). */
export const SANDBOX_PAY_PLATFORM = {
  cert: path.join(CERT_DIR, 'wechatpay-platform_cert.pem'),
  key: path.join(CERT_DIR, 'wechatpay-platform_key.pem'),
  /** The certificate's serial number: the `Wechatpay-Serial` header. */
  serial: '5157F09EFDC096DE15EBE81A47057A7232F2BB80',
} as const;
