/**
 * Signs webhook requests the way WeChat does, for tests (like co-wechat's `tail()`).
 *
 * @example
 * const q = signedQuery('token');                       // plain / compatible mode
 * const s = signedQuery('token', { encrypt });           // safe mode: + encrypt_type=aes, msg_signature
 * await request(app.callback()).post(`/wechat?${toQueryString(q)}`).send(xml);
 * @see https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
 */
import { randomInt } from 'node:crypto';
import { computeSignature } from '../../src/wechat/signature';

export interface SignedQueryOptions {
  /** Epoch SECONDS; default now. */
  timestamp?: number;
  /** Default: a random 9–10 digit string, as WeChat sends. */
  nonce?: string;
  /** The `<Encrypt>` text of a safe-mode body: adds `encrypt_type=aes` and `msg_signature`. */
  encrypt?: string;
  /** The sender's openid, which WeChat usually appends. */
  openid?: string;
}

/**
 * The query WeChat puts on a POST (or, with `echostr` added by the caller, on the GET handshake):
 * `signature`, `timestamp`, `nonce`, optional `openid`, and in safe mode `encrypt_type=aes` and
 * `msg_signature` over `encrypt`.
 */
export function signedQuery(token: string, opts: SignedQueryOptions = {}): Record<string, string> {
  const timestamp = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = opts.nonce ?? String(randomInt(100_000_000, 2_000_000_000));
  const query: Record<string, string> = {
    signature: computeSignature(token, timestamp, nonce),
    timestamp,
    nonce,
  };
  if (opts.openid !== undefined) query.openid = opts.openid;
  if (opts.encrypt !== undefined) {
    query.encrypt_type = 'aes';
    query.msg_signature = computeSignature(token, timestamp, nonce, opts.encrypt);
  }
  return query;
}

/** `a=1&b=2`, URL-encoded (base64 `+` and `/` in values survive). */
export function toQueryString(q: Record<string, string>): string {
  return new URLSearchParams(q).toString();
}
