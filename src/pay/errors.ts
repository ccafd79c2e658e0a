/**
 * Errors of the WeChat Pay client, named for where the failure happened. None of them ever carries the
 * API key, a signature, the certificate or its passphrase.
 *
 * - {@link PayError}: WeChat Pay answered and said no (`return_code`/`result_code` FAIL).
 * - {@link PayHttpError}: WeChat Pay could not be reached, or its answer could not be read or trusted
 *   (network error, TLS refusal, timeout, HTTP 5xx, unparseable XML, bad response signature).
 * - {@link PayConfigError}: our own setup is wrong (certificate missing, unreadable, wrong passphrase; bad options).
 *
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */

/**
 * WeChat Pay answered with `return_code=FAIL` or `result_code=FAIL`.
 *
 * @example if (err instanceof PayError && err.errCode === 'NOTENOUGH') pauseCampaign();
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export class PayError extends Error {
  override readonly name = 'PayError';
  constructor(
    readonly endpoint: string,
    readonly returnCode: string,
    readonly resultCode: string | undefined,
    readonly errCode: string | undefined,
    /** Human-readable, from WeChat (`err_code_des`, or `return_msg` when return_code is FAIL). */
    readonly errCodeDes: string | undefined,
    readonly billNo: string | undefined,
  ) {
    super(
      `WeChat Pay ${endpoint} failed: ${errCode ?? (resultCode === undefined ? `return_code ${returnCode}` : `result_code ${resultCode}`)}` +
        (errCodeDes ? ` (${errCodeDes})` : '') +
        (billNo ? ` for mch_billno ${billNo}` : ''),
    );
  }
}

/** Why a {@link PayHttpError} happened. */
export type PayHttpFailure =
  /** Connection refused/reset, TLS handshake refused, DNS, … */
  | 'network'
  /** No (complete) answer within the timeout. */
  | 'timeout'
  /** HTTP status other than 2xx. */
  | 'http_status'
  /** The body is not the XML WeChat Pay sends. */
  | 'unparseable'
  /** The answer carries a `sign` that does not match: it cannot be trusted. */
  | 'bad_signature';

/**
 * WeChat Pay could not be reached, or its answer could not be read or trusted. The outcome of the call
 * is unknown: the request may or may not have been processed.
 *
 * @example catch (err) { if (err instanceof PayHttpError) retryLaterWithSameBillNo(); }
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export class PayHttpError extends Error {
  override readonly name = 'PayHttpError';
  constructor(
    readonly endpoint: string,
    readonly failure: PayHttpFailure,
    message: string,
    /** The underlying error (network failures); never holds request bodies or secrets. */
    override readonly cause?: unknown,
    /** HTTP status, when one was received. */
    readonly status?: number,
  ) {
    super(`WeChat Pay ${endpoint}: ${message}`);
  }
}

/**
 * The merchant setup is wrong (certificate missing, unreadable, wrongly protected; invalid options).
 * Thrown at start, before any request is sent.
 *
 * @example loadMerchantCert({ certPath: 'missing.p12', mchId }) // throws PayConfigError
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=4_3
 */
export class PayConfigError extends Error {
  override readonly name = 'PayConfigError';
  constructor(message: string) {
    super(message);
  }
}
