/**
 * Safe-mode message crypto (Tencent's WXBizMsgCrypt scheme): AES-256-CBC with IV = key[0..16),
 * PKCS#7 padding to 32-byte blocks, frame `random(16) || msg_len (uint32 BE, bytes) || msg || appid`.
 * Pure, no Koa; key material never appears in an error message.
 *
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
 */
import { type Cipher, createCipheriv, createDecipheriv, type Decipher, randomFillSync } from 'node:crypto';

// === Errors

/** The official WXBizMsgCrypt error codes. */
export const CRYPTO_ERROR_CODES = {
  ValidateSignatureError: -40001,
  ParseXmlError: -40002,
  ComputeSignatureError: -40003,
  IllegalAesKey: -40004,
  ValidateAppidError: -40005,
  EncryptAESError: -40006,
  DecryptAESError: -40007,
  IllegalBuffer: -40008,
  EncodeBase64Error: -40009,
  DecodeBase64Error: -40010,
  GenReturnXmlError: -40011,
} as const;

export type CryptoErrorCode = (typeof CRYPTO_ERROR_CODES)[keyof typeof CRYPTO_ERROR_CODES];

/**
 * A safe-mode encryption or decryption failed. `code` is the official WXBizMsgCrypt code
 * (−40004 illegal AES key, −40005 appid mismatch, −40007 decrypt, −40008 illegal buffer or padding,
 * −40010 base64 decode, …). The message never contains key material or message content.
 *
 * @example try { crypto.decrypt(encrypt) } catch (e) { if (e instanceof WeChatCryptoError) ctx.throw(400) }
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
 */
export class WeChatCryptoError extends Error {
  readonly code: CryptoErrorCode;
  constructor(code: CryptoErrorCode, message: string) {
    super(message);
    this.name = 'WeChatCryptoError';
    this.code = code;
  }
}

// === Types

/**
 * Encrypts replies and decrypts inbound messages of one account.
 *
 * @see createMessageCrypto
 */
export interface MessageCrypto {
  /**
   * Decrypts the text of an `<Encrypt>` element. Tries the current key, then the previous one (key
   * rotation); `keyIndex` says which worked (0 current, 1 previous) so the reply can use the same key.
   * Throws `WeChatCryptoError` on bad base64, bad padding, a bad frame or a foreign appid.
   */
  decrypt(encrypt: string): { xml: string; keyIndex: 0 | 1 };
  /**
   * Encrypts a reply into the base64 text of an `<Encrypt>` element. `keyIndex` 1 uses the previous key
   * (pass the `keyIndex` `decrypt` returned); `random` (16 bytes) is for reproducible tests only.
   */
  encrypt(xml: string, options?: { keyIndex?: 0 | 1; random?: Buffer }): string;
}

export interface MessageCryptoOptions {
  /** The 43-character EncodingAESKey from the admin console. */
  encodingAESKey: string;
  /** Our AppId; the tail of every decrypted frame must equal it. */
  appId: string;
  /** The key before the last rotation, tried when the current key does not fit. */
  previousEncodingAESKey?: string;
}

// === Padding (exported for tests)

/** PKCS#7 block size used by WXBizMsgCrypt: 32, not AES's 16. */
export const PKCS7_BLOCK_SIZE = 32;

/**
 * Appends PKCS#7 padding to a multiple of 32 bytes (a full block of 0x20 when already aligned).
 *
 * @example pkcs7Pad(Buffer.from('text')).length === 32
 * @see https://datatracker.ietf.org/doc/html/rfc5652#section-6.3
 */
export function pkcs7Pad(data: Buffer): Buffer {
  const n = pkcs7PadLength(data.length);
  return Buffer.concat([data, Buffer.alloc(n, n)]);
}

/** How many padding bytes PKCS#7 adds to `length` bytes: 1..32 (a full block when already aligned). */
export function pkcs7PadLength(length: number): number {
  return PKCS7_BLOCK_SIZE - (length % PKCS7_BLOCK_SIZE);
}

