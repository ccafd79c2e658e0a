/**
 * Member cards and quick pay in the API sandbox: the `member_card` object's rules as `card/create`
 * and `card/update` check them (`checkMemberCard`), and the endpoints that set what card/create does
 * not carry — the one-click activation form (`card/membercard/activateuserform/set`), quick pay
 * (`card/paycell/set`) and self redemption (`card/selfconsumecell/set`).
 *
 * Rules (WeChat's "Create a membership card", "activateuserform/set" and "paycell/set" pages):
 * supply_bonus and supply_balance are required booleans and cannot change by card/update;
 * prerogative ≤ 1024 Chinese characters; discount 0–100; custom_field*.name_type one of the
 * FIELD_NAME_TYPE_* values; custom_cell1 needs name, tips and url; the form's common fields are the
 * USER_FORM_INFO_FLAG_* names; quick pay and self redemption need a card with stores
 * (base_info.location_id_list). Error codes: 41011 missing field, 47001 data format, 45021 too long,
 * 40073 unknown card.
 *
 * @example await api.card.setPayCell(cardId, true); state.cards.cards.get(cardId)!.payCell // → true
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Membership_Cards/Create_a_membership_card.html
 */
import { cjkLength } from '../cards/cjk-length';
import { MEMBER_FIELD_NAME_TYPES, MEMBER_FORM_COMMON_FIELDS, MAX_FORM_CUSTOM_FIELDS } from '../cards/member-card-schema';
import { baseOf, cardOf } from './api-card-rules';
import type { SandboxCard } from './api-card-state';
import { fail, SANDBOX_OK, type ApiRouteTable } from './api-route';

const NAME_TYPES = new Set<string>(MEMBER_FIELD_NAME_TYPES);
const COMMON_FIELDS = new Set<string>(MEMBER_FORM_COMMON_FIELDS);
const TEXT_LIMITS: Record<string, number> = { prerogative: 1024, bonus_cleared: 64, bonus_rules: 64, balance_rules: 64 };

function text(v: unknown, field: string, max: number): void {
  if (typeof v !== 'string') fail(47001, `data format error: ${field}`);
  if (cjkLength(v as string) > max) fail(45021, `${field} exceeds the length limit (${max})`);
}

/** The `member_card` object's own fields, on card/create (`partial` false) or card/update. */
export function checkMemberCard(m: Record<string, unknown>, partial: boolean): void {
  for (const f of ['supply_bonus', 'supply_balance']) {
    if (partial && m[f] !== undefined) fail(47001, `data format error: ${f} cannot be updated`);
    if (!partial && typeof m[f] !== 'boolean') fail(m[f] === undefined ? 41011 : 47001, `${m[f] === undefined ? 'missing required fields' : 'data format error'}: ${f}`);
  }
  if (!partial && (m.prerogative === undefined || m.prerogative === '')) fail(41011, 'missing required fields: prerogative');
  for (const [f, max] of Object.entries(TEXT_LIMITS)) if (m[f] !== undefined) text(m[f], f, max);
  if (m.discount !== undefined && (!Number.isInteger(m.discount) || (m.discount as number) < 0 || (m.discount as number) > 100))
    fail(47001, 'data format error: discount');
  if (m.wx_activate !== undefined && typeof m.wx_activate !== 'boolean') fail(47001, 'data format error: wx_activate');
  if (m.activate_url !== undefined) text(m.activate_url, 'activate_url', 128);
  for (const f of ['custom_field1', 'custom_field2', 'custom_field3']) {
    const c = m[f] as Record<string, unknown> | undefined;
    if (c === undefined) continue;
    if (typeof c !== 'object' || c === null) fail(47001, `data format error: ${f}`);
    if (c.name_type !== undefined && !NAME_TYPES.has(String(c.name_type))) fail(47001, `data format error: ${f}.name_type`);
    if (c.name_type === undefined && (typeof c.name !== 'string' || c.name === '')) fail(41011, `missing required fields: ${f}.name_type or ${f}.name`);
  }
  const cell = m.custom_cell1 as Record<string, unknown> | undefined;
  if (cell !== undefined) {
    for (const [f, max] of [
      ['name', 5],
      ['tips', 6],
      ['url', 128],
    ] as const) {
      if (cell[f] === undefined || cell[f] === '') fail(41011, `missing required fields: custom_cell1.${f}`);
      text(cell[f], `custom_cell1.${f}`, max);
    }
  }
  const rule = m.bonus_rule as Record<string, unknown> | undefined;
  if (rule !== undefined) for (const [f, v] of Object.entries(rule)) if (!Number.isInteger(v) || (v as number) < 0) fail(47001, `data format error: bonus_rule.${f}`);
}

