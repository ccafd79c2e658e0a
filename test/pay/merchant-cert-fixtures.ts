/**
 * The merchant-certificate fixtures (scripts/make-pay-cert-fixtures.sh): a certificate shaped like WeChat
 * Pay's (CN = mch_id, O = 微信商户系统), as a .p12 and as a PEM pair, and moments placed relative to its
 * own validity — tests never depend on the real date.
 */
import fs from 'node:fs';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';

const DIR = path.join(__dirname, '../fixtures/pay/merchant-cert');

export const FIXTURE_MCH_ID = '1900000109';

export const MERCHANT_CERT_FIXTURES = {
  p12: path.join(DIR, 'apiclient_cert.p12'),
  certPem: path.join(DIR, 'apiclient_cert.pem'),
  keyPem: path.join(DIR, 'apiclient_key.pem'),
} as const;

export const DAY_MS = 24 * 3600 * 1000;

const x509 = new X509Certificate(fs.readFileSync(MERCHANT_CERT_FIXTURES.certPem));

/** Validity of the fixture certificate, epoch ms. */
export const FIXTURE_VALID_FROM = Date.parse(x509.validFrom);
export const FIXTURE_VALID_TO = Date.parse(x509.validTo);

/** Moments to judge the fixture at. */
export const AT = {
  /** A day after it started: valid, far from the end. */
  fresh: FIXTURE_VALID_FROM + DAY_MS,
  /** 10 days and an hour before the end: in the warning window. */
  tenDaysLeft: FIXTURE_VALID_TO - 10 * DAY_MS - 3600_000,
  /** A day after the end. */
  expired: FIXTURE_VALID_TO + DAY_MS,
} as const;