/**
 * Removes PKCS#7 padding, rejecting a pad byte outside 1..32 or pad bytes that disagree
 * (the official decoders silently accept those; we do not).
 *
 * @example pkcs7Unpad(pkcs7Pad(buf)).equals(buf)
 * @see https://datatracker.ietf.org/doc/html/rfc5652#section-6.3
 */
export function pkcs7Unpad(data: Buffer): Buffer {
  if (data.length === 0) throw new WeChatCryptoError(CRYPTO_ERROR_CODES.IllegalBuffer, 'padding: empty buffer');
  const p = data[data.length - 1];
  if (p < 1 || p > PKCS7_BLOCK_SIZE || p > data.length) {
    throw new WeChatCryptoError(CRYPTO_ERROR_CODES.IllegalBuffer, 'padding: invalid pad length');
  }
  let bad = 0;
  for (let i = data.length - p; i < data.length; i++) bad |= data[i] ^ p;
  if (bad !== 0) throw new WeChatCryptoError(CRYPTO_ERROR_CODES.IllegalBuffer, 'padding: inconsistent pad bytes');
  return data.subarray(0, data.length - p);
}

// === Factory

const ENCODING_AES_KEY = /^[A-Za-z0-9]{43}$/;
const RANDOM_BYTES = 16;
const HEADER_BYTES = RANDOM_BYTES + 4;

/**
 * Builds the safe-mode crypto of one account. Validates the keys at once (43 characters decoding to
 * 32 bytes) and throws `WeChatCryptoError` −40004 naming which key is wrong, never its value.
 *
 * @example
 * const crypto = createMessageCrypto({ encodingAESKey: env.WECHAT_ENCODING_AES_KEY, appId: env.WECHAT_APPID });
 * const { xml, keyIndex } = crypto.decrypt(fields.Encrypt);
 * const encrypted = crypto.encrypt(replyXml, { keyIndex });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
 */
