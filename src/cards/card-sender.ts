/**
 * Card job "sender": the outbox worker's sender for `kind: card` grants (a `GrantSender` of the
 * reward-kind registry), and the landing-page / QR link of a link-delivered grant.
 *
 * @example senders: { card: (g, send) => sendCardGrant(ctx, g, send) }
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Distributing_Coupons_Vouchers_and_Cards.html
 */
import { WeChatApiError, WeChatHttpError } from '../api/errors';
import type { LedgerGrant, ReservationKind } from '../rewards/ledger';
import type { SendContext } from '../rewards/reward-kind';
import type { CardDelivery } from './card-campaign-schema';
import { CardsError, describeApiError, type CardsContext } from './card-context';
import { outerStrOf } from './card-tracker';

/** The outcome of a sender step, as the outbox worker counts it. */
export type SendStep = 'sent' | 'failed' | 'retried' | 'skipped';

const RELEASE_ALL: ReservationKind[] = ['budget', 'per_user', 'follower_daily', 'merchant_daily'];
/** WeChat errcodes that mean "this send did not and will not happen". */
const DEFINITE_SEND_FAILURES = new Map<number, string>([
  [40003, 'the openid is not a follower of this account'],
  [43004, 'the follower has unfollowed'],
  [45015, 'the follower has not interacted in the last 48 hours'],
  [40073, 'WeChat does not know the card'],
  [40078, 'the card is not approved (or was deleted)'],
  [45031, 'the card is out of stock'],
  [45033, 'the follower holds as many of this card as get_limit allows'],
]);

/**
 * Delivers one card grant (called by the outbox worker for `kind: card`).
 *
 * Never twice for one grant:
 * 1. The grant is put on the follower's "awaiting" list for the card BEFORE the send, and
 *    `markSending` records the attempt in the ledger before the call. So whatever happens next —
 *    crash, timeout, lost answer — the grant is SENDING and any `user_get_card` for that follower
 *    and card settles it as RECEIVED.
 * 2. A send WeChat answered is final: ok → SENT; an errcode → not delivered (FAILED with the reason
 *    and limits released for definite refusals, else retried later).
 * 3. A send whose outcome is unknown (timeout, reset, 5xx) is NOT repeated blindly. Next time the
 *    worker finds the grant SENDING: if the follower already received it (event linked) → RECEIVED;
 *    if `card/user/getcardlist` shows the follower holds more codes of the card than the grants
 *    already matched to them → it landed (SENT; the event will link it); otherwise it is resent only
 *    when the card's `get_limit` is at most the campaign's `per_user` — then WeChat itself refuses a
 *    card beyond what this follower is entitled to, so a duplicate message cannot turn into an extra
 *    card. Without such a `get_limit` the grant is settled FAILED ("outcome unknown, not resent")
 *    without releasing its limits, for an operator to look at.
 */
