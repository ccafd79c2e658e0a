/**
 * Sub-merchants (子商户) of developer-assisted coupon making (第三方代制模式): register a merchant for
 * whom the parent account makes coupons, read its review state, and list the categories allowed.
 * Reached as `api.card.submerchant`.
 *
 * Only APPROVED merchants may be used in a card's `base_info.sub_merchant_info.merchant_id`; the review
 * result arrives as the `card_merchant_check_result` event.
 *
 * @example
 * const { merchantId } = await api.card.submerchant.submit({ brandName: '小咖啡', logoUrl, protocol: mediaId, endTime, primaryCategoryId: 1, secondaryCategoryId: 101 });
 * const info = await api.card.submerchant.get(merchantId); // info.status === 'CHECKING'
 * @see https://developers.weixin.qq.com/doc/service/guide/product/card/Third-party_developer_mode.html
 */
import type { ApiRequest } from './request';

// === Values

/** Review state of a sub-merchant, as WeChat spells it (EXPIRED: the authorization letter ran out). */
export type SubMerchantStatus = 'CHECKING' | 'APPROVED' | 'REJECTED' | 'EXPIRED';

/** Every status, for validation and `batchget`. */
export const SUBMERCHANT_STATUSES: readonly SubMerchantStatus[] = ['CHECKING', 'APPROVED', 'REJECTED', 'EXPIRED'];

/** What `submit`/`update` send (camelCase; mapped to WeChat's `info` object). */
export interface SubMerchantInfoInput {
  /** ≤ 12 CJK characters. */
  brandName: string;
  logoUrl: string;
  /** media_id of the uploaded authorization letter (授权函). */
  protocol: string;
  /** Expiry of the authorization letter, epoch seconds. */
  endTime: number;
  primaryCategoryId: number;
  secondaryCategoryId: number;
  /** media_id of the business licence. */
  agreementMediaId?: string;
  /** media_id of the operator's ID. */
  operatorMediaId?: string;
  /** The sub-merchant's own verified official account (optional). */
  appId?: string;
}

/** A sub-merchant as WeChat reports it. */
export interface SubMerchantInfo {
  merchantId: number;
  appId?: string;
  brandName: string;
  logoUrl?: string;
  status: SubMerchantStatus | string;
  beginTime?: number;
  endTime?: number;
  createTime?: number;
  updateTime?: number;
  primaryCategoryId?: number;
  secondaryCategoryId?: number;
}

/** One allowed category from `card/getapplyprotocol`. */
export interface SubMerchantCategory {
  primaryCategoryId: number;
  name: string;
  secondary: {
    secondaryCategoryId: number;
    name: string;
    needQualificationStuffs: string[];
    canChoosePrepaidCard: boolean;
    canChoosePaymentCard: boolean;
  }[];
}

/**
 * `api.card.submerchant`.
 * @see https://developers.weixin.qq.com/doc/service/guide/product/card/Third-party_developer_mode.html
 */
export interface SubMerchantApi {
  /** `card/submerchant/submit` → the new merchant id (status CHECKING). */
  submit(info: SubMerchantInfoInput): Promise<SubMerchantInfo>;
  /** `card/submerchant/update` (goes back to review). */
  update(merchantId: number, info: SubMerchantInfoInput): Promise<SubMerchantInfo>;
  /** `card/submerchant/get`. */
  get(merchantId: number): Promise<SubMerchantInfo>;
  /** `card/submerchant/batchget` (one page; `limit` ≤ 100). */
  batchGet(opts?: { beginId?: number; limit?: number; status?: SubMerchantStatus }): Promise<{ list: SubMerchantInfo[]; nextBeginId: number }>;
  /** `GET card/getapplyprotocol`: the categories a sub-merchant may choose. */
  categories(): Promise<SubMerchantCategory[]>;
}

// === Mapping

/** {@link SubMerchantInfoInput} in WeChat's spelling: the `info` object `submit`/`update` send, and a sub-merchant of submerchants.yaml. */
export interface SubMerchantInfoBody {
  brand_name: string;
  logo_url: string;
  protocol: string;
  end_time: number;
  primary_category_id: number;
  secondary_category_id: number;
  agreement_media_id?: string;
  operator_media_id?: string;
  app_id?: string;
}

/** Each field of {@link SubMerchantInfoInput}, its name in {@link SubMerchantInfoBody}, and whether it is left out when unset. */
const INFO_FIELDS: readonly (readonly [keyof SubMerchantInfoInput, keyof SubMerchantInfoBody, 'optional'?])[] = [
  ['brandName', 'brand_name'],
  ['logoUrl', 'logo_url'],
  ['protocol', 'protocol'],
  ['endTime', 'end_time'],
  ['primaryCategoryId', 'primary_category_id'],
  ['secondaryCategoryId', 'secondary_category_id'],
  ['agreementMediaId', 'agreement_media_id', 'optional'],
  ['operatorMediaId', 'operator_media_id', 'optional'],
  ['appId', 'app_id', 'optional'],
];