export function createMessageCrypto(options: MessageCryptoOptions): MessageCrypto {
  if (!options || typeof options !== 'object') throw new TypeError('createMessageCrypto: options are required');
  const { appId } = options;
  if (typeof appId !== 'string' || appId.length === 0) {
    throw new TypeError('createMessageCrypto: appId must be a non-empty string');
  }
  const keys: Buffer[] = [decodeAesKey(options.encodingAESKey, 'encodingAESKey')];
  if (options.previousEncodingAESKey !== undefined && options.previousEncodingAESKey !== '') {
    keys.push(decodeAesKey(options.previousEncodingAESKey, 'previousEncodingAESKey'));
  }
  const appIdBytes = Buffer.from(appId, 'utf8');
  const codecs = keys.map((key) => new CbcCodec(key));

  function decryptWith(codec: CbcCodec, ciphertext: Buffer): string {
    const plain = codec.decrypt(ciphertext);
    const frame = pkcs7Unpad(plain);
    if (frame.length < HEADER_BYTES) {
      throw new WeChatCryptoError(CRYPTO_ERROR_CODES.IllegalBuffer, 'frame shorter than its header');
    }
    const msgLen = frame.readUInt32BE(RANDOM_BYTES);
    if (msgLen > frame.length - HEADER_BYTES) {
      throw new WeChatCryptoError(CRYPTO_ERROR_CODES.IllegalBuffer, 'message length exceeds the frame');
    }
    const tail = frame.subarray(HEADER_BYTES + msgLen);
    if (!tail.equals(appIdBytes)) {
      throw new WeChatCryptoError(CRYPTO_ERROR_CODES.ValidateAppidError, 'appid in the message is not ours');
    }
    return frame.subarray(HEADER_BYTES, HEADER_BYTES + msgLen).toString('utf8');
  }

  return {
    decrypt(encrypt: string): { xml: string; keyIndex: 0 | 1 } {
      // Node's decoder skips what is not base64, so a strict check is: it re-encodes to the same text.
      const ciphertext = typeof encrypt === 'string' ? Buffer.from(encrypt, 'base64') : undefined;
      if (ciphertext === undefined || encrypt.length === 0 || ciphertext.toString('base64') !== encrypt) {
        throw new WeChatCryptoError(CRYPTO_ERROR_CODES.DecodeBase64Error, 'Encrypt is not valid base64');
      }
      if (ciphertext.length === 0 || ciphertext.length % 16 !== 0) {
        throw new WeChatCryptoError(CRYPTO_ERROR_CODES.DecryptAESError, 'ciphertext is not a whole number of AES blocks');
      }
      let firstError: WeChatCryptoError | undefined;
      let appIdError: WeChatCryptoError | undefined;
      for (let i = 0; i < keys.length; i++) {
        try {
          return { xml: decryptWith(codecs[i], ciphertext), keyIndex: i as 0 | 1 };
        } catch (error) {
          if (!(error instanceof WeChatCryptoError)) throw error;
          firstError ??= error;
          // A foreign appid means the key fitted: that is the more telling error.
          if (error.code === CRYPTO_ERROR_CODES.ValidateAppidError) appIdError ??= error;
        }
      }
      throw appIdError ?? firstError ?? new WeChatCryptoError(CRYPTO_ERROR_CODES.DecryptAESError, 'AES decrypt failed');
    },

    encrypt(xml: string, encryptOptions: { keyIndex?: 0 | 1; random?: Buffer } = {}): string {
      if (typeof xml !== 'string') throw new TypeError('encrypt: the message must be a string');
      const keyIndex = encryptOptions.keyIndex ?? 0;
      const codec = codecs[keyIndex];
      if (!codec) throw new RangeError(`encrypt: no key with index ${String(keyIndex)} is configured`);
      const random = encryptOptions.random;
      if (random !== undefined && (!Buffer.isBuffer(random) || random.length !== RANDOM_BYTES)) {
        throw new RangeError('encrypt: random must be a 16-byte Buffer');
      }
      // One buffer for the whole frame: random(16) | length(4) | message | appid | PKCS#7 padding,
      // after one block of room that the codec uses to reset its chaining state.
      const msgLength = Buffer.byteLength(xml, 'utf8');
      const unpadded = HEADER_BYTES + msgLength + appIdBytes.length;
      const pad = pkcs7PadLength(unpadded);
      const buffer = Buffer.allocUnsafe(AES_BLOCK + unpadded + pad);
      const frame = buffer.subarray(AES_BLOCK);
      if (random) random.copy(frame, 0);
      else takeRandom(frame);
      frame.writeUInt32BE(msgLength, RANDOM_BYTES);
      frame.write(xml, HEADER_BYTES, 'utf8');
      appIdBytes.copy(frame, HEADER_BYTES + msgLength);
      frame.fill(pad, unpadded);
      return codec.encrypt(buffer).toString('base64');
    },
  };
}

// === AES-256-CBC

/** AES's block size, bytes. */
export const AES_BLOCK = 16;

/**
 * AES-256-CBC with WeChat's fixed IV (the key's first 16 bytes) on one long-lived OpenSSL context per
 * direction, instead of a new context per message: creating one costs more than running it over a
 * reply. CBC carries one block of state (the last ciphertext block) from call to call, so each call
 * first sets that state back to the IV with one extra block whose output is dropped. Every message thus
 * comes out exactly as from a fresh cipher (a test compares both on random frames):
 * - decrypting, feeding the IV as a ciphertext block makes it the state;
 * - encrypting, with state C the block X = D(IV) XOR C encrypts to E(D(IV)) = IV, the state wanted.
 *
 * Padding is off (the frame carries its own 32-byte PKCS#7), so OpenSSL holds nothing back between
 * calls. If a call ever throws, both contexts are rebuilt before the next one. Exported for tests.
 *
 * @example const codec = new CbcCodec(key); const plain = codec.decrypt(ciphertext);
 * @see https://nvlpubs.nist.gov/nistpubs/Legacy/SP/nistspecialpublication800-38a.pdf (CBC, section 6.2)
 */