export async function sendCardGrant(ctx: CardsContext, g: LedgerGrant, send: SendContext): Promise<SendStep> {
  const { ledger, config, clock, log, registry, tracker } = ctx;
  const now = () => clock.now();
  const retry = async (reason: string, delayMs: number): Promise<SendStep> => {
    await ledger.reschedule(g.id, { owner: send.owner, dueAt: now() + delayMs, now: now(), lastError: reason });
    return 'retried';
  };
  const fail = async (reason: string, release: ReservationKind[] = RELEASE_ALL): Promise<SendStep> => {
    await ledger.settle(g.id, { status: 'FAILED', now: now(), reason, release });
    log.warn({ grant: g.id, campaign: g.campaign, reason }, 'card grant failed');
    return 'failed';
  };
  const cardName = String(g.payload.card ?? '');
  const delivery = (g.payload.delivery ?? 'wxcard') as CardDelivery;
  const def = config().cards[cardName];
  if (!def) return retry(`card "${cardName}" is not in cards.yaml`, 60_000);
  const rec = await registry.getCard(cardName);
  if (!rec.cardId) return retry(`card "${cardName}" is not created yet: run "cards sync"`, 60_000);
  if (rec.status === 'CARD_STATUS_VERIFY_FAIL') return retry(`card "${cardName}" was rejected by WeChat${rec.refuseReason ? `: ${rec.refuseReason}` : ''}`, 5 * 60_000);
  if (rec.status !== 'CARD_STATUS_VERIFY_OK') return retry(`card "${cardName}" is waiting for WeChat's review`, 60_000);
  const cardId = rec.cardId;
  const api = ctx.apiOf(def);

  if (g.status === 'SENDING') {
    const link = await tracker.grantLink(g.id);
    if (link?.code) {
      await ledger.settle(g.id, { status: 'RECEIVED', now: now() });
      return 'sent';
    }
    if (delivery === 'wxcard') {
      let held: number;
      try {
        held = (await api.card.userCardList(g.openId, cardId)).length;
      } catch (err) {
        return retry(`uncertain send; card/user/getcardlist failed: ${describeApiError(err)}`, 30_000);
      }
      const awaiting = await tracker.awaiting(g.openId, cardId);
      const matched = (await ledger.listAll({ campaign: g.campaign })).filter((x) => x.openId === g.openId && x.id !== g.id && x.status === 'RECEIVED').length;
      if (held > matched) {
        await ledger.settle(g.id, { status: 'SENT', now: now() });
        log.info({ grant: g.id, held, matched }, 'uncertain wxcard send confirmed: the follower holds the card');
        return 'sent';
      }
      const camp = ctx.cardCampaign(g.campaign);
      const safe = def.getLimit !== undefined && camp !== undefined && def.getLimit <= camp.perUser;
      if (!safe) {
        return fail(
          `the wxcard send's outcome is unknown and resending could give a second card (set base_info.get_limit ≤ per_user to allow a safe resend); awaiting=${awaiting.length}`,
          [],
        );
      }
      log.warn({ grant: g.id }, 'uncertain wxcard send not received; resending (get_limit bounds any duplicate)');
    }
  }

  await tracker.await(g.openId, cardId, g.id);
  if (!(await ledger.markSending(g.id, { owner: send.owner, now: now() }))) return 'skipped';
  try {
    if (delivery === 'wxcard') {
      await api.customMessage.wxcard(g.openId, cardId);
    } else {
      const url = await linkFor(ctx, g);
      await api.customMessage.send(g.openId, {
        type: 'news',
        article: { title: String(def.baseInfo.title ?? cardName), description: String(def.baseInfo.notice ?? ''), url, picUrl: String(def.baseInfo.logo_url ?? '') },
      });
    }
  } catch (err) {
    if (err instanceof WeChatApiError) {
      const definite = DEFINITE_SEND_FAILURES.get(err.errcode);
      if (definite) {
        await tracker.unawait(g.openId, cardId, g.id);
        return fail(`${err.errcode}: ${definite}`);
      }
      // WeChat answered with an error: nothing was delivered; try again later.
      return retry(`${err.errcode} ${err.errmsg}`, 30_000 * Math.min(10, g.attempts + 1));
    }
    if (err instanceof WeChatHttpError) return retry(`outcome unknown: ${err.message}`, 10_000 * Math.min(10, g.attempts + 1));
    if (err instanceof CardsError) return retry(err.message, 60_000);
    throw err;
  }
  await ledger.settle(g.id, { status: 'SENT', now: now() });
  log.info({ grant: g.id, campaign: g.campaign, card: cardName, delivery }, 'card grant sent');
  return 'sent';
}

/**
 * The landing-page / QR link of a link-delivered grant, made once and remembered.
 *
 * @example const url = await linkFor(ctx, grant);
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Distributing_Coupons_Vouchers_and_Cards.html
 */
export async function linkFor(ctx: CardsContext, g: LedgerGrant): Promise<string> {
  const { registry, tracker } = ctx;
  const cardName = String(g.payload.card ?? '');
  const delivery = (g.payload.delivery ?? 'wxcard') as CardDelivery;
  const have = await tracker.grantLink(g.id);
  if (have?.link) return have.link.url;
  const def = ctx.definition(cardName);
  const rec = await registry.getCard(cardName);
  if (!rec.cardId || rec.status !== 'CARD_STATUS_VERIFY_OK') throw new CardsError(`card "${cardName}" is not approved yet`);
  const api = ctx.apiOf(def).card;
  const outerStr = outerStrOf(g.id);
  let link: { kind: 'landing_page' | 'qrcode'; url: string; ticket?: string };
  if (delivery === 'qrcode') {
    const qr = await api.createQrCode({
      cardId: rec.cardId,
      outerStr,
      expireSeconds: Number(g.payload.qrcodeExpireSeconds ?? 1800),
      ...(def.baseInfo.bind_openid ? { openId: g.openId } : {}),
    });
    link = { kind: 'qrcode', url: qr.showQrcodeUrl || qr.url, ticket: qr.ticket };
  } else {
    let page = rec.landingPage;
    if (!page) {
      page = await api.createLandingPage({
        banner: def.landingBanner ?? String(def.baseInfo.logo_url),
        title: String(def.baseInfo.title),
        canShare: false,
        scene: 'SCENE_MENU',
        cards: [{ cardId: rec.cardId, thumbUrl: String(def.baseInfo.logo_url) }],
      });
      const made = page;
      await registry.updateCard(cardName, (r) => ({ ...r, landingPage: r.landingPage ?? made }));
    }
    // [unverified] WeChat documents outer_str for QR codes; on a landing page we pass it as a query
    // parameter and, should it not come back, the grant is matched by follower and card instead.
    link = { kind: 'landing_page', url: `${page.url}${page.url.includes('?') ? '&' : '?'}outer_str=${encodeURIComponent(outerStr)}` };
  }
  const saved = await tracker.setGrantLink(g.id, (l) => ({ ...l, cardId: rec.cardId, link: l.link ?? link }));
  return saved.link!.url;
}
