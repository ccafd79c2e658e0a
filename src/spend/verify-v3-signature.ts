/**
 * WeChat Pay API v3 signs every notification it sends: `Wechatpay-Signature` = base64(SHA256-RSA over
 * `Wechatpay-Timestamp\nWechatpay-Nonce\nbody\n`) with the platform private key, and
 * `Wechatpay-Serial` names the platform certificate (or `PUB_KEY_ID_…` public key) to verify with.
 * Keys come from config (certificate or public-key PEM files); rotation = several files at once.
 *
 * @example
 * const keys = loadPlatformKeys([{ path: 'certs/wechatpay_5157….pem' }]);
 * verifyV3Signature(keys, headers, body, { nowSeconds }); // throws PayNotifyError when forged or stale
 * @see https://pay.weixin.qq.com/doc/v3/merchant/4012365342
 */
import { createPrivateKey, createPublicKey, createSign, createVerify, X509Certificate, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import { PayNotifyError } from './payment-order';

/** Platform verification keys by serial (certificate serial number, uppercase hex, or public key id). */
export type PlatformKeys = ReadonlyMap<string, KeyObject>;

/** The signature headers of a v3 request (lower-case names, as Node gives them). */
export interface V3SignatureHeaders {
  signature?: string;
  timestamp?: string;
  nonce?: string;
  serial?: string;
}

/** Reads the four headers from a Node/Koa header object. */
export function v3SignatureHeaders(headers: Record<string, string | string[] | undefined>): V3SignatureHeaders {
  const one = (n: string) => {
    const v = headers[n];
    return Array.isArray(v) ? v[0] : v;
  };
  return {
    signature: one('wechatpay-signature'),
    timestamp: one('wechatpay-timestamp'),
    nonce: one('wechatpay-nonce'),
    serial: one('wechatpay-serial'),
  };
}

/**
 * Loads platform keys from PEM text or files: a certificate (its serial number becomes the key id) or
 * a public key (then `id` — WeChat's `PUB_KEY_ID_…` — is required).
 *
 * @example loadPlatformKeys([{ path: 'wechatpay_cert.pem' }, { path: 'pub_key.pem', id: 'PUB_KEY_ID_0114…' }])
 * @see https://pay.weixin.qq.com/doc/v3/merchant/4012153196
 */
export function loadPlatformKeys(sources: readonly { path?: string; pem?: string; id?: string }[]): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  for (const s of sources) {
    const pem = s.pem ?? fs.readFileSync(s.path!, 'utf8');
    if (pem.includes('BEGIN CERTIFICATE')) {
      const cert = new X509Certificate(pem);
      keys.set(s.id ?? cert.serialNumber.toUpperCase(), cert.publicKey);
    } else {
      if (!s.id) throw new TypeError(`loadPlatformKeys: ${s.path ?? 'a public key'} is a public key: its id (PUB_KEY_ID_…) is required`);
      keys.set(s.id, createPublicKey(pem));
    }
  }
  return keys;
}

/** The string WeChat Pay signs. */
export function v3Message(timestamp: string, nonce: string, body: string): string {
  return `${timestamp}\n${nonce}\n${body}\n`;
}

/**
 * Verifies a v3 notification's signature and freshness. Throws {@link PayNotifyError}: `bad_signature`
 * (missing headers, not verifying — this includes WeChat's `WECHATPAY/SIGNTEST/` probes),
 * `unknown_serial`, `stale` (timestamp outside the window).
 *
 * @example verifyV3Signature(keys, v3SignatureHeaders(ctx.headers), rawBody, { nowSeconds: 1700000000 })
 * @see https://pay.weixin.qq.com/doc/v3/merchant/4012365342
 */
export function verifyV3Signature(keys: PlatformKeys, h: V3SignatureHeaders, body: string, opts: { nowSeconds: number; windowSeconds?: number }): void {
  if (!h.signature || !h.timestamp || !h.nonce || !h.serial) throw new PayNotifyError('bad_signature', 'Wechatpay-Signature/Timestamp/Nonce/Serial headers are required');
  const key = keys.get(h.serial.toUpperCase()) ?? keys.get(h.serial);
  if (!key) throw new PayNotifyError('unknown_serial', 'Wechatpay-Serial names no configured platform certificate or public key');
  if (!/^\d{1,12}$/.test(h.timestamp) || Math.abs(opts.nowSeconds - Number(h.timestamp)) > (opts.windowSeconds ?? 300))
    throw new PayNotifyError('stale', 'Wechatpay-Timestamp is outside the accepted window');
  let ok: boolean;
  try {
    ok = createVerify('RSA-SHA256')
      .update(v3Message(h.timestamp, h.nonce, body), 'utf8')
      .verify(key, h.signature, 'base64');
  } catch {
    ok = false;
  }
  if (!ok) throw new PayNotifyError('bad_signature', 'the signature does not verify');
}

/**
 * Signs like WeChat Pay (the sandbox notifier; it holds the sandbox platform private key).
 *
 * @example signV3Message(privateKeyPem, timestamp, nonce, body) // base64
 * @see https://pay.weixin.qq.com/doc/v3/merchant/4012365342
 */
export function signV3Message(privateKeyPem: string | KeyObject, timestamp: string, nonce: string, body: string): string {
  const key = typeof privateKeyPem === 'string' ? createPrivateKey(privateKeyPem) : privateKeyPem;
  return createSign('RSA-SHA256')
    .update(v3Message(timestamp, nonce, body), 'utf8')
    .sign(key, 'base64');
}
