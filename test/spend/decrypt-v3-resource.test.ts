import fs from 'node:fs';
import path from 'node:path';
import { decryptV3Resource, encryptV3Resource, V3DecryptError } from '../../src/spend/decrypt-v3-resource';

interface Vector {
  name: string;
  key: string;
  nonce: string;
  associated_data: string;
  plaintext: string;
  ciphertext: string;
}
const vectors = JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/spend/v3-aes-gcm-vectors.json'), 'utf8')) as {
  own: Vector[];
};
const res = (v: Pick<Vector, 'ciphertext' | 'nonce' | 'associated_data'>) => ({
  algorithm: 'AEAD_AES_256_GCM',
  ciphertext: v.ciphertext,
  nonce: v.nonce,
  associated_data: v.associated_data,
});

describe('decryptV3Resource', () => {
  it.each(vectors.own.map((v) => [v.name, v] as const))('should decrypt the vector %s', (_name, v) => {
    expect(decryptV3Resource(res(v), v.key)).toBe(v.plaintext);
  });

  it.each([
    ['a wrong key', (v: Vector) => ({ r: res(v), key: `${v.key.slice(0, 31)}${v.key[31] === 'x' ? 'y' : 'x'}` })],
    ['a wrong nonce', (v: Vector) => ({ r: { ...res(v), nonce: 'zzzzzzzzzzzz' }, key: v.key })],
    ['a wrong associated_data', (v: Vector) => ({ r: { ...res(v), associated_data: 'certificate' }, key: v.key })],
    [
      'a flipped ciphertext byte',
      (v: Vector) => {
        const b = Buffer.from(v.ciphertext, 'base64');
        b[3] ^= 1;
        return { r: { ...res(v), ciphertext: b.toString('base64') }, key: v.key };
      },
    ],
    [
      'a flipped tag byte',
      (v: Vector) => {
        const b = Buffer.from(v.ciphertext, 'base64');
        b[b.length - 1] ^= 1;
        return { r: { ...res(v), ciphertext: b.toString('base64') }, key: v.key };
      },
    ],
    ['a truncated ciphertext', (v: Vector) => ({ r: { ...res(v), ciphertext: 'AAAA' }, key: v.key })],
    ['another algorithm', (v: Vector) => ({ r: { ...res(v), algorithm: 'AES_256_CBC' }, key: v.key })],
    ['a key that is not 32 bytes', (v: Vector) => ({ r: res(v), key: 'short' })],
    ['non-base64 ciphertext', (v: Vector) => ({ r: { ...res(v), ciphertext: '<xml>' }, key: v.key })],
  ])('should refuse %s', (_name, make) => {
    const { r, key } = make(vectors.own[0]);
    expect(() => decryptV3Resource(r, key)).toThrow(V3DecryptError);
  });

  it('should refuse a wrong nonce with an error that never carries the key', () => {
    const v = vectors.own[0];
    let caught: unknown = 'decrypted without an error';
    try {
      decryptV3Resource({ ...res(v), nonce: 'zzzzzzzzzzzz' }, v.key);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(V3DecryptError);
    expect((caught as Error).message).not.toContain(v.key);
    expect((caught as Error).stack).not.toContain(v.key);
  });
});

describe('encryptV3Resource', () => {
  it.each(vectors.own.map((v) => [v.name, v] as const))('should reproduce the vector %s byte for byte', (_name, v) => {
    expect(encryptV3Resource(v.plaintext, v.key, { nonce: v.nonce, associatedData: v.associated_data }).ciphertext).toBe(v.ciphertext);
  });
});
