import fs from 'node:fs';
import { checkMerchantCert, MERCHANT_CERT_WARN_DAYS, readMerchantCertInfo, type MerchantCertInfo } from '../../src/pay/check-merchant-cert';
import { SANDBOX_PAY_CERTS } from '../../src/sandbox/pay-server';
import { AT, DAY_MS, FIXTURE_MCH_ID, FIXTURE_VALID_FROM, FIXTURE_VALID_TO, MERCHANT_CERT_FIXTURES } from './merchant-cert-fixtures';

const p12 = () => ({ pfx: fs.readFileSync(MERCHANT_CERT_FIXTURES.p12), passphrase: FIXTURE_MCH_ID });
const pem = () => ({ cert: fs.readFileSync(MERCHANT_CERT_FIXTURES.certPem), key: fs.readFileSync(MERCHANT_CERT_FIXTURES.keyPem) });

describe('readMerchantCertInfo', () => {
  it('should read the subject and validity of a WeChat-Pay-shaped certificate from the .p12 and from the PEM pair alike', () => {
    const fromP12 = readMerchantCertInfo(p12());
    const fromPem = readMerchantCertInfo(pem());
    expect(fromP12).toEqual(fromPem);
    expect(fromP12).toMatchObject({ subjectCn: FIXTURE_MCH_ID, subjectO: '微信商户系统', validFrom: FIXTURE_VALID_FROM, validTo: FIXTURE_VALID_TO });
    expect(fromP12.serialNumber).toMatch(/^[0-9A-F]{20,40}$/);
  });

  it('should read the certificate that goes with the key when the PEM file holds key and certificate', () => {
    const both = Buffer.concat([fs.readFileSync(MERCHANT_CERT_FIXTURES.keyPem), fs.readFileSync(MERCHANT_CERT_FIXTURES.certPem)]);
    expect(readMerchantCertInfo({ cert: both, key: both }).subjectCn).toBe(FIXTURE_MCH_ID);
  });

  it('should read the sandbox merchant certificate (CN = the sandbox mch_id)', () => {
    const info = readMerchantCertInfo({ pfx: fs.readFileSync(SANDBOX_PAY_CERTS.p12), passphrase: '1900000109' });
    expect(info.subjectCn).toBe('1900000109');
  });
});

describe('checkMerchantCert', () => {
  const info = readMerchantCertInfo(pem());
  const judge = (now: number, mchId = FIXTURE_MCH_ID, i: MerchantCertInfo = info) => checkMerchantCert(i, { mchId, now, file: '/etc/wechat/apiclient_cert.pem' });

  it.each([
    ['valid', 'a day after it started', AT.fresh],
    ['valid', '31 days before the end', FIXTURE_VALID_TO - 31 * DAY_MS],
    ['expiring', 'exactly 30 days before the end', FIXTURE_VALID_TO - 30 * DAY_MS],
    ['expiring', '10 days before the end', AT.tenDaysLeft],
    ['expiring', 'a second before the end', FIXTURE_VALID_TO - 1000],
    ['not_yet_valid', 'an hour before it starts', FIXTURE_VALID_FROM - 3600_000],
  ])('should judge the certificate usable and %s %s', (state, _label, now) => {
    expect(judge(now)).toMatchObject({ ok: true, state, secondsLeft: Math.floor((FIXTURE_VALID_TO - now) / 1000) });
  });

  it('should count whole days left', () => {
    expect(judge(AT.tenDaysLeft)).toMatchObject({ daysLeft: 10 });
    expect(MERCHANT_CERT_WARN_DAYS).toBe(30);
  });

  it.each([
    ['at the end', FIXTURE_VALID_TO],
    ['a day after the end', AT.expired],
  ])('should refuse an expired certificate %s, naming the file, the date and the fix', (_label, now) => {
    const v = judge(now);
    expect(v).toMatchObject({ ok: false, state: 'expired' });
    if (v.ok) throw new Error('unreachable');
    expect(v.problem).toContain('/etc/wechat/apiclient_cert.pem');
    expect(v.problem).toContain(`expired on ${new Date(FIXTURE_VALID_TO).toISOString()}`);
    expect(v.problem).toMatch(/apply for a new API certificate in the WeChat Pay merchant platform.*WECHAT_PAY_CERT/);
  });

  it('should refuse the certificate of another merchant, naming both merchant ids', () => {
    const v = judge(AT.fresh, '1900000999');
    expect(v).toMatchObject({ ok: false, state: 'wrong_merchant' });
    if (v.ok) throw new Error('unreachable');
    expect(v.problem).toMatch(/apiclient_cert\.pem \(serial [0-9A-F]+\) belongs to merchant 1900000109 \(subject CN\), not to WECHAT_MCH_ID=1900000999/);
    expect(v.problem).toMatch(/CA_ERROR/);
  });

  it('should refuse a certificate without a subject CN as not a WeChat Pay merchant certificate', () => {
    const v = judge(AT.fresh, FIXTURE_MCH_ID, { ...info, subjectCn: undefined });
    expect(v).toMatchObject({ ok: false, state: 'wrong_merchant' });
    if (!v.ok) expect(v.problem).toMatch(/has no subject CN.*not a WeChat Pay merchant API certificate/);
  });

  it('should check the merchant before the date', () => {
    expect(judge(AT.expired, '1900000999')).toMatchObject({ ok: false, state: 'wrong_merchant' });
  });
});
