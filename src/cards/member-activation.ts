/**
 * One-click activation (一键激活) of a member card. When the follower has submitted the activation form
 * (`submit_membercard_user_info`, or the `activate_ticket` WeChat appends to the activation jump URL),
 * the bot reads the answers (`membercard/activatetempinfo/get` with the ticket, else
 * `membercard/userinfo/get`), checks the merchant's required fields, assigns a membership number,
 * calls `membercard/activate` with the initial points and balance, and records the member.
 *
 * Exactly once per (card_id, code), also under two deliveries at once on two instances:
 * - the whole step runs under a store lock per code (`withKvLock` over the shared kv);
 * - a member already activated is answered `already-active` (no second `membercard/activate`);
 * - the number is taken from the card's sequence only for a code that has none yet, and stored with the
 *   member BEFORE `membercard/activate`, so a retry after a failure (or a crash) reuses it; a number
 *   is never handed out twice (a number taken and lost is a gap).
 *
 * Runs after the webhook has answered (the card event's `activation` follow-up), never inside WeChat's 5 s.
 *
 * @example
 * const r = await activateMember(deps, { cardId, code, openId, activateTicket });
 * if (r.outcome === 'missing-fields') log.warn({ missing: r.missing }, 'form incomplete');
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Membership_Cards/Create_a_membership_card.html
 */
import type { MemberCardApi, MemberFormAnswers } from '../api/member-card';
import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import type { KeyValueStore } from '../store/ports';
import { withKvLock } from './card-registry';
import { DEFAULT_ACTIVATION_MESSAGES, MEMBER_FORM_FIELD_LABELS, type ActivationMessages, type MemberCardConfig } from './member-card-schema';
import type { Member, MemberStoreWithNumbers } from './member-store';

/** What activating a member card needs from the card's config (cards.yaml `activation`). */
export interface MemberActivationSettings {
  /** Fields that must be answered: USER_FORM_INFO_FLAG_* ids and custom field names. */
  requiredFields: readonly string[];
  /** Points given at activation (`init_bonus`). */
  initialBonus: number;
  /** Balance in fen given at activation (`init_balance`). */
  initialBalanceFen: number;
  /** The points record text shown with the initial points (`init_bonus_record`). */
  initBonusRecord?: string;
  /** What the follower is told afterwards (cards.yaml `activation.messages`); WeChat-side defaults when absent. */
  messages?: ActivationMessages;
}

/** What {@link activateMember} needs. */
export interface MemberActivationDeps {
  api: MemberCardApi;
  members: MemberStoreWithNumbers;
  kv: KeyValueStore;
  clock: Clock;
  log: Logger;
  /** The activation settings of a member card by card_id (undefined: not a one-click member card of ours). */
  settingsOf(cardId: string): Promise<MemberActivationSettings | undefined>;
}

/** One activation request. */
export interface ActivationRequest {
  cardId: string;
  code: string;
  openId: string;
  /** From the activation jump URL; without it the answers are read with `membercard/userinfo/get`. */
  activateTicket?: string;
}

/** What {@link activateMember} did. */
export type ActivationResult =
  | { outcome: 'activated'; member: Member }
  | { outcome: 'already-active'; member: Member }
  | { outcome: 'missing-fields'; missing: string[] }
  | { outcome: 'not-a-member-card' }
  | { outcome: 'failed'; reason: string };

/**
 * The activation settings of a member card of cards.yaml (`MemberCardConfig`); undefined unless its
 * activation is one-click (`wx_activate`): with `mode: url` the merchant's own page activates.
 *
 * @example activationSettingsOf(definition.member!) // { requiredFields: ['USER_FORM_INFO_FLAG_MOBILE'], initialBonus: 100, … }
 */
export function activationSettingsOf(m: MemberCardConfig): MemberActivationSettings | undefined {
  if (m.activation.mode !== 'wx_activate') return undefined;
  const { required } = m.activation.form;
  return {
    requiredFields: [...required.commonFields, ...required.customFields],
    initialBonus: m.initialBonus,
    initialBalanceFen: m.initialBalance,
    initBonusRecord: m.recordBonus,
    messages: m.activation.messages,
  };
}

const DEFAULT_MESSAGES: ActivationMessages = {
  activated: DEFAULT_ACTIVATION_MESSAGES.activated,
  missingFields: DEFAULT_ACTIVATION_MESSAGES.missing_fields,
  failed: DEFAULT_ACTIVATION_MESSAGES.failed,
};

/**
 * The label a follower sees for a form field: WeChat's name of a common field, a custom field's own name.
 *
 * @example fieldLabel('USER_FORM_INFO_FLAG_MOBILE') // '手机号'
 */
export function fieldLabel(name: string): string {
  return (MEMBER_FORM_FIELD_LABELS as Readonly<Record<string, string>>)[name] ?? name;
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => values[key] ?? whole);
}

