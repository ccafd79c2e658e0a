/**
 * WeChat Pay API v2 transport: signed XML over HTTPS with the merchant client certificate.
 *
 * One request function (`client.request(endpoint, fields)`) adds `nonce_str` and `sign`, posts the XML
 * through an `https.Agent` that carries the client certificate, parses the answer and checks its
 * signature. It throws {@link PayHttpError} when the outcome is unknown (network, TLS refusal, timeout,
 * non-2xx status, unparseable body, bad signature) and otherwise returns the answer's fields, FAIL
 * answers included — the caller (e.g. `redpack.ts`) decides what a FAIL means.
 *
 * Answer signatures — verified when present, an unsigned answer accepted:
 * - The v2 doc lists `sign` among the answer fields, but api.mch.weixin.qq.com answers the red-packet
 *   endpoints (sendredpack, sendgroupredpack, gethbinfo) without it: binarywang/WxJava#140 (a
 *   sendredpack success answer with no `sign`; WxJava's `BaseWxPayResult.checkResult` verifies only
 *   `if (getSign() != null)`), chanxuehong/wechat#220 (normal, group and query answers carry no `sign`),
 *   TheNorthMemory/wechatpay-axios-plugin#56 (2024, sendredpack: "the response's sign(undefined)";
 *   the maintainer: skip the check for such endpoints, #20). wechatpy's `_handle_result` checks none.
 * - `sign` present (even empty) → checked in constant time with the request's algorithm. A mismatch
 *   makes the whole answer untrusted: {@link PayHttpError} `bad_signature`, "outcome unknown". The
 *   red-packet API reports it `uncertain` (BAD_SIGNATURE), never `sent`: the outbox keeps the grant's
 *   bill number, asks `gethbinfo`, and re-sends only with the same bill number (WeChat Pay's re-entry
 *   pays at most once).
 * - `sign` absent → accepted. Refusing it would refuse every real red-packet answer. The answer came
 *   over TLS from the server we verified (public roots; `rejectUnauthorized` is never off) on a
 *   connection authenticated with our client certificate, so forging it takes a broken TLS — and even
 *   then a forged answer cannot move money: the bill number never changes, so the worst it does is
 *   misreport one grant (sent / failed) until reconciliation or an operator looks. Each answer's log
 *   line says whether it was `signed`.
 *
 * @example
 * const pay = createPayClient({ mchId, key, appId, baseUrl: 'https://api.mch.weixin.qq.com', clientIp: '203.0.113.7',
 *   cert: loadMerchantCert({ certPath: 'apiclient_cert.p12', mchId }) });
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import https from 'node:https';
import { randomBytes } from 'node:crypto';
import tls from 'node:tls';
import type { Logger } from '../lib/logger';
import { buildXml, parseXml } from '../wechat/xml';
import { PayConfigError, PayError, PayHttpError } from './errors';
import { signPayV2, verifyPayV2, type PayFields, type PaySignType } from './sign';
import type { MerchantCert } from './load-merchant-cert';

export { loadMerchantCert, type MerchantCert, type LoadMerchantCertOptions } from './load-merchant-cert';

// === Types

export interface PayClientOptions {
  /** Merchant id (service provider's in service-provider mode). */
  mchId: string;
  /** API v2 key (32 characters). Never logged. */
  key: string;
  /** The Official Account appid bound to the merchant (`wxappid` / `appid`). */
  appId: string;
  /** `https://api.mch.weixin.qq.com` or a stand-in (WECHAT_PAY_API_BASE); must be https. */
  baseUrl: string;
  /** IPv4 sent as `client_ip` (WECHAT_PAY_CLIENT_IP). */
  clientIp: string;
  /** Merchant client certificate, from {@link loadMerchantCert}. Required: no request is ever sent without it. */
  cert: MerchantCert;
  /** Trusted CA(s) for the server (the sandbox's CA); default: Node's public roots. TLS is always verified. */
  ca?: Buffer | Buffer[];
  /** Whole-request deadline in ms (default 10 000). */
  timeoutMs?: number;
  log?: Logger;
}

/** Options of one call. */
export interface PayRequestOptions {
  /** MD5 (default, and the only one red-packet endpoints take) or HMAC-SHA256 (adds `sign_type`). */
  signType?: PaySignType;
  /** For logs and errors only. */
  billNo?: string;
}

/** The parsed top-level fields of an answer (nested elements such as `hblist` stay objects). */
export type PayResponseFields = Record<string, unknown>;

