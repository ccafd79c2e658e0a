/**
 * WeChat Pay v3 against vectors made by other implementations (Python's cryptography for AES-256-GCM,
 * the openssl command line for RSA-SHA256 over "timestamp\nnonce\nbody\n"): see the fixture's note and
 * test/fixtures/spend/v3-independent/make.sh. Our code only verifies and decrypts them here, so a wrong
 * message format, key handling or tag layout on our side fails, even if our signer and verifier agree.
 */
import fs from 'node:fs';
import path from 'node:path';
import { decryptV3Resource, encryptV3Resource } from '../../src/spend/decrypt-v3-resource';
import { PayNotifyError } from '../../src/spend/payment-order';
import { parseV3Notification } from '../../src/spend/parse-v3-notification';
import { loadPlatformKeys, signV3Message, verifyV3Signature } from '../../src/spend/verify-v3-signature';

const dir = path.join(__dirname, '../fixtures/spend');
interface AesVector {
  name: string;
  key: string;
  nonce: string;
  associated_data: string;
  plaintext: string;
  ciphertext: string;
}
interface SigVector {
  name: string;
  timestamp: string;
  nonce: string;
  serial: string;
  body: string;
  signature: string;
}
const fixture = JSON.parse(fs.readFileSync(path.join(dir, 'v3-independent-vectors.json'), 'utf8')) as {
  aes: AesVector[];
  signatures: SigVector[];
  transaction: { appid: string; mchid: string; transaction_id: string; out_trade_no: string; payer: { openid: string }; amount: { total: number }; attach: string };
};
const keys = loadPlatformKeys([{ path: path.join(dir, 'v3-independent/platform_cert.pem') }]);
const headers = (s: SigVector) => ({ signature: s.signature, timestamp: s.timestamp, nonce: s.nonce, serial: s.serial });
const errorCode = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof PayNotifyError ? err.code : `other: ${String(err)}`;
  }
  return 'accepted';
};

describe('v3 vectors from other implementations', () => {
  it.each(fixture.aes.map((v) => [v.name, v] as const))('should decrypt the Python-made resource %s', (_n, v) => {
    expect(decryptV3Resource({ algorithm: 'AEAD_AES_256_GCM', ciphertext: v.ciphertext, nonce: v.nonce, associated_data: v.associated_data }, v.key)).toBe(v.plaintext);
  });

  it.each(fixture.aes.map((v) => [v.name, v] as const))('should encrypt %s to the same bytes as Python', (_n, v) => {
    expect(encryptV3Resource(v.plaintext, v.key, { nonce: v.nonce, associatedData: v.associated_data }).ciphertext).toBe(v.ciphertext);
  });

  it('should read the certificate serial that openssl prints', () => {
    expect([...keys.keys()]).toEqual([fixture.signatures[0].serial]);
  });

  it.each(fixture.signatures.map((s) => [s.name, s] as const))('should verify the openssl signature over %s', (_n, s) => {
    expect(errorCode(() => verifyV3Signature(keys, headers(s), s.body, { nowSeconds: Number(s.timestamp) }))).toBe('accepted');
  });

  it.each(fixture.signatures.map((s) => [s.name, s] as const))('should refuse the openssl signature of %s over another message', (_n, s) => {
    const now = { nowSeconds: Number(s.timestamp) };
    expect(errorCode(() => verifyV3Signature(keys, headers(s), `${s.body} `, now))).toBe('bad_signature');
    expect(errorCode(() => verifyV3Signature(keys, { ...headers(s), nonce: `${s.nonce}0` }, s.body, now))).toBe('bad_signature');
    expect(errorCode(() => verifyV3Signature(keys, { ...headers(s), timestamp: String(Number(s.timestamp) + 1) }, s.body, now))).toBe('bad_signature');
  });

  it.each(fixture.signatures.map((s) => [s.name, s] as const))('should sign %s to the same bytes as openssl (PKCS#1 v1.5 is deterministic)', (_n, s) => {
    const key = fs.readFileSync(path.join(dir, 'v3-independent/platform_key.pem'), 'utf8');
    expect(signV3Message(key, s.timestamp, s.nonce, s.body)).toBe(s.signature);
  });

  it('should verify, decrypt and translate the whole independently made notification', () => {
    const s = fixture.signatures.find((x) => x.name === 'notification')!;
    const t = fixture.transaction;
    const parsed = parseV3Notification(headers(s), s.body, {
      apiV3Key: fixture.aes[0].key,
      platformKeys: keys,
      appIds: [t.appid],
      mchId: t.mchid,
      nowSeconds: Number(s.timestamp),
    });
    expect(parsed).toMatchObject({
      kind: 'order',
      order: {
        transactionId: t.transaction_id,
        outTradeNo: t.out_trade_no,
        appId: t.appid,
        mchId: t.mchid,
        openId: t.payer.openid,
        totalFen: t.amount.total,
        paid: true,
        attach: t.attach,
        protocol: 'v3',
      },
    });
  });
});
