/**
 * AEAD_AES_256_GCM, as WeChat Pay API v3 encrypts a notification's `resource` (and downloaded platform
 * certificates): key = the 32-byte APIv3 key (ASCII), IV = `resource.nonce` (12 bytes, UTF-8), AAD =
 * `resource.associated_data`, `ciphertext` = base64(encrypted bytes ‖ 16-byte tag).
 *
 * @example const json = decryptV3Resource(body.resource, apiV3Key);
 * @see https://pay.weixin.qq.com/doc/v3/merchant/4012071382
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';

/** The `resource` object of a v3 notification. */
export interface V3Resource {
  algorithm: string;
  ciphertext: string;
  associated_data?: string;
  nonce: string;
  original_type?: string;
}

/** The resource could not be decrypted (wrong key, tampered data, wrong nonce or AAD). Never carries the key. */
export class V3DecryptError extends Error {
  override readonly name = 'V3DecryptError';
}

const TAG_BYTES = 16;

function checkKey(apiV3Key: string): Buffer {
  const key = Buffer.from(typeof apiV3Key === 'string' ? apiV3Key : '', 'utf8');
  if (key.length !== 32) throw new V3DecryptError('the APIv3 key must be 32 bytes');
  return key;
}

/**
 * Decrypts a resource to its UTF-8 plaintext. Throws {@link V3DecryptError} on any failure.
 *
 * @example decryptV3Resource({ algorithm: 'AEAD_AES_256_GCM', ciphertext, nonce, associated_data: 'transaction' }, key)
 * @see https://pay.weixin.qq.com/doc/v3/merchant/4012071382
 */
export function decryptV3Resource(resource: V3Resource, apiV3Key: string): string {
  const key = checkKey(apiV3Key);
  if (!resource || resource.algorithm !== 'AEAD_AES_256_GCM') throw new V3DecryptError(`algorithm ${String(resource?.algorithm).slice(0, 30)} is not AEAD_AES_256_GCM`);
  if (typeof resource.nonce !== 'string' || resource.nonce.length === 0 || typeof resource.ciphertext !== 'string')
    throw new V3DecryptError('nonce or ciphertext is missing');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(resource.ciphertext)) throw new V3DecryptError('ciphertext is not base64');
  const data = Buffer.from(resource.ciphertext, 'base64');
  if (data.length < TAG_BYTES) throw new V3DecryptError('ciphertext is shorter than its tag');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(resource.nonce, 'utf8'), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(resource.associated_data ?? '', 'utf8'));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    return Buffer.concat([decipher.update(data.subarray(0, data.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new V3DecryptError('the resource does not decrypt with the APIv3 key (tag mismatch)');
  }
}

/**
 * Encrypts a plaintext as WeChat Pay does (the sandbox notifier and tests use it).
 *
 * @example encryptV3Resource(JSON.stringify(transaction), key, { nonce: 'fdasflkja484', associatedData: 'transaction' })
 * @see https://pay.weixin.qq.com/doc/v3/merchant/4012071382
 */
export function encryptV3Resource(plaintext: string, apiV3Key: string, opts: { nonce: string; associatedData?: string; originalType?: string }): V3Resource {
  const key = checkKey(apiV3Key);
  const cipher = createCipheriv('aes-256-gcm', key, Buffer.from(opts.nonce, 'utf8'), { authTagLength: TAG_BYTES });
  const aad = opts.associatedData ?? 'transaction';
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const enc = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return {
    original_type: opts.originalType ?? 'transaction',
    algorithm: 'AEAD_AES_256_GCM',
    ciphertext: enc.toString('base64'),
    associated_data: aad,
    nonce: opts.nonce,
  };
}
