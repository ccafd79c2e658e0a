/**
 * Sub-merchants of developer-assisted card making (`card/submerchant/submit|update|get|batchget`,
 * `card/getapplyprotocol`): a submitted or updated sub-merchant is in review (CHECKING) until
 * `approveMerchant`/`rejectMerchant` (or at once with `autoApprove`), which emit
 * `card_merchant_check_result`. Where WeChat's exact code is not published (unknown merchant id) the
 * sandbox answers 41011.
 *
 * @example const { info } = await api.card.submerchant.submit(info); await sandbox.cards.approveMerchant(info.merchant_id);
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Third-party_developer_mode.html
 */
import { cjkLength } from '../cards/cjk-length';
import { reviewMerchant } from './api-card-events';
import { nowS } from './api-card-rules';
import type { SandboxMerchant } from './api-card-state';
import { batchPage, fail, SANDBOX_OK, type ApiRouteTable } from './api-route';
import type { ApiState } from './api-state';

/** The categories `card/getapplyprotocol` offers (a sample of WeChat's table). */
const CATEGORIES = [
  {
    primary_category_id: 1,
    category_name: '美食',
    secondary_category: [
      {
        secondary_category_id: 101,
        category_name: '粤菜',
        need_qualification_stuffs: ['food_service_license_id'],
        can_choose_prepaid_card: 1,
        can_choose_payment_card: 1,
      },
      {
        secondary_category_id: 102,
        category_name: '咖啡厅',
        need_qualification_stuffs: ['food_service_license_id'],
        can_choose_prepaid_card: 1,
        can_choose_payment_card: 1,
      },
    ],
  },
  {
    primary_category_id: 2,
    category_name: '购物',
    secondary_category: [{ secondary_category_id: 201, category_name: '便利店', need_qualification_stuffs: [], can_choose_prepaid_card: 0, can_choose_payment_card: 1 }],
  },
];

export function checkMerchantInfo(state: ApiState, info: Record<string, unknown>): void {
  for (const f of ['brand_name', 'logo_url', 'protocol', 'end_time', 'primary_category_id', 'secondary_category_id'])
    if (info[f] === undefined || info[f] === '') fail(41011, `missing required fields: ${f}`);
  if (typeof info.brand_name !== 'string' || cjkLength(info.brand_name) > 12) fail(45021, 'brand_name exceeds the length limit (12)');
  if (!Number.isInteger(info.end_time) || (info.end_time as number) <= nowS(state)) fail(40079, 'invalid time: end_time');
  const p = CATEGORIES.find((c) => c.primary_category_id === info.primary_category_id);
  if (!p || !p.secondary_category.some((s) => s.secondary_category_id === info.secondary_category_id)) fail(40053, 'invalid category id');
}

export function merchantInfo(m: SandboxMerchant): Record<string, unknown> {
  return {
    merchant_id: m.merchantId,
    app_id: m.info.app_id ?? '',
    create_time: Math.floor(m.createTime / 1000),
    update_time: Math.floor(m.updateTime / 1000),
    brand_name: m.info.brand_name,
    logo_url: m.info.logo_url,
    status: m.status,
    begin_time: Math.floor(m.createTime / 1000),
    end_time: m.info.end_time,
    primary_category_id: m.info.primary_category_id,
    secondary_category_id: m.info.secondary_category_id,
  };
}

export function afterSubmit(state: ApiState, m: SandboxMerchant): void {
  if (state.cards.autoApprove) void reviewMerchant(state, m);
}

export const subMerchantRoutes: ApiRouteTable = [
  {
    method: 'POST',
    path: '/card/submerchant/submit',
    handle(req, state) {
      const info = (req.json().info ?? {}) as Record<string, unknown>;
      checkMerchantInfo(state, info);
      const m: SandboxMerchant = {
        merchantId: state.cards.nextMerchantId++,
        info: { ...info },
        status: 'CHECKING',
        createTime: state.config.clock.now(),
        updateTime: state.config.clock.now(),
      };
      state.cards.merchants.set(m.merchantId, m);
      afterSubmit(state, m);
      return { ...SANDBOX_OK, info: merchantInfo(m) };
    },
  },
  {
    method: 'POST',
    path: '/card/submerchant/update',
    handle(req, state) {
      const info = (req.json().info ?? {}) as Record<string, unknown>;
      const m = state.cards.merchants.get(Number(info.merchant_id));
      if (!m) fail(41011, 'invalid merchant_id');
      checkMerchantInfo(state, info);
      const { merchant_id: _, ...rest } = info;
      m!.info = rest;
      m!.status = 'CHECKING';
      m!.reason = undefined;
      m!.updateTime = state.config.clock.now();
      afterSubmit(state, m!);
      return { ...SANDBOX_OK, info: merchantInfo(m!) };
    },
  },
  {
    method: 'POST',
    path: '/card/submerchant/get',
    handle(req, state) {
      const m = state.cards.merchants.get(Number(req.json().merchant_id));
      if (!m) fail(41011, 'invalid merchant_id');
      return { ...SANDBOX_OK, info: merchantInfo(m!) };
    },
  },
  {
    method: 'POST',
    path: '/card/submerchant/batchget',
    handle(req, state) {
      const body = req.json();
      const { start: begin, size: limit } = batchPage(body, 'begin_id', 'limit', 100);
      const all = [...state.cards.merchants.values()].filter((m) => m.merchantId >= begin && (body.status === undefined || m.status === body.status));
      const page = all.slice(0, limit);
      const next = all.length > limit ? all[limit]!.merchantId : 0;
      return { ...SANDBOX_OK, info_list: page.map(merchantInfo), next_begin_id: next };
    },
  },
  {
    method: 'GET',
    path: '/card/getapplyprotocol',
    handle() {
      return { ...SANDBOX_OK, category: structuredClone(CATEGORIES) };
    },
  },
];
