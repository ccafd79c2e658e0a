import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { checkMsgSignature, checkSignature, computeMsgSignature, computeSignature, safeEqualHex } from '../../src/wechat/signature';

interface SignatureVector {
  id: string;
  token?: string;
  parts?: string[];
  query?: Record<string, string>;
  expected_signature: string;
  valid: boolean;
}
interface AesVector {
  id: string;
  kind: string;
  token?: string;
  timestamp?: string;
  nonce?: string;
  msg_signature?: string;
  encrypt?: string;
  negative?: { nonce: string };
  expected?: { encrypt?: string; msg_signature?: string };
}

const vectorsDir = join(__dirname, '..', 'fixtures', 'vectors');
const handshake: SignatureVector[] = JSON.parse(readFileSync(join(vectorsDir, 'handshake-signature.json'), 'utf8'));
const aes: AesVector[] = JSON.parse(readFileSync(join(vectorsDir, 'aes-crypto.json'), 'utf8'));

describe('computeSignature', () => {
  it.each(handshake.map((v) => [v.id, v] as const))('should compute the expected signature for %s', (_id, v) => {
    const parts = v.parts ?? [v.token as string, v.query?.timestamp as string, v.query?.nonce as string];
    expect(computeSignature(...parts)).toBe(v.expected_signature);
  });

  it('should not depend on the order of its arguments', () => {
    expect(computeSignature('123', '789', '456')).toBe(computeSignature('789', '456', '123'));
  });

  it('should not sort the caller’s array in place', () => {
    const parts = ['b', 'a'];
    computeSignature(...parts);
    expect(parts).toEqual(['b', 'a']);
  });
});

describe('computeMsgSignature', () => {
  it('should give the same digest as computeSignature with Encrypt as the fourth part', () => {
    const part = fc.string({ unit: 'grapheme', maxLength: 700 });
    fc.assert(
      fc.property(part, part, part, part, (token, timestamp, nonce, encrypt) => {
        expect(computeMsgSignature(token, timestamp, nonce, encrypt)).toBe(computeSignature(token, timestamp, nonce, encrypt));
      }),
    );
  });
});

describe('safeEqualHex', () => {
  it('should accept equal digests', () => {
    expect(safeEqualHex('abc123', 'abc123')).toBe(true);
  });
  it('should reject digests that differ in one character', () => {
    expect(safeEqualHex('abc123', 'abc124')).toBe(false);
  });
  it('should reject digests of different lengths without throwing', () => {
    expect(safeEqualHex('abc123', 'abc12')).toBe(false);
    expect(safeEqualHex('', '')).toBe(false);
  });
  it('should reject non-strings', () => {
    expect(safeEqualHex(undefined as unknown as string, 'a')).toBe(false);
    expect(safeEqualHex(['a'] as unknown as string, 'a')).toBe(false);
    expect(safeEqualHex('1', 1 as unknown as string)).toBe(false);
  });
  it('should be case-sensitive (WeChat sends lowercase hex)', () => {
    expect(safeEqualHex('ABCDEF', 'abcdef')).toBe(false);
  });
});

