/**
 * The card events the API sandbox pushes to the bot's webhook, as WeChat pushes them: signed plain-mode
 * POSTs, or in safe mode the encrypted envelope with `encrypt_type=aes` and `msg_signature`; each with a
 * CreateTime that never repeats (WeChat's dedupe key). Every event is kept in `state.cards.emitted`
 * with the webhook's answer. Also the per-day counters `datacube/getcardcardinfo` reports.
 *
 * @example await emit(state, state.cards.accountId, 'card_pass_check', { CardId: cardId, RefuseReason: '' });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Coupons_Vouchers_and_Cards_Event_Push_Messages.html
 */
import { randomBytes } from 'node:crypto';
import { shanghaiParts } from '../lib/clock';
import { computeSignature } from '../wechat/signature';
import { buildXml } from '../wechat/xml';
import { nowS } from './api-card-rules';
import type { EmittedEvent, SandboxCard, SandboxMerchant } from './api-card-state';
import type { ApiState } from './api-state';

/** A CreateTime that never repeats within this sandbox (WeChat's dedupe uses it). */
export function createTime(state: ApiState): number {
  state.cards.lastCreateTime = Math.max(nowS(state), state.cards.lastCreateTime + 1);
  return state.cards.lastCreateTime;
}

export async function post(state: ApiState, ev: EmittedEvent): Promise<EmittedEvent> {
  const webhook = state.cards.webhook;
  if (!webhook) return ev;
  const timestamp = String(nowS(state));
  const nonce = randomBytes(6).toString('hex');
  const signature = computeSignature(webhook.token, timestamp, nonce);
  const sep = webhook.url.includes('?') ? '&' : '?';
  let query = `signature=${signature}&timestamp=${timestamp}&nonce=${nonce}`;
  let body = ev.xml;
  if (webhook.crypto) {
    const encrypt = webhook.crypto.encrypt(ev.xml);
    query += `&encrypt_type=aes&msg_signature=${computeSignature(webhook.token, timestamp, nonce, encrypt)}`;
    body = buildXml({ ToUserName: state.cards.accountId, Encrypt: encrypt });
  }
  try {
    const res = await fetch(`${webhook.url}${sep}${query}`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/xml; charset=utf-8' },
      body,
    });
    ev.status = res.status;
    ev.body = await res.text();
  } catch {
    ev.status = undefined;
  }
  return ev;
}

export async function emit(state: ApiState, openId: string, event: string, fields: Record<string, string | number | undefined>): Promise<EmittedEvent> {
  const all: Record<string, string | number | undefined> = {
    ToUserName: state.cards.accountId,
    FromUserName: openId,
    CreateTime: createTime(state),
    MsgType: 'event',
    Event: event,
    ...fields,
  };
  const clean = Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as Record<string, string | number>;
  const ev: EmittedEvent = { fields: clean, xml: buildXml(clean) };
  state.cards.emitted.push(ev);
  return post(state, ev);
}

/**
 * WeChat's verdict on a card in review: approved (no `refused` reason) or refused, pushed as
 * card_pass_check / card_not_pass_check.
 *
 * @example await reviewCard(state, card, '券面信息不清晰');
 */
export function reviewCard(state: ApiState, card: SandboxCard, refused?: string): Promise<EmittedEvent> {
  card.status = refused === undefined ? 'CARD_STATUS_VERIFY_OK' : 'CARD_STATUS_VERIFY_FAIL';
  card.reason = refused;
  return emit(state, state.cards.accountId, refused === undefined ? 'card_pass_check' : 'card_not_pass_check', { CardId: card.cardId, RefuseReason: refused ?? '' });
}

/**
 * WeChat's verdict on a sub-merchant in review: approved (no `refused` reason) or rejected, pushed as
 * card_merchant_check_result.
 *
 * @example await reviewMerchant(state, merchant);
 */
export function reviewMerchant(state: ApiState, merchant: SandboxMerchant, refused?: string): Promise<EmittedEvent> {
  merchant.status = refused === undefined ? 'APPROVED' : 'REJECTED';
  merchant.reason = refused;
  return emit(state, state.cards.accountId, 'card_merchant_check_result', {
    MerchantId: merchant.merchantId,
    IsPass: refused === undefined ? 1 : 0,
    Reason: refused ?? '',
  });
}

export function bump(state: ApiState, cardId: string, what: 'receive' | 'verify' | 'given', openId: string): void {
  const key = `${cardId}|${shanghaiParts(state.config.clock.now()).isoDate}`;
  const s = state.cards.stats.get(key) ?? { receive: 0, receiveUsers: new Set(), verify: 0, verifyUsers: new Set(), given: 0, givenUsers: new Set() };
  s[what] += 1;
  s[`${what}Users`].add(openId);
  state.cards.stats.set(key, s);
}
