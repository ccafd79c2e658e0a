/**
 * What the rewards module needs from WeChat Pay, as values. `src/pay/redpack.ts` implements it over the
 * v2 HTTP client; the rewards outbox depends only on this interface.
 *
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */

/** One red packet to send. Amounts are in fen (1 yuan = 100 fen). */
export interface RedpackRequest {
  kind: 'normal' | 'fission';
  /** 28 chars, fixed when the grant is recorded; reused on every retry. */
  billNo: string;
  openId: string;
  /** Total amount in fen (for fission: the whole group). */
  amountFen: number;
  /** 1 for normal; ≥ 3 for fission (people including the sharer). */
  totalNum: number;
  sendName: string;
  wishing: string;
  actName: string;
  remark: string;
  sceneId?: string;
  /** Raw pairs; the client url-encodes them into `risk_info`. */
  riskInfo?: Record<string, string>;
  /** The Official Account appid of this campaign (`wxappid`); default: the client's appid. */
  wxAppId?: string;
  /** Service-provider mode (per campaign). */
  subMchId?: string;
  msgAppId?: string;
  consumeMchId?: string;
}

/**
 * WeChat Pay's own `return_code` / `result_code` of an answer, as it sent them (absent when there was
 * no answer to read: network errors, timeouts, a local refusal). Kept beside the classification so
 * the history shows what WeChat said, not only what we made of it.
 */
export interface PayWireCodes {
  returnCode?: string;
  resultCode?: string;
}

/** How a send ended, already classified (see `classifyRedpackError`), with WeChat Pay's wire codes. */
export type RedpackSendOutcome = PayWireCodes &
  /** WeChat accepted and paid: keep `sendListId`. */
  (
    | { status: 'sent'; sendListId: string }
    /** Accepted or maybe accepted, result unknown (SYSTEMERROR, PROCESSING, FREQ_LIMIT, unknown codes,
     * unparseable answers, network errors, timeouts, 5xx): query, then retry with the same bill number. */
    | { status: 'uncertain'; code: string; message: string }
    /** Merchant-wide problem (CA_ERROR, SIGN_ERROR, NOTENOUGH, ILLEGAL_APPID, MSGAPPID_ERROR,
     * ACCEPTMODE_ERROR, API_METHOD_CLOSED, SENDAMOUNT_LIMIT, …): pause the campaign, keep the grant pending. */
    | { status: 'config'; code: string; message: string }
    /** Final for this grant only (PARAM_ERROR, SENDNUM_LIMIT, RCVDAMOUNT_LIMIT, MONEY_LIMIT, OPENID_ERROR,
     * NO_AUTH, SEND_FAILED, and LOCAL_PARAM_ERROR: refused by our own field check, never sent): settle
     * as failed with the reason; the campaign goes on. */
    | { status: 'failed'; code: string; message: string }
    /** The bill number already belongs to another packet: WeChat answered SUCCESS with another
     * `re_openid` / `total_amount` (re-entry by bill number gives the FIRST packet's result), or
     * FATAL_ERROR (the bill was used with other parameters). Nothing was paid for this request; the
     * grant must be held for an operator, never marked SENT and never re-sent with this bill number. */
    | { status: 'collision'; code: 'BILLNO_COLLISION'; message: string }
  );

/** `gethbinfo` status values, official spelling (`RFUND_ING` is not a typo of ours). */
export type RedpackStatus = 'SENDING' | 'SENT' | 'FAILED' | 'RECEIVED' | 'RFUND_ING' | 'REFUND';

export type RedpackQueryOutcome = PayWireCodes &
  (
    | {
        status: 'found';
        info: {
          billNo: string;
          detailId: string;
          status: RedpackStatus;
          totalAmountFen: number;
          /** `hb_type`: NORMAL or GROUP (fission), when answered. */
          hbType?: string;
          /** `total_num`, when answered. */
          totalNum?: number;
          reason?: string;
          sendTime?: string;
          refundTime?: string;
          refundAmountFen?: number;
          receivedBy?: { openId: string; amountFen: number; receivedAt: string }[];
        };
      }
    /** WeChat has no such bill (yet): right after an uncertain send this is not proof of failure. */
    | { status: 'not_found' }
    /** The query itself failed (network, SYSTEMERROR, …): try again later. */
    | { status: 'error'; code: string; message: string }
  );

export interface RedpackApi {
  send(request: RedpackRequest): Promise<RedpackSendOutcome>;
  query(billNo: string, opts?: { subMchId?: string }): Promise<RedpackQueryOutcome>;
}