/**
 * A configured WeChat Pay v2 client.
 *
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export interface PayClient {
  readonly mchId: string;
  readonly appId: string;
  readonly clientIp: string;
  /**
   * Signs and posts `fields` to `endpoint` (a path such as `/mmpaymkttransfers/sendredpack`), returns the
   * verified answer. Throws {@link PayHttpError} when the outcome is unknown.
   */
  request(endpoint: string, fields: PayFields, options?: PayRequestOptions): Promise<PayResponseFields>;
  /** Frees pooled connections. */
  close(): void;
}

// === Factory

const ENDPOINT_RE = /^\/[A-Za-z0-9_/.-]*$/;
const MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * Builds the client. Validates options now, so a bad setup fails at start with {@link PayConfigError}.
 *
 * @example const pay = createPayClient({ mchId, key, appId, baseUrl, clientIp, cert });
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=4_3
 */
export function createPayClient(options: PayClientOptions): PayClient {
  if (options === null || typeof options !== 'object') throw new PayConfigError('createPayClient: options are required');
  const { mchId, key, appId, clientIp } = options;
  if (typeof mchId !== 'string' || !/^\d{6,32}$/.test(mchId)) throw new PayConfigError('createPayClient: mchId must be the merchant id (digits)');
  if (typeof key !== 'string' || key.length === 0) throw new PayConfigError('createPayClient: key (the API v2 key) is required');
  if (typeof appId !== 'string' || appId.trim() === '') throw new PayConfigError('createPayClient: appId is required');
  if (typeof clientIp !== 'string' || !/^(\d{1,3})(\.\d{1,3}){3}$/.test(clientIp))
    throw new PayConfigError(`createPayClient: clientIp "${String(clientIp)}" is not an IPv4 address`);
  let base: URL;
  try {
    base = new URL(options.baseUrl);
  } catch {
    throw new PayConfigError(`createPayClient: baseUrl "${String(options.baseUrl)}" is not a URL`);
  }
  if (base.protocol !== 'https:') throw new PayConfigError(`createPayClient: baseUrl must be https (the merchant certificate is sent over TLS), got ${base.protocol}`);
  const baseUrl = base.toString().replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new PayConfigError('createPayClient: timeoutMs must be a positive number');
  const cert = options.cert;
  const certOptions = checkCert(cert);
  const log = options.log?.child({ module: 'pay' });

  const agent = new https.Agent({
    ...certOptions,
    ...(options.ca !== undefined ? { ca: options.ca } : {}),
    keepAlive: true,
    maxSockets: 64,
    rejectUnauthorized: true,
  });

  async function request(endpoint: string, fields: PayFields, callOptions: PayRequestOptions = {}): Promise<PayResponseFields> {
    if (typeof endpoint !== 'string' || !ENDPOINT_RE.test(endpoint)) throw new TypeError(`pay.request: endpoint "${String(endpoint)}" is not a path`);
    const signType = callOptions.signType ?? 'MD5';
    const wire: Record<string, string> = {};
    for (const [name, value] of Object.entries(fields)) {
      if (name === 'sign' || name === 'sign_type') continue;
      if (value === undefined || value === null || value === '') continue;
      wire[name] = String(value);
    }
    wire.nonce_str ??= randomBytes(16).toString('hex');
    if (signType !== 'MD5') wire.sign_type = signType;
    wire.sign = signPayV2(wire, key, signType);
    const body = buildXml(wire);
    const started = Date.now();
    let text: string;
    try {
      text = await post(agent, baseUrl + endpoint, body, timeoutMs, endpoint);
    } catch (err) {
      log?.warn({ endpoint, billNo: callOptions.billNo, ms: Date.now() - started, failure: (err as PayHttpError).failure }, 'WeChat Pay not reached');
      throw err;
    }
    let answer: PayResponseFields;
    try {
      answer = parseXml(text);
    } catch {
      answer = {};
    }
    if (typeof answer.return_code !== 'string') {
      log?.warn({ endpoint, billNo: callOptions.billNo, bytes: text.length }, 'WeChat Pay answer is not readable XML');
      throw new PayHttpError(endpoint, 'unparseable', 'the answer is not WeChat Pay XML (no return_code); outcome unknown');
    }
    // Verified when present, accepted when absent (red-packet answers carry none): see the file comment.
    const signed = answer.sign !== undefined;
    if (signed && !verifyPayV2(answer, key, signType)) {
      log?.error(
        { endpoint, billNo: callOptions.billNo, returnCode: answer.return_code, resultCode: answer.result_code },
        'WeChat Pay answer has a bad signature; treated as outcome unknown',
      );
      throw new PayHttpError(endpoint, 'bad_signature', 'the answer signature does not match; outcome unknown');
    }
    log?.info(
      {
        endpoint,
        billNo: callOptions.billNo,
        ms: Date.now() - started,
        returnCode: answer.return_code,
        resultCode: answer.result_code,
        errCode: answer.err_code,
        signed,
      },
      'WeChat Pay answered',
    );
    return answer;
  }

  return {
    mchId,
    appId,
    clientIp,
    request,
    close: function closePayClient() {
      agent.destroy();
    },
  };
}