export class CbcCodec {
  private readonly iv: Buffer;
  /** D(IV): the AES decryption of the IV block under the key. */
  private readonly decryptedIv: Buffer;
  private cipher!: Cipher;
  private decipher!: Decipher;
  /** The encrypting context's state: the last ciphertext block it produced. */
  private readonly lastBlock = Buffer.alloc(AES_BLOCK);

  constructor(private readonly key: Buffer) {
    this.iv = key.subarray(0, AES_BLOCK);
    const ecb = createDecipheriv('aes-256-ecb', key, null);
    ecb.setAutoPadding(false);
    this.decryptedIv = ecb.update(this.iv);
    this.reset();
  }

  /**
   * Decrypts whole AES blocks; `WeChatCryptoError` −40007 on failure. A partial block would stay
   * buffered in the context and shift every later message, so it is refused first.
   */
  decrypt(ciphertext: Buffer): Buffer {
    if (ciphertext.length % AES_BLOCK !== 0) {
      throw new WeChatCryptoError(CRYPTO_ERROR_CODES.DecryptAESError, 'ciphertext is not a whole number of AES blocks');
    }
    try {
      this.decipher.update(this.iv);
      return this.decipher.update(ciphertext);
    } catch {
      this.reset();
      throw new WeChatCryptoError(CRYPTO_ERROR_CODES.DecryptAESError, 'AES decrypt failed');
    }
  }

  /**
   * Encrypts `buffer` from its second block on (whole blocks); the first block is room this method
   * overwrites. Returns the ciphertext of the rest. `WeChatCryptoError` −40006 on failure.
   */
  encrypt(buffer: Buffer): Buffer {
    if (buffer.length < AES_BLOCK || buffer.length % AES_BLOCK !== 0) {
      throw new WeChatCryptoError(CRYPTO_ERROR_CODES.EncryptAESError, 'frame is not a whole number of AES blocks');
    }
    for (let i = 0; i < AES_BLOCK; i++) buffer[i] = this.decryptedIv[i] ^ this.lastBlock[i];
    let out: Buffer;
    try {
      out = this.cipher.update(buffer);
    } catch {
      this.reset();
      throw new WeChatCryptoError(CRYPTO_ERROR_CODES.EncryptAESError, 'AES encrypt failed');
    }
    out.copy(this.lastBlock, 0, out.length - AES_BLOCK);
    return out.subarray(AES_BLOCK);
  }

  private reset(): void {
    this.cipher = createCipheriv('aes-256-cbc', this.key, this.iv);
    this.cipher.setAutoPadding(false);
    this.decipher = createDecipheriv('aes-256-cbc', this.key, this.iv);
    this.decipher.setAutoPadding(false);
    this.iv.copy(this.lastBlock);
  }
}

/**
 * The 16 random bytes that open each encrypted frame, drawn from a pool refilled from the CSPRNG 4 KiB
 * at a time (one `randomFillSync` per 256 replies instead of one each; each byte is used once).
 */
const RANDOM_POOL_BYTES = 4096;
let randomPool = Buffer.alloc(0);
let randomOffset = 0;
function takeRandom(target: Buffer): void {
  if (randomOffset + RANDOM_BYTES > randomPool.length) {
    randomPool = randomFillSync(Buffer.allocUnsafe(RANDOM_POOL_BYTES));
    randomOffset = 0;
  }
  randomPool.copy(target, 0, randomOffset, randomOffset + RANDOM_BYTES);
  randomOffset += RANDOM_BYTES;
}

function decodeAesKey(encodingAESKey: unknown, name: string): Buffer {
  if (typeof encodingAESKey !== 'string' || !ENCODING_AES_KEY.test(encodingAESKey)) {
    throw new WeChatCryptoError(CRYPTO_ERROR_CODES.IllegalAesKey, `${name} must be 43 characters from A-Z, a-z, 0-9`);
  }
  const key = Buffer.from(`${encodingAESKey}=`, 'base64');
  if (key.length !== 32) {
    throw new WeChatCryptoError(CRYPTO_ERROR_CODES.IllegalAesKey, `${name} does not decode to 32 bytes`);
  }
  return key;
}