/** Copies the fields of {@link INFO_FIELDS} from one spelling to the other; an optional field only when set (not `''`). */
function renameInfoFields(src: object, direction: 'toBody' | 'toInput'): Record<string, unknown> {
  const values = src as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [camel, wire, optional] of INFO_FIELDS) {
    const [from, to] = direction === 'toBody' ? [camel, wire] : [wire, camel];
    const value = values[from];
    if (!optional || value) out[to] = value;
  }
  return out;
}

/**
 * Maps {@link SubMerchantInfoInput} to WeChat's `info` object (optional fields left out when unset).
 *
 * @example toSubMerchantInfoBody({ brandName: 'x', … }) // { brand_name: 'x', logo_url: …, protocol: … }
 * @see https://developers.weixin.qq.com/doc/service/guide/product/card/Third-party_developer_mode.html
 */
export function toSubMerchantInfoBody(info: SubMerchantInfoInput): SubMerchantInfoBody {
  return renameInfoFields(info, 'toBody') as unknown as SubMerchantInfoBody;
}

/**
 * The inverse of {@link toSubMerchantInfoBody}: WeChat's spelling (a sub-merchant of submerchants.yaml)
 * → {@link SubMerchantInfoInput} (optional fields left out when unset).
 *
 * @example toSubMerchantInfoInput({ brand_name: 'x', … }) // { brandName: 'x', logoUrl: …, protocol: … }
 */
export function toSubMerchantInfoInput(body: SubMerchantInfoBody): SubMerchantInfoInput {
  return renameInfoFields(body, 'toInput') as unknown as SubMerchantInfoInput;
}

/** WeChat's `info` object → {@link SubMerchantInfo}. */
export function fromSubMerchantInfoBody(raw: unknown): SubMerchantInfo {
  const o = (raw ?? {}) as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined);
  const out: SubMerchantInfo = {
    merchantId: num(o.merchant_id) ?? 0,
    brandName: String(o.brand_name ?? ''),
    status: String(o.status ?? ''),
  };
  if (typeof o.app_id === 'string' && o.app_id) out.appId = o.app_id;
  if (typeof o.logo_url === 'string') out.logoUrl = o.logo_url;
  for (const [k, w] of [
    ['beginTime', 'begin_time'],
    ['endTime', 'end_time'],
    ['createTime', 'create_time'],
    ['updateTime', 'update_time'],
    ['primaryCategoryId', 'primary_category_id'],
    ['secondaryCategoryId', 'secondary_category_id'],
  ] as const) {
    const n = num(o[w]);
    if (n !== undefined) out[k] = n;
  }
  return out;
}

function requireMerchantId(id: number): void {
  if (!Number.isSafeInteger(id) || id <= 0) throw new TypeError(`submerchant: merchantId must be a positive integer, got ${String(id)}`);
}

// === Factory

/**
 * Builds `api.card.submerchant` over the client's request function.
 *
 * @example const sub = createSubMerchantApi(request); await sub.categories();
 * @see https://developers.weixin.qq.com/doc/service/guide/product/card/Third-party_developer_mode.html
 */
export function createSubMerchantApi(request: ApiRequest): SubMerchantApi {
  return {
    async submit(info) {
      const res = await request<{ info?: unknown }>('POST', '/card/submerchant/submit', { body: { info: toSubMerchantInfoBody(info) } });
      return fromSubMerchantInfoBody(res.info);
    },
    async update(merchantId, info) {
      requireMerchantId(merchantId);
      const res = await request<{ info?: unknown }>('POST', '/card/submerchant/update', {
        body: { info: { merchant_id: merchantId, ...toSubMerchantInfoBody(info) } },
      });
      return fromSubMerchantInfoBody(res.info);
    },
    async get(merchantId) {
      requireMerchantId(merchantId);
      const res = await request<{ info?: unknown }>('POST', '/card/submerchant/get', { body: { merchant_id: merchantId } });
      return fromSubMerchantInfoBody(res.info);
    },
    async batchGet(opts = {}) {
      const limit = opts.limit ?? 100;
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new TypeError('submerchant.batchGet: limit must be 1–100');
      const body: Record<string, unknown> = { begin_id: opts.beginId ?? 0, limit };
      if (opts.status) body.status = opts.status;
      const res = await request<{ info_list?: unknown[]; next_begin_id?: number }>('POST', '/card/submerchant/batchget', { body });
      return { list: (res.info_list ?? []).map(fromSubMerchantInfoBody), nextBeginId: Number(res.next_begin_id ?? 0) };
    },
    async categories() {
      const res = await request<{ category?: unknown[] }>('GET', '/card/getapplyprotocol');
      return (res.category ?? []).map((c) => {
        const o = c as Record<string, unknown>;
        return {
          primaryCategoryId: Number(o.primary_category_id),
          name: String(o.category_name ?? ''),
          secondary: ((o.secondary_category as unknown[]) ?? []).map((s) => {
            const x = s as Record<string, unknown>;
            return {
              secondaryCategoryId: Number(x.secondary_category_id),
              name: String(x.category_name ?? ''),
              needQualificationStuffs: Array.isArray(x.need_qualification_stuffs) ? x.need_qualification_stuffs.map(String) : [],
              canChoosePrepaidCard: Boolean(x.can_choose_prepaid_card),
              canChoosePaymentCard: Boolean(x.can_choose_payment_card),
            };
          }),
        };
      });
    },
  };
}
