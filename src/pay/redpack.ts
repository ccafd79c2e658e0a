/**
 * Cash red packets over the WeChat Pay v2 client: `sendredpack` (normal), `sendgroupredpack` (fission)
 * and `gethbinfo` (query), with outcomes already classified for the rewards outbox.
 *
 * Exactly the documented fields are sent for each endpoint and mode — no `sign_type` (these endpoints
 * sign with MD5 only) and never `sub_appid` (both break signatures at WeChat Pay).
 *
 * @example
 * const redpacks = createRedpackApi(payClient, { wxappid: settings.wechat.appId });
 * const outcome = await redpacks.send({ kind: 'normal', billNo, openId, amountFen: 100, totalNum: 1, sendName, wishing, actName, remark });
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import type { Logger } from '../lib/logger';
import type { PayWireCodes, RedpackApi, RedpackQueryOutcome, RedpackRequest, RedpackSendOutcome, RedpackStatus } from './types';
import type { PayClient, PayResponseFields } from './client';
import { PayConfigError, PayHttpError } from './errors';
import { classifyRedpackError } from './classify';
import type { PayFields } from './sign';

// === Endpoints and their documented fields

export const REDPACK_ENDPOINTS = {
  send: '/mmpaymkttransfers/sendredpack',
  sendGroup: '/mmpaymkttransfers/sendgroupredpack',
  query: '/mmpaymkttransfers/gethbinfo',
} as const;

/** Fields of `sendredpack` (SP = service-provider mode only). `sign` and `nonce_str` are added by the client. */
export const SENDREDPACK_FIELDS = {
  required: ['nonce_str', 'sign', 'mch_billno', 'mch_id', 'wxappid', 'send_name', 're_openid', 'total_amount', 'total_num', 'wishing', 'client_ip', 'act_name', 'remark'],
  optional: ['scene_id', 'risk_info'],
  serviceProvider: ['sub_mch_id', 'msgappid', 'consume_mch_id'],
} as const;

/** Fields of `sendgroupredpack`: as `sendredpack` without `client_ip`, with `amt_type=ALL_RAND`. */
export const SENDGROUPREDPACK_FIELDS = {
  required: ['nonce_str', 'sign', 'mch_billno', 'mch_id', 'wxappid', 'send_name', 're_openid', 'total_amount', 'amt_type', 'total_num', 'wishing', 'act_name', 'remark'],
  optional: ['scene_id', 'risk_info'],
  serviceProvider: ['sub_mch_id', 'msgappid', 'consume_mch_id'],
} as const;

/** Fields of `gethbinfo` (`sub_mch_id` only when asked for). */
export const GETHBINFO_FIELDS = {
  required: ['nonce_str', 'sign', 'mch_billno', 'mch_id', 'appid', 'bill_type'],
  optional: ['sub_mch_id'],
} as const;

const SCENE_IDS = new Set(['PRODUCT_1', 'PRODUCT_2', 'PRODUCT_3', 'PRODUCT_4', 'PRODUCT_5', 'PRODUCT_6', 'PRODUCT_7', 'PRODUCT_8']);
const STATUSES = new Set<RedpackStatus>(['SENDING', 'SENT', 'FAILED', 'RECEIVED', 'RFUND_ING', 'REFUND']);

// === Factory

export interface RedpackApiOptions {
  /** The Official Account appid (`wxappid`; the service provider's appid in SP mode). Default: the client's appId. */
  wxappid?: string;
  /** `client_ip` of `sendredpack`. Default: the client's clientIp. */
  clientIp?: string;
  log?: Logger;
}

