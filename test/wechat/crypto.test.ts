import { createCipheriv, createDecipheriv } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { join } from 'node:path';
import { AES_BLOCK, CbcCodec, CRYPTO_ERROR_CODES, createMessageCrypto, pkcs7Pad, pkcs7Unpad, WeChatCryptoError } from '../../src/wechat/crypto';

interface AesVector {
  id: string;
  kind: 'decrypt' | 'encrypt' | 'encrypt-reply' | 'key-check' | 'padding';
  encoding_aes_key?: string;
  appid?: string;
  encrypt?: string;
  msg?: string;
  random16?: string;
  expected_encrypt?: string;
  expected?: {
    aes_key_hex?: string;
    random16?: string;
    msg_len?: number;
    msg?: string;
    appid?: string;
    pad_byte?: number;
    ciphertext_bytes?: number;
    fullstr_bytes?: number;
    encrypt?: string;
    valid?: boolean;
  };
  cases?: { input_utf8?: string; input_len?: number; expected_pad_len: number; expected_pad_byte: number }[];
}

const vectors: AesVector[] = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'vectors', 'aes-crypto.json'), 'utf8'));
const byId = (id: string): AesVector => {
  const v = vectors.find((x) => x.id === id);
  if (!v) throw new Error(`missing vector ${id}`);
  return v;
};

const KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const APPID = 'wx2c2769f8efd9abc2';
const OTHER_KEY = 'kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR';

function expectCryptoError(fn: () => unknown, code: number): WeChatCryptoError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(WeChatCryptoError);
  expect((caught as WeChatCryptoError).code).toBe(code);
  return caught as WeChatCryptoError;
}

/** Encrypts a raw frame (already padded or not) with the WXBizMsgCrypt key/IV, for hand-made bad inputs. */
function rawEncrypt(encodingAESKey: string, frame: Buffer): string {
  const key = Buffer.from(`${encodingAESKey}=`, 'base64');
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(frame), cipher.final()]).toString('base64');
}

function frameOf(msg: string, appId: string, random = Buffer.alloc(16, 0x61)): Buffer {
  const body = Buffer.from(msg, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length, 0);
  return Buffer.concat([random, len, body, Buffer.from(appId, 'utf8')]);
}

describe('createMessageCrypto', () => {
  it('should reject the bad-encoding-aes-key vector with −40004', () => {
    const v = byId('bad-encoding-aes-key');
    expect(v.expected?.valid).toBe(false);
    expectCryptoError(() => createMessageCrypto({ encodingAESKey: v.encoding_aes_key as string, appId: APPID }), CRYPTO_ERROR_CODES.IllegalAesKey);
  });

  it('should reject keys of the wrong length or alphabet without echoing them', () => {
    for (const bad of [KEY.slice(0, 42), `${KEY}A`, `${KEY.slice(0, 42)}+`, `${KEY.slice(0, 42)}=`, '']) {
      const error = expectCryptoError(() => createMessageCrypto({ encodingAESKey: bad, appId: APPID }), CRYPTO_ERROR_CODES.IllegalAesKey);
      if (bad.length > 3) expect(error.message).not.toContain(bad);
    }
  });

  it('should name the previous key when that one is bad', () => {
    const error = expectCryptoError(() => createMessageCrypto({ encodingAESKey: KEY, appId: APPID, previousEncodingAESKey: 'short' }), CRYPTO_ERROR_CODES.IllegalAesKey);
    expect(error.message).toContain('previousEncodingAESKey');
  });

  it('should require an appId', () => {
    expect(() => createMessageCrypto({ encodingAESKey: KEY, appId: '' })).toThrow(/appId/);
  });

  it('should derive the documented AES key from the official sample EncodingAESKey', () => {
    const v = byId('official-wxbizmsgcrypt-decrypt');
    expect(Buffer.from(`${v.encoding_aes_key as string}=`, 'base64').toString('hex')).toBe(v.expected?.aes_key_hex);
  });
});