// === Helpers

/**
 * Turns a FAIL answer into a {@link PayError} (undefined when both codes are SUCCESS), for callers that
 * prefer exceptions.
 *
 * @example const err = toPayError('/mmpaymkttransfers/gethbinfo', answer, billNo); if (err) throw err;
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function toPayError(endpoint: string, answer: PayResponseFields, billNo?: string): PayError | undefined {
  const s = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const returnCode = s(answer.return_code) ?? '';
  const resultCode = s(answer.result_code);
  if (returnCode === 'SUCCESS' && resultCode === 'SUCCESS') return undefined;
  return new PayError(endpoint, returnCode, resultCode, s(answer.err_code), s(answer.err_code_des) ?? s(answer.return_msg), billNo ?? s(answer.mch_billno));
}

function checkCert(cert: MerchantCert | undefined): { pfx: Buffer; passphrase?: string } | { cert: Buffer; key: Buffer } {
  if (cert === undefined || cert === null || typeof cert !== 'object')
    throw new PayConfigError('createPayClient: the merchant client certificate is required (use loadMerchantCert); no request is sent without it');
  if ('pfx' in cert) {
    if (!Buffer.isBuffer(cert.pfx) || cert.pfx.length === 0) throw new PayConfigError('createPayClient: cert.pfx is empty');
    try {
      tls.createSecureContext({ pfx: cert.pfx, passphrase: cert.passphrase });
    } catch {
      throw new PayConfigError('createPayClient: the PKCS#12 certificate cannot be opened (wrong passphrase or damaged file)');
    }
    return { pfx: cert.pfx, passphrase: cert.passphrase };
  }
  if (!Buffer.isBuffer(cert.cert) || !Buffer.isBuffer(cert.key) || cert.cert.length === 0 || cert.key.length === 0)
    throw new PayConfigError('createPayClient: cert needs both cert and key (PEM)');
  try {
    tls.createSecureContext({ cert: cert.cert, key: cert.key });
  } catch {
    throw new PayConfigError('createPayClient: the PEM certificate and key cannot be used together');
  }
  return { cert: cert.cert, key: cert.key };
}

function post(agent: https.Agent, url: string, body: string, timeoutMs: number, endpoint: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let settled = false;
    const finish = (err: PayHttpError | undefined, text?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(text ?? '');
    };
    const req = https.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'Content-Type': 'text/xml; charset=utf-8', 'Content-Length': Buffer.byteLength(body) },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            req.destroy();
            finish(new PayHttpError(endpoint, 'unparseable', `the answer is larger than ${MAX_RESPONSE_BYTES} bytes; outcome unknown`, undefined, status));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          if (status < 200 || status > 299) finish(new PayHttpError(endpoint, 'http_status', `HTTP ${status}; outcome unknown`, undefined, status));
          else finish(undefined, Buffer.concat(chunks).toString('utf8'));
        });
        res.on('error', (err) => finish(networkError(endpoint, err)));
        res.on('aborted', () => finish(new PayHttpError(endpoint, 'network', 'the connection closed mid-answer; outcome unknown', undefined, status)));
      },
    );
    const timer = setTimeout(() => {
      finish(new PayHttpError(endpoint, 'timeout', `no answer within ${timeoutMs} ms; outcome unknown`));
      req.destroy();
    }, timeoutMs);
    req.on('error', (err) => finish(networkError(endpoint, err)));
    req.end(body);
  });
}

function networkError(endpoint: string, err: Error): PayHttpError {
  const code = (err as NodeJS.ErrnoException).code;
  const cause = { name: err.name, code, message: err.message };
  return new PayHttpError(endpoint, 'network', `${code ?? err.name}: ${err.message}; outcome unknown`, cause);
}