/**
 * Builds the red-packet API over a configured {@link PayClient}.
 *
 * @example const api = createRedpackApi(client, { wxappid: 'wx0000sandbox0000' });
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function createRedpackApi(client: PayClient, options: RedpackApiOptions = {}): RedpackApi {
  if (client === null || typeof client !== 'object' || typeof client.request !== 'function')
    throw new PayConfigError('createRedpackApi: a PayClient is required (createPayClient)');
  const wxappid = options.wxappid ?? client.appId;
  if (typeof wxappid !== 'string' || wxappid.trim() === '') throw new PayConfigError('createRedpackApi: wxappid is required');
  const clientIp = options.clientIp ?? client.clientIp;
  if (!/^(\d{1,3})(\.\d{1,3}){3}$/.test(clientIp)) throw new PayConfigError(`createRedpackApi: clientIp "${clientIp}" is not an IPv4 address`);
  const log = options.log?.child({ module: 'pay' });

  return {
    send: async function sendRedpack(request: RedpackRequest): Promise<RedpackSendOutcome> {
      const built = buildSendFields(request, { mchId: client.mchId, wxappid, clientIp });
      if (typeof built === 'string') {
        // Every field checked here is frozen in the grant at record time: the grant can never be sent
        // as it is, and the campaign's other grants are not concerned — final for this grant only.
        log?.error({ billNo: request?.billNo, problem: built }, 'red packet refused locally');
        return { status: 'failed', code: 'LOCAL_PARAM_ERROR', message: built };
      }
      const endpoint = request.kind === 'fission' ? REDPACK_ENDPOINTS.sendGroup : REDPACK_ENDPOINTS.send;
      let answer: PayResponseFields;
      try {
        answer = await client.request(endpoint, built, { billNo: request.billNo });
      } catch (err) {
        return uncertainFromError(err);
      }
      return { ...classifySendAnswer(answer, request), ...wireCodes(answer) };
    },

    query: async function queryRedpack(billNo: string, opts: { subMchId?: string } = {}): Promise<RedpackQueryOutcome> {
      if (typeof billNo !== 'string' || !/^[0-9A-Za-z]{1,28}$/.test(billNo))
        return { status: 'error', code: 'LOCAL_PARAM_ERROR', message: `mch_billno "${String(billNo)}" must be 1–28 letters or digits` };
      const fields: PayFields = { mch_billno: billNo, mch_id: client.mchId, appid: wxappid, bill_type: 'MCHT', sub_mch_id: opts.subMchId };
      let answer: PayResponseFields;
      try {
        answer = await client.request(REDPACK_ENDPOINTS.query, fields, { billNo });
      } catch (err) {
        const u = uncertainFromError(err);
        return { status: 'error', code: u.code, message: u.message };
      }
      return { ...parseQueryAnswer(answer, billNo), ...wireCodes(answer) };
    },
  };
}

// === Building requests

/**
 * The exact wire fields of a send (without `nonce_str`/`sign`), or a problem description. Exported for tests.
 *
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function buildSendFields(r: RedpackRequest, ctx: { mchId: string; wxappid: string; clientIp: string }): Record<string, string> | string {
  if (r === null || typeof r !== 'object') return 'the request is missing';
  if (r.kind !== 'normal' && r.kind !== 'fission') return `kind "${String(r.kind)}" is not normal or fission`;
  if (typeof r.billNo !== 'string' || !/^[0-9A-Za-z]{1,28}$/.test(r.billNo)) return 'billNo must be 1–28 letters or digits';
  if (typeof r.openId !== 'string' || r.openId === '' || r.openId.length > 32) return 'openId must be 1–32 characters';
  if (!Number.isSafeInteger(r.amountFen) || r.amountFen <= 0) return 'amountFen must be a positive whole number of fen';
  if (!Number.isSafeInteger(r.totalNum)) return 'totalNum must be a whole number';
  if (r.kind === 'normal' && r.totalNum !== 1) return 'a normal red packet has totalNum 1';
  if (r.kind === 'fission' && r.totalNum < 3) return 'a fission red packet has totalNum of at least 3';
  for (const [name, max] of [
    ['sendName', 32],
    ['wishing', 128],
    ['actName', 32],
    ['remark', 256],
  ] as const) {
    const v = r[name];
    if (typeof v !== 'string' || v.trim() === '') return `${name} is required`;
    if ([...v].length > max) return `${name} is longer than ${max} characters`;
  }
  if (r.sceneId !== undefined && !SCENE_IDS.has(r.sceneId)) return `sceneId "${r.sceneId}" is not one of PRODUCT_1 … PRODUCT_8`;
  const sp = r.subMchId !== undefined && r.subMchId !== '';
  if (sp && (r.msgAppId === undefined || r.msgAppId === '')) return 'service-provider mode (subMchId) needs msgAppId';
  if (!sp && ((r.msgAppId ?? '') !== '' || (r.consumeMchId ?? '') !== '')) return 'msgAppId and consumeMchId are only for service-provider mode (set subMchId)';
  const riskInfo = encodeRiskInfo(r.riskInfo);
  if (riskInfo !== undefined && riskInfo.length > 128) return 'riskInfo is longer than 128 characters once encoded';

  const fields: Record<string, string> = {
    mch_billno: r.billNo,
    mch_id: ctx.mchId,
    wxappid: r.wxAppId !== undefined && r.wxAppId !== '' ? r.wxAppId : ctx.wxappid,
    send_name: r.sendName,
    re_openid: r.openId,
    total_amount: String(r.amountFen),
    total_num: String(r.totalNum),
    wishing: r.wishing,
    act_name: r.actName,
    remark: r.remark,
  };
  if (r.kind === 'normal') fields.client_ip = ctx.clientIp;
  else fields.amt_type = 'ALL_RAND';
  if (r.sceneId !== undefined) fields.scene_id = r.sceneId;
  if (riskInfo !== undefined) fields.risk_info = riskInfo;
  if (sp) {
    fields.sub_mch_id = r.subMchId!;
    fields.msgappid = r.msgAppId!;
    if (r.consumeMchId !== undefined && r.consumeMchId !== '') fields.consume_mch_id = r.consumeMchId;
  }
  return fields;
}

/**
 * `risk_info` as the doc asks: non-empty pairs joined as `k=v&k=v`, then url-encoded as a whole.
 *
 * @example encodeRiskInfo({ posttime: '1700000000', mobile: '86-13800000000' }) // 'posttime%3D1700000000%26mobile%3D86-13800000000'
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function encodeRiskInfo(pairs: Record<string, string> | undefined): string | undefined {
  if (pairs === undefined) return undefined;
  const joined = Object.entries(pairs)
    .filter(([, v]) => typeof v === 'string' && v !== '')
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  return joined === '' ? undefined : encodeURIComponent(joined);
}

// === Reading answers

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * WeChat Pay's `return_code` / `result_code` as answered (each only when present), for the history.
 *
 * @example wireCodes({ return_code: 'SUCCESS', result_code: 'FAIL' }) // { returnCode: 'SUCCESS', resultCode: 'FAIL' }
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function wireCodes(answer: PayResponseFields): PayWireCodes {
  const returnCode = str(answer.return_code);
  const resultCode = str(answer.result_code);
  return { ...(returnCode !== undefined ? { returnCode } : {}), ...(resultCode !== undefined ? { resultCode } : {}) };
}

function uncertainFromError(err: unknown): { status: 'uncertain'; code: string; message: string } {
  if (err instanceof PayHttpError) {
    const code = err.failure === 'http_status' ? `HTTP_${err.status ?? 0}` : err.failure === 'bad_signature' ? 'BAD_SIGNATURE' : err.failure.toUpperCase();
    return { status: 'uncertain', code, message: err.message };
  }
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return { status: 'uncertain', code: 'CLIENT_ERROR', message };
}

/**
 * Classifies a send answer. Only `return_code` and `result_code` both SUCCESS, for our bill number,
 * our `re_openid` and our `total_amount`, is `sent`. A SUCCESS naming another receiver or amount is a
 * `collision`: WeChat Pay is re-entrant by bill number and answers a repeated bill with the FIRST
 * packet's result, so the bill number was already another packet's (another ledger sharing the tag)
 * and nothing was paid for this request. FATAL_ERROR ("mch_billno reused with another openid or
 * amount") means the same here, since a grant's parameters are fixed at record time. Other FAIL
 * answers go through {@link classifyRedpackError}.
 *
 * Fission (`sendgroupredpack`): `re_openid` is the seed user and `total_amount` the whole group, the
 * same values the request carries; service-provider mode answers the openid under `msgappid`, which is
 * again the one sent.
 *
 * @example classifySendAnswer(parseXml(xml), request).status // 'sent' | 'uncertain' | 'config' | 'failed' | 'collision'
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function classifySendAnswer(answer: PayResponseFields, request: Pick<RedpackRequest, 'billNo' | 'amountFen' | 'openId'>): RedpackSendOutcome {
  const returnCode = str(answer.return_code);
  const resultCode = str(answer.result_code);
  const errCode = str(answer.err_code);
  const message = str(answer.err_code_des) ?? str(answer.return_msg) ?? '';
  if (returnCode === 'SUCCESS' && resultCode === 'SUCCESS') {
    const billNo = str(answer.mch_billno);
    if (billNo !== undefined && billNo !== request.billNo)
      return { status: 'uncertain', code: 'BILLNO_MISMATCH', message: `the answer is for mch_billno ${billNo}, not ${request.billNo}` };
    const mismatch = sendAnswerMismatch(answer, request);
    if (mismatch !== undefined) return { status: 'collision', code: 'BILLNO_COLLISION', message: mismatch };
    return { status: 'sent', sendListId: str(answer.send_listid) ?? '' };
  }
  if (returnCode === undefined) return { status: 'uncertain', code: 'UNPARSEABLE', message: 'the answer has no return_code' };
  if (errCode === 'FATAL_ERROR')
    return {
      status: 'collision',
      code: 'BILLNO_COLLISION',
      message: `FATAL_ERROR: mch_billno ${request.billNo} was already used with another openid or amount${message ? ` (${message})` : ''}`,
    };
  if (errCode === undefined) return { status: 'uncertain', code: returnCode === 'SUCCESS' ? `RESULT_${resultCode ?? 'MISSING'}` : `RETURN_${returnCode}`, message };
  return { status: classifyRedpackError(errCode), code: errCode, message };
}

/**
 * What a SUCCESS send answer says that is not this request's (`re_openid`, `total_amount`), or
 * undefined when it matches. A field the answer leaves out is not held against it.
 *
 * @example sendAnswerMismatch({ re_openid: 'oOther', total_amount: '100' }, request) // 'the answer says re_openid oOther, not oUser'
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function sendAnswerMismatch(answer: PayResponseFields, request: Pick<RedpackRequest, 'amountFen' | 'openId'>): string | undefined {
  const problems: string[] = [];
  const openId = str(answer.re_openid);
  if (openId !== undefined && openId !== request.openId) problems.push(`re_openid ${openId}, not ${request.openId}`);
  const amount = str(answer.total_amount);
  if (amount !== undefined && amount !== String(request.amountFen)) problems.push(`total_amount ${amount}, not ${request.amountFen}`);
  return problems.length > 0 ? `the answer for this mch_billno says ${problems.join(' and ')}` : undefined;
}

/**
 * Reads a `gethbinfo` answer: NOT_FOUND → `not_found`; other FAIL → `error`; SUCCESS → `found` with `hblist`.
 *
 * @example parseQueryAnswer(parseXml(xml), billNo)
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_6&index=5
 */