/**
 * The text the follower is sent after an activation, or undefined when nothing is to be said
 * (already active: they were told the first time; not a member card of ours).
 *
 * @example activationNotice({ outcome: 'missing-fields', missing: ['USER_FORM_INFO_FLAG_MOBILE'] }, settings) // '会员卡未激活：请填写手机号后重新提交'
 */
export function activationNotice(r: ActivationResult, messages: ActivationMessages = DEFAULT_MESSAGES): string | undefined {
  switch (r.outcome) {
    case 'activated':
      return fill(messages.activated, {
        membership_number: r.member.membershipNumber,
        bonus: String(r.member.initialBonus),
        balance: (r.member.initialBalance / 100).toFixed(2),
      });
    case 'missing-fields':
      return fill(messages.missingFields, { fields: r.missing.map(fieldLabel).join('、') });
    case 'failed':
      return messages.failed;
    default:
      return undefined;
  }
}

/** Digits of a membership number (zero-padded; WeChat allows digits, letters and ASCII punctuation). */
export const MEMBERSHIP_NUMBER_DIGITS = 8;

/**
 * A number of the card's sequence as shown on the card.
 *
 * @example membershipNumberOf(12) // '00000012'
 */
export function membershipNumberOf(n: number): string {
  return String(n).padStart(MEMBERSHIP_NUMBER_DIGITS, '0');
}

/**
 * The answers as `fields` (name → value; a multi-choice answer joined with commas).
 *
 * @example formFields({ commonFields: [{ name: 'USER_FORM_INFO_FLAG_MOBILE', value: '138…' }], customFields: [] })
 */
export function formFields(a: MemberFormAnswers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of [...a.commonFields, ...a.customFields]) {
    const value = f.value ?? (f.value_list ?? []).join(',');
    if (value.trim() !== '') out[f.name] = value;
  }
  return out;
}

/**
 * The required fields left unanswered.
 *
 * @example missingFields({ a: '1' }, ['a', 'b']) // ['b']
 */
export function missingFields(fields: Record<string, string>, required: readonly string[]): string[] {
  return required.filter((name) => (fields[name] ?? '').trim() === '');
}

/**
 * Activates one member card, exactly once (see the module doc). Never throws: a failure is an outcome.
 *
 * @example await activateMember(deps, { cardId: 'pMember', code: '1102…', openId: 'o-1' })
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Membership_Cards/Create_a_membership_card.html
 */
export async function activateMember(deps: MemberActivationDeps, req: ActivationRequest): Promise<ActivationResult> {
  const log = deps.log.child({ card: req.cardId });
  try {
    const r = await withKvLock(deps.kv, `cards:member-lock:${req.cardId}:${req.code}`, () => activateLocked(deps, req), { ttlSeconds: 30, waitMs: 40_000 });
    if (r.outcome === 'activated') log.info({ membershipNumber: r.member.membershipNumber }, 'member card activated');
    else if (r.outcome === 'missing-fields') log.warn({ missing: r.missing }, 'member card not activated: required fields are missing');
    return r;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    log.warn({ reason }, 'member card activation failed (a repeated event retries it)');
    return { outcome: 'failed', reason };
  }
}

async function activateLocked(deps: MemberActivationDeps, req: ActivationRequest): Promise<ActivationResult> {
  const { members, api } = deps;
  const have = await members.findByCode(req.cardId, req.code);
  if (have?.activatedAt !== undefined) return { outcome: 'already-active', member: have };
  const settings = await deps.settingsOf(req.cardId);
  if (!settings) return { outcome: 'not-a-member-card' };
  const answers = req.activateTicket ? await api.activateTempInfo(req.activateTicket) : await api.userInfo(req.cardId, req.code);
  const fields = formFields(answers);
  const missing = missingFields(fields, settings.requiredFields);
  if (missing.length > 0) return { outcome: 'missing-fields', missing };
  const membershipNumber = have?.membershipNumber ?? membershipNumberOf(await members.nextNumber(req.cardId));
  const draft: Member = {
    cardId: req.cardId,
    code: req.code,
    openId: req.openId,
    membershipNumber,
    fields,
    initialBonus: settings.initialBonus,
    initialBalance: settings.initialBalanceFen,
  };
  await members.upsert(draft);
  // The stored row is the truth (a holder whose lock expired may have stored its number first).
  const stored = (await members.findByCode(req.cardId, req.code)) ?? draft;
  if (stored.activatedAt !== undefined) return { outcome: 'already-active', member: stored };
  await api.activate({
    cardId: req.cardId,
    code: req.code,
    membershipNumber: stored.membershipNumber,
    initBonus: stored.initialBonus,
    initBonusRecord: settings.initBonusRecord,
    initBalance: stored.initialBalance,
  });
  const at = deps.clock.now();
  if (!(await members.markActivated(req.cardId, req.code, at))) return { outcome: 'already-active', member: (await members.findByCode(req.cardId, req.code)) ?? stored };
  return { outcome: 'activated', member: { ...stored, activatedAt: at } };
}
