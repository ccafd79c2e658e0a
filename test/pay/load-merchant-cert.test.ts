import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadMerchantCert } from '../../src/pay/load-merchant-cert';
import { PayConfigError } from '../../src/pay/errors';
import { SANDBOX_PAY_CERTS } from '../../src/sandbox/pay-server';
import { AT, FIXTURE_MCH_ID, MERCHANT_CERT_FIXTURES } from './merchant-cert-fixtures';

const MCH = '1900000109';
let tmp: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pay-cert-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function expectConfigError(fn: () => unknown, pattern: RegExp, secrets: string[] = []): PayConfigError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(PayConfigError);
  const err = caught as PayConfigError;
  expect(err.message).toMatch(pattern);
  for (const s of secrets) expect(err.message).not.toContain(s);
  return err;
}

describe('loadMerchantCert', () => {
  it('should open the p12 with the mch_id as default passphrase', () => {
    const cert = loadMerchantCert({ certPath: SANDBOX_PAY_CERTS.p12, mchId: MCH });
    expect('pfx' in cert && cert.pfx.length).toBeGreaterThan(0);
    expect('pfx' in cert && cert.passphrase).toBe(MCH);
  });

  it('should open the p12 with an explicit passphrase', () => {
    const cert = loadMerchantCert({ certPath: SANDBOX_PAY_CERTS.p12, mchId: MCH, passphrase: MCH });
    expect('pfx' in cert).toBe(true);
  });

  it('should refuse a wrong passphrase with a clear message that does not repeat it', () => {
    expectConfigError(
      () => loadMerchantCert({ certPath: SANDBOX_PAY_CERTS.p12, mchId: MCH, passphrase: 'not-the-passphrase-42' }),
      /apiclient_cert\.p12 cannot be opened: wrong passphrase \(WECHAT_PAY_CERT_PASSPHRASE\)/,
      ['not-the-passphrase-42'],
    );
  });

  it('should say to set the passphrase when the default (the mch_id) does not open the p12', () => {
    expectConfigError(
      () => loadMerchantCert({ certPath: SANDBOX_PAY_CERTS.p12, mchId: '1900000999' }),
      /default passphrase \(the mch_id\): set WECHAT_PAY_CERT_PASSPHRASE/,
    );
  });

  it('should refuse a missing, empty, unset or directory path', () => {
    expectConfigError(() => loadMerchantCert({ certPath: path.join(tmp, 'nope.p12'), mchId: MCH }), /nope\.p12 \(WECHAT_PAY_CERT\): no such file/);
    expectConfigError(() => loadMerchantCert({ certPath: '', mchId: MCH }), /not configured \(WECHAT_PAY_CERT/);
    expectConfigError(() => loadMerchantCert({ certPath: tmp, mchId: MCH }), /is a directory/);
    const empty = path.join(tmp, 'empty.p12');
    fs.writeFileSync(empty, '');
    expectConfigError(() => loadMerchantCert({ certPath: empty, mchId: MCH }), /is empty/);
  });

  it('should refuse a file that is not PKCS#12', () => {
    const junk = path.join(tmp, 'junk.p12');
    fs.writeFileSync(junk, Buffer.from('definitely not a certificate'));
    expectConfigError(() => loadMerchantCert({ certPath: junk, mchId: MCH }), /junk\.p12 is not a PKCS#12 \(\.p12\) file or is damaged/);
  });

  it('should explain a legacy (RC2) p12 this OpenSSL cannot open, or open it', () => {
    const legacy = path.join(__dirname, '../fixtures/pay/legacy-rc2.p12');
    let result: unknown;
    try {
      result = loadMerchantCert({ certPath: legacy, mchId: MCH });
    } catch (err) {
      result = err;
    }
    if (result instanceof Error) {
      expect(result).toBeInstanceOf(PayConfigError);
      expect(result.message).toMatch(/legacy PKCS#12 encryption \(RC2\).*PEM pair/);
    } else {
      expect(result).toHaveProperty('pfx'); // an OpenSSL with the legacy provider loaded opens it
    }
  });

  it('should load a PEM pair', () => {
    const cert = loadMerchantCert({ certPath: SANDBOX_PAY_CERTS.clientCert, keyPemPath: SANDBOX_PAY_CERTS.clientKey, mchId: MCH });
    expect('cert' in cert && 'key' in cert).toBe(true);
  });

  it('should load one PEM file holding both certificate and key', () => {
    const both = path.join(tmp, 'both.pem');
    fs.writeFileSync(both, Buffer.concat([fs.readFileSync(SANDBOX_PAY_CERTS.clientCert), fs.readFileSync(SANDBOX_PAY_CERTS.clientKey)]));
    const cert = loadMerchantCert({ certPath: both, mchId: MCH });
    expect('cert' in cert).toBe(true);
  });

  it('should ask for the key of a PEM certificate', () => {
    expectConfigError(() => loadMerchantCert({ certPath: SANDBOX_PAY_CERTS.clientCert, mchId: MCH }), /without its private key: set WECHAT_PAY_KEY_PEM/);
  });

  it('should refuse a key that does not belong to the certificate', () => {
    expectConfigError(
      () => loadMerchantCert({ certPath: SANDBOX_PAY_CERTS.clientCert, keyPemPath: SANDBOX_PAY_CERTS.otherMchKey, mchId: MCH }),
      /do not belong together/,
    );
  });

  it('should refuse a key file that is not a key, without echoing it', () => {
    const bad = path.join(tmp, 'bad-key.pem');
    fs.writeFileSync(bad, '-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END PRIVATE KEY-----\n');
    expectConfigError(
      () => loadMerchantCert({ certPath: SANDBOX_PAY_CERTS.clientCert, keyPemPath: bad, mchId: MCH }),
      /bad-key\.pem cannot be read: not a PEM private key/,
      ['c2VjcmV0'],
    );
  });

  it('should refuse an expired certificate', () => {
    expectConfigError(
      () =>
        loadMerchantCert({
          certPath: SANDBOX_PAY_CERTS.clientCert,
          keyPemPath: SANDBOX_PAY_CERTS.clientKey,
          mchId: MCH,
          now: () => Date.parse('2200-01-01T00:00:00Z'),
        }),
      /expired on/,
    );
  });

  describe.each([
    ['.p12', { certPath: MERCHANT_CERT_FIXTURES.p12 }],
    ['PEM pair', { certPath: MERCHANT_CERT_FIXTURES.certPem, keyPemPath: MERCHANT_CERT_FIXTURES.keyPem }],
  ])('subject and validity (%s)', (_format, files) => {
    const load = (mchId: string, now: number) => loadMerchantCert({ ...files, passphrase: FIXTURE_MCH_ID, mchId, now: () => now });

    it('should load the certificate of WECHAT_MCH_ID within its validity', () => {
      expect(load(FIXTURE_MCH_ID, AT.fresh)).toBeDefined();
      expect(load(FIXTURE_MCH_ID, AT.tenDaysLeft)).toBeDefined(); // near the end it still works; the bot warns
    });

    it('should refuse the certificate of another merchant, naming the file and both merchant ids', () => {
      const err = expectConfigError(() => load('1900000999', AT.fresh), /belongs to merchant 1900000109 \(subject CN\), not to WECHAT_MCH_ID=1900000999/);
      expect(err.message).toContain(files.certPath);
    });

    it('should refuse an expired certificate, saying where to get a new one', () => {
      const err = expectConfigError(() => load(FIXTURE_MCH_ID, AT.expired), /expired on \d{4}-\d\d-\d\dT/);
      expect(err.message).toContain(files.certPath);
      expect(err.message).toMatch(/merchant platform.*API certificate/);
    });
  });

  it('should refuse a key path given with a p12', () => {
    expectConfigError(
      () => loadMerchantCert({ certPath: SANDBOX_PAY_CERTS.p12, keyPemPath: SANDBOX_PAY_CERTS.clientKey, mchId: MCH }),
      /not a PEM certificate, but WECHAT_PAY_KEY_PEM is set/,
    );
  });

  it('should refuse a missing or malformed mch_id', () => {
    expectConfigError(() => loadMerchantCert({ certPath: SANDBOX_PAY_CERTS.p12, mchId: 'abc' }), /mch_id is missing/);
  });
});