export function parseQueryAnswer(answer: PayResponseFields, billNo: string): RedpackQueryOutcome {
  const returnCode = str(answer.return_code);
  const resultCode = str(answer.result_code);
  const errCode = str(answer.err_code);
  const message = str(answer.err_code_des) ?? str(answer.return_msg) ?? '';
  if (returnCode !== 'SUCCESS' || resultCode !== 'SUCCESS') {
    if (errCode === 'NOT_FOUND') return { status: 'not_found' };
    return { status: 'error', code: errCode ?? `RETURN_${returnCode ?? 'MISSING'}`, message };
  }
  const status = str(answer.status);
  if (status === undefined || !STATUSES.has(status as RedpackStatus))
    return { status: 'error', code: 'UNKNOWN_STATUS', message: `gethbinfo status "${status ?? ''}" is not one we know` };
  const answeredBill = str(answer.mch_billno);
  if (answeredBill !== undefined && answeredBill !== billNo)
    return { status: 'error', code: 'BILLNO_MISMATCH', message: `the answer is for mch_billno ${answeredBill}, not ${billNo}` };
  const totalAmountFen = Number(str(answer.total_amount) ?? NaN);
  if (!Number.isSafeInteger(totalAmountFen)) return { status: 'error', code: 'UNPARSEABLE', message: 'gethbinfo total_amount is missing' };
  const refund = str(answer.refund_amount);
  const receivedBy = readHbList(answer.hblist);
  return {
    status: 'found',
    info: {
      billNo,
      detailId: str(answer.detail_id) ?? '',
      status: status as RedpackStatus,
      totalAmountFen,
      ...(str(answer.hb_type) !== undefined ? { hbType: str(answer.hb_type) } : {}),
      ...(/^\d+$/.test(str(answer.total_num) ?? '') ? { totalNum: Number(answer.total_num) } : {}),
      ...(str(answer.reason) !== undefined ? { reason: str(answer.reason) } : {}),
      ...(str(answer.send_time) !== undefined ? { sendTime: str(answer.send_time) } : {}),
      ...(str(answer.refund_time) !== undefined ? { refundTime: str(answer.refund_time) } : {}),
      ...(refund !== undefined && /^\d+$/.test(refund) ? { refundAmountFen: Number(refund) } : {}),
      ...(receivedBy.length > 0 ? { receivedBy } : {}),
    },
  };
}

/** `hblist` → its `hbinfo` entries (one object or a list, as the XML parser gives them). */
function readHbList(hblist: unknown): { openId: string; amountFen: number; receivedAt: string }[] {
  if (hblist === null || typeof hblist !== 'object') return [];
  const raw = (hblist as Record<string, unknown>).hbinfo;
  const items = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  const out: { openId: string; amountFen: number; receivedAt: string }[] = [];
  for (const item of items) {
    if (item === null || typeof item !== 'object') continue;
    const r = item as Record<string, unknown>;
    const openId = str(r.openid);
    const amount = Number(str(r.amount) ?? NaN);
    if (openId === undefined || !Number.isSafeInteger(amount)) continue;
    out.push({ openId, amountFen: amount, receivedAt: str(r.rcv_time) ?? '' });
  }
  return out;
}
