/**
 * Signed request generator for the benchmark: every request is a new message (fresh MsgId), so the
 * bot does the full work (claim, handle, render), never a dedupe hit.
 */
import { hash } from 'node:crypto';
import { createMessageCrypto } from '../src/wechat/crypto';

/**
 * WeChat's signature, by Node's native SHA-1: the load generators share the machine with the servers
 * they measure, so they sign as cheaply as they can (the server's own code is what is measured).
 */
export function computeSignature(...parts: string[]): string {
  return hash('sha1', parts.sort().join(''), 'hex');
}

export type BenchMode = 'bare' | 'plain' | 'safe' | 'rules-10' | 'rules-1000';

export const BENCH = {
  token: 'benchtoken',
  appId: 'wx1234567890abcdef',
  encodingAESKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
} as const;

const WORDS = ['hello', 'help', 'price', 'kw500', 'kw999', 'order 123', 'nothing matches this'];

/** One signed request of the webhook bench: the path with its query, and the XML body. */
export interface BenchRequest {
  path: string;
  body: string;
}

/** Returns a function that makes the next request of `mode`: each one a new message (a new MsgId). */
export function requestsFor(mode: BenchMode): () => BenchRequest {
  const crypto = createMessageCrypto({ encodingAESKey: BENCH.encodingAESKey, appId: BENCH.appId });
  const base = 7_000_000_000_000_000;
  let seq = 0;
  return function nextRequest(): BenchRequest {
    const n = seq++;
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = String(100000 + (n % 900000));
    const signature = computeSignature(BENCH.token, timestamp, nonce);
    const content = mode.startsWith('rules') ? WORDS[n % WORDS.length] : `hello ${n}`;
    const xml =
      `<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[o_bench_${n % 1000}]]></FromUserName>` +
      `<CreateTime>${timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${content}]]></Content>` +
      `<MsgId>${base + n}</MsgId></xml>`;
    if (mode !== 'safe') return { path: `/wechat?signature=${signature}&timestamp=${timestamp}&nonce=${nonce}`, body: xml };
    const encrypt = crypto.encrypt(xml);
    const msgSignature = computeSignature(BENCH.token, timestamp, nonce, encrypt);
    return {
      path: `/wechat?signature=${signature}&timestamp=${timestamp}&nonce=${nonce}&encrypt_type=aes&msg_signature=${msgSignature}`,
      body: `<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`,
    };
  };
}
