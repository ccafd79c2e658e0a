/**
 * Card job "events": review results (`card_pass_check`, `card_not_pass_check`,
 * `card_merchant_check_result`) update the registry — an approved sub-merchant then has its waiting
 * cards created in the background; `user_get_card`, `user_gifting_card`, `user_del_card`,
 * `user_consume_card` are applied to the code's facts and settle the matching grant;
 * `user_pay_from_pay_cell`, `update_member_card`, `user_view_card`, `user_enter_session_from_card` are
 * counted in the card's activity (`card-activity.ts`: quick-pay payments, member updates, views, sessions);
 * `card_sku_remind` raises an operator alert; others are ignored.
 *
 * @example const r = await handleCardEventIn(ctx, event);
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Coupons_Vouchers_and_Cards_Event_Push_Messages.html
 */
import type { CardEvent, SubmitMemberCardUserInfoEvent } from '../wechat/inbound';
import { dedupeKey } from '../wechat/inbound';
import { recordCardActivity } from './card-activity';
import { describeApiError, type CardsContext } from './card-context';
import { createWaitingCards } from './card-merchant-approval';
import type { CardSyncResult } from './card-sync';
import { codeState, grantIdOfOuterStr } from './card-tracker';
import {
  activateMember,
  activationNotice,
  activationSettingsOf,
  type ActivationResult,
  type MemberActivationDeps,
  type MemberActivationSettings,
} from './member-activation';
import { WeChatApiError } from '../api/errors';
import { createMemberCardApi } from '../api/member-card';

/** What {@link handleCardEvent} did. */
export interface CardEventResult {
  handled: boolean;
  duplicate?: boolean;
  /** What changed, for the log. */
  note: string;
  /**
   * Work the event started that runs after the webhook answers (a sub-merchant's approval creates its
   * waiting cards). Never rejects; callers don't await it — tests may.
   */
  followUp?: Promise<CardSyncResult[]>;
  /**
   * The member card's one-click activation a `submit_membercard_user_info` started; it runs after the
   * webhook answers. Never rejects; callers don't await it — tests may.
   */
  activation?: Promise<ActivationResult>;
}

async function resolveOuterStr(ctx: CardsContext, outerStr: string, at: { openId: string; cardId: string }): Promise<number | undefined> {
  const { ledger, registry } = ctx;
  const id = grantIdOfOuterStr(outerStr);
  if (id === undefined) return undefined;
  const g = await ledger.getGrant(id);
  if (!g || g.kind !== 'card' || g.openId !== at.openId) return undefined;
  const rec = await registry.getCard(String(g.payload.card ?? ''));
  return rec.cardId === at.cardId ? id : undefined;
}

async function settleReceived(ctx: CardsContext, grantId: number): Promise<void> {
  const { ledger, clock, log } = ctx;
  const g = await ledger.getGrant(grantId);
  if (!g) return;
  if (await ledger.settle(grantId, { status: 'RECEIVED', now: clock.now() })) log.info({ grant: grantId, campaign: g.campaign }, 'card grant received');
}

async function configuredActivation(ctx: CardsContext, cardId: string): Promise<MemberActivationSettings | undefined> {
  const name = await ctx.registry.nameOfCardId(cardId);
  const member = name ? ctx.config().cards[name]?.member : undefined;
  return member ? activationSettingsOf(member) : undefined;
}

/** Sends the follower the activation's outcome as a customer-service text (a failed send is logged, never thrown). */
async function tellFollower(
  ctx: CardsContext,
  req: { cardId: string; openId: string },
  r: ActivationResult,
  settingsOf: (cardId: string) => Promise<MemberActivationSettings | undefined>,
): Promise<void> {
  try {
    if (activationNotice(r) === undefined) return;
    const text = activationNotice(r, (await settingsOf(req.cardId))?.messages);
    if (text !== undefined) await ctx.deps.api.customMessage.send(req.openId, { type: 'text', content: text });
  } catch (error) {
    ctx.log.warn({ outcome: r.outcome, reason: describeApiError(error) }, 'could not tell the follower the member card activation outcome');
  }
}

