/**
 * Card job "consume": checks a code (`card/code/get`: exists, belongs to the card, not used, within
 * dates; `card/code/decrypt` first for encrypted codes) and redeems it (`card/code/consume`).
 *
 * @example const r = await consumeCode(ctx, '110201201245', { card: 'coffee-cash' });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Redeeming_a_coupon_voucher_or_card.html
 */
import { WeChatApiError } from '../api/errors';
import { shanghaiParts } from '../lib/clock';
import { CardsError, describeApiError, type CardsContext } from './card-context';

/** The outcome of `consume`. */
export type ConsumeResult =
  | { ok: true; code: string; cardId: string; cardName?: string; openId: string }
  | { ok: false; code: string; reason: 'not_found' | 'wrong_card' | 'already_used' | 'not_yet_valid' | 'expired' | 'unavailable' | 'error'; message: string };

/**
 * Checks and redeems one code.
 *
 * @example await consumeCode(ctx, code, { encrypted: true })
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Redeeming_a_coupon_voucher_or_card.html
 */
export async function consumeCode(ctx: CardsContext, codeIn: string, opts: { card?: string; encrypted?: boolean } = {}): Promise<ConsumeResult> {
  const { clock, log, registry } = ctx;
  const def = opts.card ? ctx.definition(opts.card) : undefined;
  const api = ctx.apiOf(def).card;
  let expectCardId: string | undefined;
  if (def) {
    const rec = await registry.getCard(def.name);
    if (!rec.cardId) throw new CardsError(`card "${def.name}" has not been created on WeChat yet (cards sync)`);
    expectCardId = rec.cardId;
  }
  let code = codeIn.trim();
  const encrypted = opts.encrypted ?? !/^[0-9A-Za-z]{1,32}$/.test(code);
  try {
    if (encrypted) code = await api.codeDecrypt(code);
  } catch (err) {
    return { ok: false, code: codeIn, reason: 'not_found', message: `the encrypted code could not be decrypted: ${describeApiError(err)}` };
  }
  let info;
  try {
    info = await api.codeGet(code, { checkConsume: true, ...(def?.baseInfo.use_custom_code ? { cardId: expectCardId } : {}) });
  } catch (err) {
    if (err instanceof WeChatApiError) {
      if (err.errcode === 40099) return { ok: false, code, reason: 'already_used', message: `code ${code} has already been redeemed` };
      if (err.errcode === 40127) return { ok: false, code, reason: 'unavailable', message: `code ${code} was deleted or is being gifted by its holder` };
      if (err.errcode === 40056 || err.errcode === 40116)
        return {
          ok: false,
          code,
          reason: expectCardId ? 'wrong_card' : 'not_found',
          message: `code ${code} does not exist${expectCardId ? ` for card ${opts.card}` : ''}`,
        };
    }
    return { ok: false, code, reason: 'error', message: `card/code/get failed: ${describeApiError(err)}` };
  }
  if (expectCardId && info.cardId !== expectCardId) {
    const other = await registry.nameOfCardId(info.cardId);
    return {
      ok: false,
      code,
      reason: 'wrong_card',
      message: `code ${code} belongs to ${other ? `card ${other}` : `another card (${info.cardId})`}, not to ${opts.card}`,
    };
  }
  const nowS = Math.floor(clock.now() / 1000);
  if (info.userCardStatus === 'CONSUMED') return { ok: false, code, reason: 'already_used', message: `code ${code} has already been redeemed` };
  if (info.beginTime && nowS < info.beginTime)
    return { ok: false, code, reason: 'not_yet_valid', message: `code ${code} is valid from ${shanghaiParts(info.beginTime * 1000).isoDate}` };
  if ((info.endTime && nowS > info.endTime) || info.userCardStatus === 'EXPIRE')
    return { ok: false, code, reason: 'expired', message: `code ${code} expired on ${shanghaiParts(info.endTime * 1000).isoDate}` };
  if (!info.canConsume) return { ok: false, code, reason: 'unavailable', message: `code ${code} cannot be redeemed now (status ${info.userCardStatus || 'unknown'})` };
  try {
    const done = await api.codeConsume(code, def?.baseInfo.use_custom_code ? info.cardId : undefined);
    const cardName = await registry.nameOfCardId(info.cardId);
    log.info({ cardId: info.cardId, card: cardName }, 'code redeemed');
    return { ok: true, code, cardId: done.cardId || info.cardId, ...(cardName ? { cardName } : {}), openId: done.openId || info.openId };
  } catch (err) {
    if (err instanceof WeChatApiError && err.errcode === 40099) return { ok: false, code, reason: 'already_used', message: `code ${code} has already been redeemed` };
    return { ok: false, code, reason: 'error', message: `card/code/consume failed: ${describeApiError(err)}` };
  }
}