describe('checkSignature', () => {
  it('should accept exactly the digest computeSignature gives, for any parts', () => {
    const part = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 });
    fc.assert(
      fc.property(part, part, part, (token, timestamp, nonce) => {
        const signature = computeSignature(token, timestamp, nonce);
        expect(checkSignature(token, { signature, timestamp, nonce })).toBe(true);
        const other = signature.slice(0, -1) + (signature.endsWith('0') ? '1' : '0');
        expect(checkSignature(token, { signature: other, timestamp, nonce })).toBe(false);
      }),
    );
  });
  const withQuery = handshake.filter((v) => v.query?.signature !== undefined);

  it.each(withQuery.map((v) => [v.id, v] as const))('should answer the vector’s verdict for %s', (_id, v) => {
    expect(checkSignature(v.token as string, v.query as Record<string, string>)).toBe(v.valid);
  });

  const ok = handshake.find((v) => v.id === 'official-url-verify-get') as SignatureVector;
  const q = ok.query as { signature: string; timestamp: string; nonce: string };

  it('should reject a wrong token', () => {
    expect(checkSignature('BBBBB', q)).toBe(false);
  });
  it('should reject a changed timestamp or nonce', () => {
    expect(checkSignature('AAAAA', { ...q, timestamp: String(Number(q.timestamp) + 1) })).toBe(false);
    expect(checkSignature('AAAAA', { ...q, nonce: `${q.nonce}0` })).toBe(false);
  });
  it('should reject missing parameters', () => {
    expect(checkSignature('AAAAA', { timestamp: q.timestamp, nonce: q.nonce })).toBe(false);
    expect(checkSignature('AAAAA', { signature: q.signature, nonce: q.nonce })).toBe(false);
    expect(checkSignature('AAAAA', { signature: q.signature, timestamp: q.timestamp })).toBe(false);
    expect(checkSignature('AAAAA', {})).toBe(false);
  });
  it('should reject an uppercase or truncated signature', () => {
    expect(checkSignature('AAAAA', { ...q, signature: q.signature.toUpperCase() })).toBe(false);
    expect(checkSignature('AAAAA', { ...q, signature: q.signature.slice(0, 39) })).toBe(false);
  });
  it('should reject an empty token', () => {
    expect(checkSignature('', q)).toBe(false);
  });
  it('should reject array-valued parameters (repeated query keys)', () => {
    expect(checkSignature('AAAAA', { ...q, signature: [q.signature, q.signature] as unknown as string })).toBe(false);
  });
});

describe('checkMsgSignature', () => {
  const signed = aes.filter((v) => v.kind === 'decrypt' && v.msg_signature && v.encrypt);

  it('should have msg_signature vectors to check', () => {
    expect(signed.length).toBeGreaterThanOrEqual(3);
  });

  it.each(signed.map((v) => [v.id, v] as const))('should accept the msg_signature of %s', (_id, v) => {
    const q = { msg_signature: v.msg_signature, timestamp: v.timestamp, nonce: v.nonce };
    expect(checkMsgSignature(v.token as string, q, v.encrypt as string)).toBe(true);
  });

  it.each(aes.filter((v) => v.kind === 'encrypt-reply').map((v) => [v.id, v] as const))('should accept the reply MsgSignature of %s', (_id, v) => {
    const q = { msg_signature: v.expected?.msg_signature, timestamp: v.timestamp, nonce: v.nonce };
    expect(checkMsgSignature(v.token as string, q, v.expected?.encrypt as string)).toBe(true);
  });

  it('should reject the negative nonce of the WeCom echostr vector', () => {
    const v = aes.find((x) => x.id === 'wechatpy-wecom-encrypted-echostr') as AesVector;
    const q = { msg_signature: v.msg_signature, timestamp: v.timestamp, nonce: v.negative?.nonce };
    expect(checkMsgSignature(v.token as string, q, v.encrypt as string)).toBe(false);
  });

  it('should reject a tampered Encrypt or a missing parameter', () => {
    const v = signed[0];
    const q = { msg_signature: v.msg_signature, timestamp: v.timestamp, nonce: v.nonce };
    expect(checkMsgSignature(v.token as string, q, `${v.encrypt as string}x`)).toBe(false);
    expect(checkMsgSignature(v.token as string, q, '')).toBe(false);
    expect(checkMsgSignature(v.token as string, { ...q, msg_signature: undefined }, v.encrypt as string)).toBe(false);
    expect(checkMsgSignature(v.token as string, { ...q, timestamp: undefined }, v.encrypt as string)).toBe(false);
  });

  it('should not accept the plain signature in place of msg_signature', () => {
    const v = signed[0];
    const plain = computeSignature(v.token as string, v.timestamp as string, v.nonce as string);
    const q = { msg_signature: plain, timestamp: v.timestamp, nonce: v.nonce };
    expect(checkMsgSignature(v.token as string, q, v.encrypt as string)).toBe(false);
  });
});