describe('MessageCrypto.decrypt', () => {
  const decryptVectors = vectors.filter((v) => v.kind === 'decrypt');

  it.each(decryptVectors.map((v) => [v.id, v] as const))('should decrypt %s', (_id, v) => {
    const crypto = createMessageCrypto({ encodingAESKey: v.encoding_aes_key as string, appId: v.appid as string });
    const { xml, keyIndex } = crypto.decrypt(v.encrypt as string);
    expect(xml).toBe(v.expected?.msg);
    expect(keyIndex).toBe(0);
    if (v.expected?.msg_len !== undefined) expect(Buffer.byteLength(xml, 'utf8')).toBe(v.expected.msg_len);
    if (v.expected?.ciphertext_bytes !== undefined) {
      expect(Buffer.from(v.encrypt as string, 'base64').length).toBe(v.expected.ciphertext_bytes);
    }
  });

  it('should reject a message whose trailing appid is not ours with −40005', () => {
    const v = byId('official-wxbizmsgcrypt-decrypt');
    const crypto = createMessageCrypto({ encodingAESKey: KEY, appId: 'wx0000000000000000' });
    expectCryptoError(() => crypto.decrypt(v.encrypt as string), CRYPTO_ERROR_CODES.ValidateAppidError);
  });

  it('should reject an appid that is only a prefix of the tail', () => {
    const crypto = createMessageCrypto({ encodingAESKey: KEY, appId: APPID.slice(0, -1) });
    expectCryptoError(() => crypto.decrypt(byId('official-wxbizmsgcrypt-decrypt').encrypt as string), CRYPTO_ERROR_CODES.ValidateAppidError);
  });

  it('should reject tampered ciphertext', () => {
    const v = byId('official-wxbizmsgcrypt-decrypt');
    const crypto = createMessageCrypto({ encodingAESKey: KEY, appId: APPID });
    const bytes = Buffer.from(v.encrypt as string, 'base64');
    // CBC: flipping a bit in the second-to-last block flips the same bit of the last plaintext block,
    // which holds the appid tail and the padding, so the appid check must catch it. (CBC alone has no
    // integrity for the message body: that is what msg_signature is for.)
    bytes[bytes.length - 20] ^= 0x01;
    const tampered = bytes.toString('base64');
    expect(() => crypto.decrypt(tampered)).toThrow(WeChatCryptoError);
    // And a flipped bit in the last block ruins the padding/appid.
    const bytes2 = Buffer.from(v.encrypt as string, 'base64');
    bytes2[bytes2.length - 1] ^= 0x80;
    expect(() => crypto.decrypt(bytes2.toString('base64'))).toThrow(WeChatCryptoError);
  });

  it('should reject ciphertext encrypted with another key', () => {
    const crypto = createMessageCrypto({ encodingAESKey: OTHER_KEY, appId: APPID });
    expect(() => crypto.decrypt(byId('official-wxbizmsgcrypt-decrypt').encrypt as string)).toThrow(WeChatCryptoError);
  });

  it('should reject bad base64 with −40010', () => {
    const crypto = createMessageCrypto({ encodingAESKey: KEY, appId: APPID });
    for (const bad of ['', 'not base64!', 'abc', 'ab=c', '====', undefined as unknown as string]) {
      expectCryptoError(() => crypto.decrypt(bad), CRYPTO_ERROR_CODES.DecodeBase64Error);
    }
  });

  it('should reject base64 that is not canonical: URL-safe letters, whitespace, odd padding bits', () => {
    const crypto = createMessageCrypto({ encodingAESKey: KEY, appId: APPID });
    const good = crypto.encrypt('<xml/>');
    const variants = [good.replace(/\+/g, '-').replace(/\//g, '_'), ` ${good}`, `${good.slice(0, 10)}\n${good.slice(10)}`, good.replace(/=+$/, '')];
    for (const bad of variants.filter((v) => v !== good)) {
      expectCryptoError(() => crypto.decrypt(bad), CRYPTO_ERROR_CODES.DecodeBase64Error);
    }
    // 'QR==' decodes like 'QQ==' (the low bits of R are dropped), so only the canonical form passes.
    expectCryptoError(() => crypto.decrypt('QR=='), CRYPTO_ERROR_CODES.DecodeBase64Error);
  });

  it('should open each reply with fresh random bytes', () => {
    const crypto = createMessageCrypto({ encodingAESKey: KEY, appId: APPID });
    const key = Buffer.from(`${KEY}=`, 'base64');
    const prefixes = new Set<string>();
    for (let i = 0; i < 600; i++) {
      const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
      decipher.setAutoPadding(false);
      const frame = Buffer.concat([decipher.update(Buffer.from(crypto.encrypt('<xml/>'), 'base64')), decipher.final()]);
      prefixes.add(frame.subarray(0, 16).toString('hex'));
    }
    expect(prefixes.size).toBe(600);
  });

  it('should reject ciphertext that is not a whole number of AES blocks with −40007', () => {
    const crypto = createMessageCrypto({ encodingAESKey: KEY, appId: APPID });
    expectCryptoError(() => crypto.decrypt(Buffer.alloc(20).toString('base64')), CRYPTO_ERROR_CODES.DecryptAESError);
  });

  it('should reject a pad byte of 0 or above 32 and inconsistent pad bytes with −40008', () => {
    const crypto = createMessageCrypto({ encodingAESKey: KEY, appId: APPID });
    const frame = frameOf('<xml/>', APPID);
    const fill = (n: number, last: number): Buffer => {
      const pad = Buffer.alloc(n, n);
      pad[pad.length - 1] = last;
      return pad;
    };
    const toBlock = 32 - (frame.length % 32);
    // pad byte 0
    const zero = rawEncrypt(KEY, Buffer.concat([frame, fill(toBlock, 0)]));
    expectCryptoError(() => crypto.decrypt(zero), CRYPTO_ERROR_CODES.IllegalBuffer);
    // pad byte 48 (> 32) with a frame padded to a multiple of 16
    const big = Buffer.concat([frame, Buffer.alloc(toBlock + 16, 48)]);
    expectCryptoError(() => crypto.decrypt(rawEncrypt(KEY, big)), CRYPTO_ERROR_CODES.IllegalBuffer);
    // inconsistent: last byte says n but an earlier pad byte differs
    const inconsistent = Buffer.concat([frame, fill(toBlock, toBlock)]);
    inconsistent[inconsistent.length - 2] = 0x07;
    expectCryptoError(() => crypto.decrypt(rawEncrypt(KEY, inconsistent)), CRYPTO_ERROR_CODES.IllegalBuffer);
  });

  it('should reject a msg_len larger than the frame with −40008', () => {
    const crypto = createMessageCrypto({ encodingAESKey: KEY, appId: APPID });
    const frame = frameOf('<xml/>', APPID);
    frame.writeUInt32BE(10_000, 16);
    expectCryptoError(() => crypto.decrypt(rawEncrypt(KEY, pkcs7Pad(frame))), CRYPTO_ERROR_CODES.IllegalBuffer);
  });

  it('should count msg_len in bytes, not characters', () => {
    const crypto = createMessageCrypto({ encodingAESKey: KEY, appId: APPID });
    const msg = '<xml><Content><![CDATA[你好，世界 🌏]]></Content></xml>';
    const encrypted = rawEncrypt(KEY, pkcs7Pad(frameOf(msg, APPID)));
    expect(crypto.decrypt(encrypted).xml).toBe(msg);
  });

  it('should keep key material out of error messages', () => {
    const crypto = createMessageCrypto({ encodingAESKey: KEY, appId: APPID });
    const key = Buffer.from(`${KEY}=`, 'base64');
    const secrets = [KEY, key.toString('hex'), key.toString('base64'), key.subarray(0, 16).toString('hex')];
    const errors: Error[] = [];
    for (const input of ['%%%', Buffer.alloc(32).toString('base64'), Buffer.alloc(20).toString('base64')]) {
      try {
        crypto.decrypt(input);
      } catch (error) {
        errors.push(error as Error);
      }
    }
    expect(errors).toHaveLength(3);
    for (const error of errors) for (const s of secrets) expect(`${error.message} ${String(error.stack)}`).not.toContain(s);
  });
});

describe('MessageCrypto.encrypt', () => {
  it('should re-encrypt the official sample byte-for-byte with its random prefix', () => {
    const v = byId('official-wxbizmsgcrypt-reencrypt');
    const crypto = createMessageCrypto({ encodingAESKey: v.encoding_aes_key as string, appId: v.appid as string });
    const random = Buffer.from(v.random16 as string, 'latin1');
    expect(crypto.encrypt(v.msg as string, { random })).toBe(v.expected_encrypt);
  });

  it.each(vectors.filter((v) => v.kind === 'encrypt-reply').map((v) => [v.id, v] as const))('should produce the Encrypt of %s byte-for-byte', (_id, v) => {
    const crypto = createMessageCrypto({ encodingAESKey: v.encoding_aes_key as string, appId: v.appid as string });
    const encrypted = crypto.encrypt(v.msg as string, { random: Buffer.from(v.random16 as string, 'latin1') });
    expect(encrypted).toBe(v.expected?.encrypt);
  });

  it('should match the documented frame and ciphertext sizes of the safe-mode reply', () => {
    const v = byId('official-message-push-safe-mode-reply');
    const crypto = createMessageCrypto({ encodingAESKey: v.encoding_aes_key as string, appId: v.appid as string });
    const encrypted = crypto.encrypt(v.msg as string, { random: Buffer.from(v.random16 as string, 'latin1') });
    expect(Buffer.from(encrypted, 'base64').length).toBe(v.expected?.ciphertext_bytes);
    expect(16 + 4 + Buffer.byteLength(v.msg as string) + (v.appid as string).length).toBe(v.expected?.fullstr_bytes);
  });

  it('should round-trip CJK text and emoji', () => {
    const crypto = createMessageCrypto({ encodingAESKey: KEY, appId: APPID });
    const xml = '<xml><Content><![CDATA[欢迎关注！点击菜单领取红包 🧧 ]]]]><![CDATA[> done]]></Content></xml>';
    const encrypted = crypto.encrypt(xml);
    expect(crypto.decrypt(encrypted)).toEqual({ xml, keyIndex: 0 });
  });

  it('should round-trip messages of every length around the 32-byte block boundary', () => {
    const crypto = createMessageCrypto({ encodingAESKey: KEY, appId: APPID });
    for (let n = 0; n <= 70; n++) {
      const xml = 'x'.repeat(n);
      expect(crypto.decrypt(crypto.encrypt(xml)).xml).toBe(xml);
    }
  });

  it('should use a fresh random prefix by default', () => {
    const crypto = createMessageCrypto({ encodingAESKey: KEY, appId: APPID });
    expect(crypto.encrypt('<xml/>')).not.toBe(crypto.encrypt('<xml/>'));
  });

  it('should refuse a random that is not 16 bytes and a key index that is not configured', () => {
    const crypto = createMessageCrypto({ encodingAESKey: KEY, appId: APPID });
    expect(() => crypto.encrypt('<xml/>', { random: Buffer.alloc(15) })).toThrow(RangeError);
    expect(() => crypto.encrypt('<xml/>', { keyIndex: 1 })).toThrow(RangeError);
  });
});

describe('one long-lived AES context per direction', () => {
  // The codec reuses its OpenSSL contexts and resets the CBC state per message; each message must
  // still come out exactly as from a fresh cipher, whatever came before it (other sizes, other keys,
  // failed decryptions).
  it('should encrypt and decrypt every message in a sequence exactly as a fresh cipher does', () => {
    const crypto = createMessageCrypto({ encodingAESKey: KEY, appId: APPID, previousEncodingAESKey: OTHER_KEY });
    const step = fc.record({
      xml: fc.string({ unit: 'grapheme', maxLength: 200 }),
      random: fc.uint8Array({ minLength: 16, maxLength: 16 }),
      keyIndex: fc.constantFrom<0 | 1>(0, 1),
      garbage: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 12 }), (steps) => {
        for (const { xml, random, keyIndex, garbage } of steps) {
          const encodingAESKey = keyIndex === 0 ? KEY : OTHER_KEY;
          const frame = frameOf(xml, APPID, Buffer.from(random));
          const expected = rawEncrypt(encodingAESKey, pkcs7Pad(frame));
          expect(crypto.encrypt(xml, { random: Buffer.from(random), keyIndex })).toBe(expected);
          expect(crypto.decrypt(expected)).toEqual({ xml, keyIndex });
          // A ciphertext neither key opens leaves both contexts usable.
          if (garbage) expect(() => crypto.decrypt(rawEncrypt(KEY, Buffer.alloc(64, 0x7f)))).toThrow(WeChatCryptoError);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('should give exactly the fresh-cipher output in both directions, call after call', () => {
    const key = Buffer.from(`${KEY}=`, 'base64');
    const codec = new CbcCodec(key);
    const fresh = (decrypt: boolean, data: Buffer): Buffer => {
      const c = decrypt ? createDecipheriv('aes-256-cbc', key, key.subarray(0, 16)) : createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
      c.setAutoPadding(false);
      return Buffer.concat([c.update(data), c.final()]);
    };
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 20 }), fc.uint8Array({ minLength: 320, maxLength: 320 }))), (calls) => {
        for (const [decrypt, blocks, bytes] of calls) {
          const data = Buffer.from(bytes).subarray(0, blocks * AES_BLOCK);
          if (decrypt) expect(codec.decrypt(data).equals(fresh(true, data))).toBe(true);
          else {
            const room = Buffer.concat([Buffer.alloc(AES_BLOCK), data]);
            expect(codec.encrypt(room).equals(fresh(false, data))).toBe(true);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('should refuse partial blocks without disturbing the next message', () => {
    const key = Buffer.from(`${KEY}=`, 'base64');
    const codec = new CbcCodec(key);
    const data = Buffer.alloc(64, 7);
    const expected = codec.decrypt(data);
    expectCryptoError(() => codec.decrypt(Buffer.alloc(17)), CRYPTO_ERROR_CODES.DecryptAESError);
    expectCryptoError(() => codec.encrypt(Buffer.alloc(40)), CRYPTO_ERROR_CODES.EncryptAESError);
    expectCryptoError(() => codec.encrypt(Buffer.alloc(0)), CRYPTO_ERROR_CODES.EncryptAESError);
    expect(codec.decrypt(data).equals(expected)).toBe(true);
  });

  it('should decrypt with a fresh-cipher reference after many replies of odd sizes', () => {
    const crypto = createMessageCrypto({ encodingAESKey: KEY, appId: APPID });
    const key = Buffer.from(`${KEY}=`, 'base64');
    for (let n = 0; n < 100; n++) {
      const encrypted = Buffer.from(crypto.encrypt('y'.repeat(n * 7)), 'base64');
      const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
      decipher.setAutoPadding(false);
      const frame = pkcs7Unpad(Buffer.concat([decipher.update(encrypted), decipher.final()]));
      expect(frame.subarray(20, 20 + n * 7).toString('utf8')).toBe('y'.repeat(n * 7));
    }
  });
});

describe('key rotation', () => {
  const current = createMessageCrypto({ encodingAESKey: OTHER_KEY, appId: APPID, previousEncodingAESKey: KEY });
  const oldOnly = createMessageCrypto({ encodingAESKey: KEY, appId: APPID });
  const newOnly = createMessageCrypto({ encodingAESKey: OTHER_KEY, appId: APPID });

  it('should decrypt with the current key first and report keyIndex 0', () => {
    const encrypted = newOnly.encrypt('<xml>new</xml>');
    expect(current.decrypt(encrypted)).toEqual({ xml: '<xml>new</xml>', keyIndex: 0 });
  });

  it('should fall back to the previous key and report keyIndex 1', () => {
    const encrypted = oldOnly.encrypt('<xml>old</xml>');
    expect(current.decrypt(encrypted)).toEqual({ xml: '<xml>old</xml>', keyIndex: 1 });
  });

  it('should encrypt the reply with the key that worked', () => {
    const { keyIndex } = current.decrypt(oldOnly.encrypt('<xml>old</xml>'));
    const reply = current.encrypt('<xml>reply</xml>', { keyIndex });
    expect(oldOnly.decrypt(reply).xml).toBe('<xml>reply</xml>');
    expect(() => newOnly.decrypt(reply)).toThrow(WeChatCryptoError);
  });

  it('should reject a message that neither key decrypts', () => {
    const stranger = createMessageCrypto({ encodingAESKey: 'A'.repeat(43), appId: APPID });
    expect(() => current.decrypt(stranger.encrypt('<xml/>'))).toThrow(WeChatCryptoError);
  });

  it('should report the appid mismatch when a key fits but the appid is foreign', () => {
    const foreign = createMessageCrypto({ encodingAESKey: KEY, appId: 'wx_someone_else' });
    expectCryptoError(() => current.decrypt(foreign.encrypt('<xml/>')), CRYPTO_ERROR_CODES.ValidateAppidError);
  });
});

describe('pkcs7Pad', () => {
  const padding = byId('pkcs7-block-32');

  it.each((padding.cases ?? []).map((c) => [JSON.stringify(c), c] as const))('should pad %s', (_name, c) => {
    const input = c.input_utf8 !== undefined ? Buffer.from(c.input_utf8, 'utf8') : Buffer.alloc(c.input_len as number, 0x41);
    const padded = pkcs7Pad(input);
    expect(padded.length - input.length).toBe(c.expected_pad_len);
    expect(padded.length % 32).toBe(0);
    expect([...padded.subarray(input.length)].every((b) => b === c.expected_pad_byte)).toBe(true);
  });
});

describe('pkcs7Unpad', () => {
  it('should undo pkcs7Pad for every length up to 96', () => {
    for (let n = 0; n <= 96; n++) {
      const input = Buffer.alloc(n, 0x42);
      expect(pkcs7Unpad(pkcs7Pad(input)).equals(input)).toBe(true);
    }
  });

  it('should reject an empty buffer, pad 0, pad 33 and inconsistent bytes', () => {
    expectCryptoError(() => pkcs7Unpad(Buffer.alloc(0)), CRYPTO_ERROR_CODES.IllegalBuffer);
    expectCryptoError(() => pkcs7Unpad(Buffer.alloc(32, 0)), CRYPTO_ERROR_CODES.IllegalBuffer);
    expectCryptoError(() => pkcs7Unpad(Buffer.alloc(64, 33)), CRYPTO_ERROR_CODES.IllegalBuffer);
    const bad = Buffer.alloc(32, 4);
    bad[29] = 5;
    expectCryptoError(() => pkcs7Unpad(bad), CRYPTO_ERROR_CODES.IllegalBuffer);
    expectCryptoError(() => pkcs7Unpad(Buffer.from([5, 5])), CRYPTO_ERROR_CODES.IllegalBuffer);
  });
});
