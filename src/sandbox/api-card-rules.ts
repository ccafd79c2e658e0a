/**
 * The rules WeChat applies to cards (wechat-protocol.md §5.4), as the card endpoints of the API
 * sandbox check them: card type, code type, colour, text lengths (CJK characters count as WeChat
 * counts them), date info, the fields each type needs; a card's validity for one code; and the
 * request helpers that find a card or a code (40073 / 40056).
 *
 * @example const { type, base } = payloadOf(body.card); checkBaseText(base, false); checkDateInfo(state, base.date_info);
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Create_a_Coupon_Voucher_or_Card.html
 */
import { cjkLength } from '../cards/cjk-length';
import type { SandboxCard, SandboxCode } from './api-card-state';
import { fail, SandboxApiError, type SandboxRequest } from './api-route';
import type { ApiState } from './api-state';

// === Rules WeChat applies

const TYPES = new Set(['GROUPON', 'CASH', 'DISCOUNT', 'GIFT', 'GENERAL_COUPON', 'MEMBER_CARD']);
const CODE_TYPES = new Set(['CODE_TYPE_TEXT', 'CODE_TYPE_BARCODE', 'CODE_TYPE_QRCODE', 'CODE_TYPE_ONLY_QRCODE', 'CODE_TYPE_ONLY_BARCODE', 'CODE_TYPE_NONE']);
const COLOR = /^Color(0[1-9]0|100)$/;
const LIMITS: Record<string, number> = { brand_name: 12, title: 9, notice: 16, description: 1024, sub_title: 18 };
export const SPECIAL: Record<string, string[]> = {
  GROUPON: ['deal_detail'],
  CASH: ['reduce_cost'],
  DISCOUNT: ['discount'],
  GIFT: ['gift'],
  GENERAL_COUPON: ['default_detail'],
};
export const REVIEW_FIELDS = ['title', 'sub_title', 'brand_name', 'logo_url', 'description', 'notice', 'color'];
const DAY_S = 86400;

/**
 * A required string field of a request body: 41011 when absent or empty, 47001 when not a string.
 *
 * @example const ticket = requiredText(req.json(), 'activate_ticket');
 */
export function requiredText(body: Record<string, unknown>, field: string): string {
  const v = body[field];
  if (v === undefined || v === '') fail(41011, `missing required fields: ${field}`);
  if (typeof v !== 'string') fail(47001, `data format error: ${field}`);
  return v as string;
}

/** The sandbox clock in epoch seconds. */
export function nowS(state: ApiState): number {
  return Math.floor(state.config.clock.now() / 1000);
}

export function payloadOf(card: Record<string, unknown>): { type: string; payload: Record<string, unknown>; base: Record<string, unknown> } {
  const type = card.card_type;
  if (typeof type !== 'string' || !TYPES.has(type)) return fail(40071, 'invalid card type');
  const payload = card[(type as string).toLowerCase()];
  if (!payload || typeof payload !== 'object') return fail(41011, `missing required fields: ${(type as string).toLowerCase()}`);
  const base = (payload as Record<string, unknown>).base_info;
  if (!base || typeof base !== 'object') return fail(41011, 'missing required fields: base_info');
  return { type: type as string, payload: payload as Record<string, unknown>, base: base as Record<string, unknown> };
}

export function checkBaseText(base: Record<string, unknown>, partial: boolean): void {
  for (const [field, max] of Object.entries(LIMITS)) {
    const v = base[field];
    if (v === undefined) continue;
    if (typeof v !== 'string') fail(47001, `data format error: ${field}`);
    if (cjkLength(v as string) > max) fail(45021, `${field} exceeds the length limit (${max})`);
  }
  if (base.color !== undefined && (typeof base.color !== 'string' || !COLOR.test(base.color))) fail(40071, 'invalid color');
  if (base.code_type !== undefined && !CODE_TYPES.has(String(base.code_type))) fail(40072, 'invalid code type');
  if (!partial)
    for (const f of ['logo_url', 'brand_name', 'code_type', 'title', 'color', 'notice', 'description', 'sku', 'date_info'])
      if (base[f] === undefined || base[f] === '') fail(41011, `missing required fields: base_info.${f}`);
}

export function checkDateInfo(state: ApiState, d: unknown): void {
  if (!d || typeof d !== 'object') return fail(41011, 'missing required fields: date_info');
  const di = d as Record<string, unknown>;
  if (di.type === 'DATE_TYPE_FIX_TIME_RANGE') {
    const b = Number(di.begin_timestamp);
    const e = Number(di.end_timestamp);
    if (!Number.isInteger(b) || !Number.isInteger(e) || b <= 0 || e <= b) fail(40079, 'invalid time: begin_timestamp/end_timestamp');
    if (e <= nowS(state)) fail(40079, 'invalid time: end_timestamp is in the past');
  } else if (di.type === 'DATE_TYPE_FIX_TERM') {
    if (!Number.isInteger(di.fixed_term) || (di.fixed_term as number) < 0) fail(40079, 'invalid time: fixed_term');
    if (di.fixed_begin_term !== undefined && (!Number.isInteger(di.fixed_begin_term) || (di.fixed_begin_term as number) < 0))
      fail(40079, 'invalid time: fixed_begin_term');
  } else fail(40079, 'invalid time: date_info.type');
}

export function cardOf(state: ApiState, req: SandboxRequest): { body: Record<string, unknown>; card: SandboxCard } {
  const body = req.json();
  const id = body.card_id;
  if (typeof id !== 'string' || id === '') return fail(41012, 'missing card_id');
  const card = state.cards.cards.get(id as string);
  if (!card || card.status === 'CARD_STATUS_DELETE') return fail(40073, 'invalid card id');
  return { body, card: card as SandboxCard };
}

export function baseOf(c: SandboxCard): Record<string, unknown> {
  return (c.card[c.type.toLowerCase()] as Record<string, unknown>).base_info as Record<string, unknown>;
}

export function validity(c: SandboxCard, code: SandboxCode): { begin: number; end: number } {
  const d = (baseOf(c).date_info ?? {}) as Record<string, unknown>;
  if (d.type === 'DATE_TYPE_FIX_TIME_RANGE') return { begin: Number(d.begin_timestamp), end: Number(d.end_timestamp) };
  const got = Math.floor(code.receivedAt / 1000);
  const begin = got + Number(d.fixed_begin_term ?? 0) * DAY_S;
  const end = begin + (Number(d.fixed_term ?? 0) + 1) * DAY_S - 1;
  return { begin, end: d.end_timestamp ? Math.min(end, Number(d.end_timestamp)) : end };
}

export function requireCode(state: ApiState, code: string): SandboxCode {
  const c = state.cards.codes.get(code);
  if (!c) throw new SandboxApiError(40056, 'invalid serial code');
  return c;
}