function activationDeps(ctx: CardsContext): MemberActivationDeps | undefined {
  const { members, memberActivation, api } = ctx.deps;
  if (!members) return undefined;
  const settingsOf = memberActivation ?? ((cardId: string) => configuredActivation(ctx, cardId));
  return { api: createMemberCardApi(api.card.post), members, kv: ctx.kv, clock: ctx.clock, log: ctx.log, settingsOf };
}

/** The query of the jump-style activation page (跳转型一键激活) WeChat sends the follower to after the form. */
export interface JumpActivationRequest {
  cardId: string;
  encryptCode: string;
  openId: string;
  activateTicket: string;
}

/** What {@link activateFromJump} did: an activation outcome, or the link's code/owner did not check out. */
export type JumpActivationResult = ActivationResult | { outcome: 'invalid-link' };

/**
 * The jump-style activation: decrypts `encrypt_code` (`card/code/decrypt`), checks with `card/code/get`
 * that the code is of `card_id` and held by `openid` (the query is the follower's browser's: never
 * believed), then {@link activateMember} with the ticket (`membercard/activatetempinfo/get`) — under
 * the same per-code lock as the event, so a reload (or the event as well) never activates twice.
 * Never throws: WeChat refusing the code is `invalid-link`, anything else `failed`.
 *
 * @example await activateFromJump(ctx, { cardId, encryptCode, openId, activateTicket })
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Membership_Cards/Create_a_membership_card.html
 */
export async function activateFromJump(ctx: CardsContext, req: JumpActivationRequest): Promise<JumpActivationResult> {
  const deps = activationDeps(ctx);
  if (!deps) return { outcome: 'not-a-member-card' };
  let code: string;
  try {
    code = await ctx.deps.api.card.codeDecrypt(req.encryptCode);
    const info = code === '' ? undefined : await ctx.deps.api.card.codeGet(code, { cardId: req.cardId });
    if (!info || info.cardId !== req.cardId || info.openId !== req.openId) return { outcome: 'invalid-link' };
  } catch (error) {
    if (error instanceof WeChatApiError) return { outcome: 'invalid-link' };
    return { outcome: 'failed', reason: describeApiError(error) };
  }
  return activateMember(deps, { cardId: req.cardId, code, openId: req.openId, activateTicket: req.activateTicket });
}

function startActivation(ctx: CardsContext, event: SubmitMemberCardUserInfoEvent): CardEventResult {
  const deps = activationDeps(ctx);
  if (!deps) return { handled: false, note: 'member cards are not set up (no member store)' };
  const { settingsOf } = deps;
  const req = { cardId: event.CardId, code: event.UserCardCode, openId: event.FromUserName };
  // After the webhook has answered (never inside WeChat's 5 s): started on the next turn of the loop.
  const activation = new Promise<void>((resolve) => setImmediate(resolve))
    .then(() => activateMember(deps, req))
    .then(async (r) => {
      await tellFollower(ctx, req, r, settingsOf);
      return r;
    });
  return { handled: true, note: `activation of ${event.UserCardCode} started`, activation };
}

/**
 * Applies one card event (duplicates and any order are safe).
 *
 * @example await applyCardEvent(ctx, event)
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Coupons_Vouchers_and_Cards_Event_Push_Messages.html
 */
