/**
 * Card coupons (卡券) — the grouping skeleton. The card issue adds the typed endpoints (`create`,
 * `qrcodeCreate`, `codeGet`, `codeConsume`, sub-merchants …) on top of {@link CardApi.post}.
 *
 * @example const res = await api.card.post<{ card_id: string }>('create', { card: { card_type: 'CASH', cash: {…} } });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Create_a_Coupon_Voucher_or_Card.html
 */
import type { ApiRequest, ApiResult } from './client';

/**
 * `api.card`: the plumbing the card issue builds on.
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Create_a_Coupon_Voucher_or_Card.html
 */
export interface CardApi {
  /** `POST /card/<path>` with a JSON body, through the client's request function (token, errors, retries). */
  post<T = ApiResult>(path: string, body: unknown): Promise<T>;
}

/**
 * Builds `api.card` over the client's request function.
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Create_a_Coupon_Voucher_or_Card.html
 */
export function createCardApi(request: ApiRequest): CardApi {
  return {
    post<T = ApiResult>(path: string, body: unknown): Promise<T> {
      const clean = path.replace(/^\/+/, '').replace(/^card\//, '');
      if (clean === '' || clean.includes('?')) throw new TypeError(`card.post: "${path}" is not a card endpoint path`);
      return request<T>('POST', `/card/${clean}`, { body });
    },
  };
}
