import fs from 'node:fs';
import path from 'node:path';
import { signPayV2, stringToSignPayV2, verifyPayV2, type PaySignType } from '../../src/pay/sign';

interface SignVector {
  id: string;
  key: string;
  sign_type: PaySignType;
  params: Record<string, string>;
  expected_string_to_sign?: string;
  expected_sign: string;
}

const vectors: SignVector[] = JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/vectors/wxpay-v2-sign.json'), 'utf8'));

describe('signPayV2', () => {
  it('should have vectors to check', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(5);
  });

  it.each(vectors.map((v) => [v.id, v] as const))('should reproduce vector %s', (_id, v) => {
    expect(signPayV2(v.params, v.key, v.sign_type)).toBe(v.expected_sign);
  });

  it.each(vectors.filter((v) => v.expected_string_to_sign).map((v) => [v.id, v] as const))('should build the documented string to sign for %s', (_id, v) => {
    expect(stringToSignPayV2(v.params, v.key)).toBe(v.expected_string_to_sign);
  });

  it('should default to MD5', () => {
    const v = vectors.find((x) => x.id === 'official-md5')!;
    expect(signPayV2(v.params, v.key)).toBe(v.expected_sign);
  });

  it('should skip undefined values and accept numbers', () => {
    const key = '192006250b4c09247ec02edce69f6a2d';
    expect(signPayV2({ a: 1, b: undefined, c: 'x' }, key)).toBe(signPayV2({ a: '1', c: 'x' }, key));
  });

  it('should sort keys by ASCII, upper case before lower case', () => {
    expect(stringToSignPayV2({ b: '1', B: '2', a: '3' }, 'k')).toBe('B=2&a=3&b=1&key=k');
  });

  it('should refuse an empty key', () => {
    expect(() => signPayV2({ a: '1' }, '')).toThrow(/key is empty/);
  });
});

describe('verifyPayV2', () => {
  it.each(vectors.map((v) => [v.id, v] as const))('should accept the expected sign of %s', (_id, v) => {
    expect(verifyPayV2({ ...v.params, sign: v.expected_sign }, v.key, v.sign_type)).toBe(true);
  });

  it('should accept a lower-case hex sign', () => {
    const v = vectors[0];
    expect(verifyPayV2({ ...v.params, sign: v.expected_sign.toLowerCase() }, v.key, v.sign_type)).toBe(true);
  });

  it.each(vectors.map((v) => [v.id, v] as const))('should reject a tampered field or sign for %s', (_id, v) => {
    expect(verifyPayV2({ ...v.params, extra: 'x', sign: v.expected_sign }, v.key, v.sign_type)).toBe(false);
    const flipped = (v.expected_sign[0] === 'A' ? 'B' : 'A') + v.expected_sign.slice(1);
    expect(verifyPayV2({ ...v.params, sign: flipped }, v.key, v.sign_type)).toBe(false);
    expect(verifyPayV2({ ...v.params, sign: v.expected_sign }, v.key + 'x', v.sign_type)).toBe(false);
  });

  it('should reject a missing sign or a sign of the other algorithm', () => {
    const v = vectors.find((x) => x.id === 'official-md5')!;
    expect(verifyPayV2(v.params, v.key)).toBe(false);
    expect(verifyPayV2({ ...v.params, sign: v.expected_sign }, v.key, 'HMAC-SHA256')).toBe(false);
  });

  it('should ignore nested (non-string) elements of a response', () => {
    const v = vectors.find((x) => x.id === 'official-md5')!;
    expect(verifyPayV2({ ...v.params, hblist: { hbinfo: {} }, sign: v.expected_sign }, v.key)).toBe(true);
  });
});