export async function applyCardEvent(ctx: CardsContext, event: CardEvent): Promise<CardEventResult> {
  const { log, registry, tracker } = ctx;
  switch (event.Event) {
    case 'card_pass_check':
    case 'card_not_pass_check': {
      const name = await registry.nameOfCardId(event.CardId);
      if (!name) return { handled: false, note: `review result for unknown card ${event.CardId}` };
      const pass = event.Event === 'card_pass_check';
      await registry.updateCard(name, (r) => ({
        ...r,
        status: pass ? 'CARD_STATUS_VERIFY_OK' : 'CARD_STATUS_VERIFY_FAIL',
        refuseReason: pass ? undefined : event.RefuseReason || 'no reason given',
      }));
      log.info({ card: name, pass, reason: event.RefuseReason }, 'card review result');
      return { handled: true, note: `card ${name} ${pass ? 'approved' : `rejected: ${event.RefuseReason ?? ''}`}` };
    }
    case 'card_merchant_check_result': {
      const id = Number(event.MerchantId);
      const name = await registry.nameOfMerchantId(id);
      if (!name) return { handled: false, note: `review result for unknown sub-merchant ${event.MerchantId}` };
      const pass = event.IsPass === '1';
      const reason = event.Reason || 'no reason given';
      await registry.updateSubMerchant(name, (r) => ({ ...r, merchantId: id, status: pass ? 'APPROVED' : 'REJECTED', reason: pass ? undefined : reason }));
      if (!pass) {
        log.warn(
          { submerchant: name, merchantId: id, reason },
          `sub-merchant ${name} rejected by WeChat: ${reason} — fix submerchants.yaml, then "submerchant update ${name}"`,
        );
        return { handled: true, note: `sub-merchant ${name} rejected: ${event.Reason ?? ''}` };
      }
      log.info({ submerchant: name, merchantId: id }, 'sub-merchant approved');
      // Its waiting cards are created after the webhook has answered (never inside WeChat's 5 s).
      return { handled: true, note: `sub-merchant ${name} approved`, followUp: createWaitingCards(ctx, name) };
    }
    case 'user_get_card':
    case 'user_gifting_card':
    case 'user_del_card':
    case 'user_consume_card': {
      const r = await tracker.apply(event, dedupeKey(event), (outerStr, at) => resolveOuterStr(ctx, outerStr, at));
      if (r.duplicate) return { handled: true, duplicate: true, note: `${event.Event} ${event.UserCardCode} already applied` };
      if (r.record.grantId !== undefined) await settleReceived(ctx, r.record.grantId);
      return { handled: true, note: `${event.Event} ${event.UserCardCode}: ${codeState(r.record)}${r.linkedGrantId !== undefined ? ` (grant ${r.linkedGrantId})` : ''}` };
    }
    case 'user_pay_from_pay_cell':
    case 'update_member_card':
    case 'user_view_card':
    case 'user_enter_session_from_card': {
      const r = await recordCardActivity(ctx.kv, event, dedupeKey(event));
      if (r.duplicate) return { handled: true, duplicate: true, note: `${event.Event} ${event.UserCardCode} already counted` };
      return { handled: true, note: `${event.Event} ${event.UserCardCode} counted for ${event.CardId}` };
    }
    case 'submit_membercard_user_info':
      return startActivation(ctx, event);
    case 'card_sku_remind':
      log.warn({ alert: true, cardId: event.CardId, detail: event.Detail }, 'OPERATOR ALERT: card stock is running low (card_sku_remind)');
      return { handled: true, note: `stock low for ${event.CardId}` };
    default:
      return { handled: false, note: `${event.Event} is not tracked` };
  }
}

/**
 * {@link applyCardEvent}, and a gift is remembered (old code → the friend's code) so the report can
 * follow it.
 *
 * @example await handleCardEventIn(ctx, event)
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Coupons_Vouchers_and_Cards_Event_Push_Messages.html
 */
export async function handleCardEventIn(ctx: CardsContext, event: CardEvent): Promise<CardEventResult> {
  const r = await applyCardEvent(ctx, event);
  if (event.Event === 'user_get_card' && event.IsGiveByFriend === '1' && event.OldUserCardCode)
    await ctx.kv.set(`cards:gift:${event.CardId}:${event.OldUserCardCode}`, event.UserCardCode);
  return r;
}