function formOf(v: unknown, name: string): { can_modify?: boolean; common_field_id_list: string[]; custom_field_list: string[] } | undefined {
  if (v === undefined) return undefined;
  if (!v || typeof v !== 'object') return fail(47001, `data format error: ${name}`);
  const f = v as Record<string, unknown>;
  const common = f.common_field_id_list ?? [];
  const custom = f.custom_field_list ?? [];
  if (!Array.isArray(common) || !Array.isArray(custom)) return fail(47001, `data format error: ${name}`);
  for (const c of common) if (!COMMON_FIELDS.has(String(c))) fail(47001, `data format error: ${name}.common_field_id_list: ${String(c)}`);
  if (custom.length > MAX_FORM_CUSTOM_FIELDS) fail(47001, `data format error: ${name}.custom_field_list has more than ${MAX_FORM_CUSTOM_FIELDS} fields`);
  for (const c of custom) if (typeof c !== 'string' || c === '') fail(47001, `data format error: ${name}.custom_field_list`);
  if (f.can_modify !== undefined && typeof f.can_modify !== 'boolean') fail(47001, `data format error: ${name}.can_modify`);
  return {
    ...(f.can_modify !== undefined ? { can_modify: f.can_modify as boolean } : {}),
    common_field_id_list: common as string[],
    custom_field_list: custom as string[],
  };
}

function isOpenOf(body: Record<string, unknown>): boolean {
  if (body.is_open === undefined) fail(41011, 'missing required fields: is_open');
  if (typeof body.is_open !== 'boolean') fail(47001, 'data format error: is_open');
  return body.is_open as boolean;
}

/** Quick pay and self redemption are for cards with stores. */
function requireStores(card: SandboxCard, what: string): void {
  const ids = baseOf(card).location_id_list;
  if (!Array.isArray(ids) || ids.length === 0) fail(47001, `data format error: ${what} needs a card with stores (base_info.location_id_list)`);
}

export const memberCardRoutes: ApiRouteTable = [
  {
    method: 'POST',
    path: '/card/membercard/activateuserform/set',
    handle(req, state) {
      const { body, card } = cardOf(state, req);
      if (card.type !== 'MEMBER_CARD') fail(47001, 'data format error: not a member card');
      const required = formOf(body.required_form, 'required_form');
      const optional = formOf(body.optional_form, 'optional_form');
      if (!required && !optional) fail(41011, 'missing required fields: required_form or optional_form');
      const names = [...(required?.common_field_id_list ?? []), ...(required?.custom_field_list ?? [])];
      for (const n of [...(optional?.common_field_id_list ?? []), ...(optional?.custom_field_list ?? [])])
        if (names.includes(n)) fail(47001, `data format error: ${n} is in both required_form and optional_form`);
      card.activateForm = { ...(required ? { required_form: required } : {}), ...(optional ? { optional_form: optional } : {}) };
      return { ...SANDBOX_OK };
    },
  },
  {
    method: 'POST',
    path: '/card/paycell/set',
    handle(req, state) {
      const { body, card } = cardOf(state, req);
      const isOpen = isOpenOf(body);
      if (isOpen) requireStores(card, 'quick pay');
      card.payCell = isOpen;
      return { ...SANDBOX_OK };
    },
  },
  {
    method: 'POST',
    path: '/card/selfconsumecell/set',
    handle(req, state) {
      const { body, card } = cardOf(state, req);
      const isOpen = isOpenOf(body);
      for (const f of ['need_verify_cod', 'need_remark_amount']) if (body[f] !== undefined && typeof body[f] !== 'boolean') fail(47001, `data format error: ${f}`);
      if (isOpen) requireStores(card, 'self redemption');
      card.selfConsumeCell = { isOpen, needVerifyCod: body.need_verify_cod === true, needRemarkAmount: body.need_remark_amount === true };
      return { ...SANDBOX_OK };
    },
  },
];
