/**
 * The cards page's figures: per card of cards.yaml its card_id, review state and sub-merchant (as
 * `wechat-bot cards list`), the `wechat-bot cards report` counts (issued, received, gifted, redeemed,
 * deleted, pending, failed, and WeChat's own statistics; for a member card its members and points
 * granted, and its quick-pay / member-update / view / session activity, from the same `cardReport`), and each sub-merchant's review state as the
 * bot last heard it (an event or `submerchant status`). No card code is ever part of it: the page
 * shows counts, never codes.
 *
 * @example await cardsView({ cards, config: () => cardsConfigOf(holder.current().files) })
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Managing_Coupons_Vouchers_and_Cards.html
 */
import type { CardReportRow, Cards, CardsConfig } from '../cards/cards';

export interface CardRowView {
  name: string;
  type?: string;
  cardId?: string;
  status: string;
  refuseReason?: string;
  subMerchant?: string;
  subMerchantStatus?: string;
  report?: Omit<CardReportRow, 'name' | 'cardId' | 'status'>;
}

export interface SubMerchantRowView {
  name: string;
  merchantId?: number;
  status: string;
  reason?: string;
  /** Epoch ms the state was last recorded (0: never). */
  updatedAt: number;
}

export interface CardsView {
  cards: CardRowView[];
  submerchants: SubMerchantRowView[];
}

/**
 * Reads the card service (the report asks WeChat for its statistics of the last 30 days, like the CLI).
 *
 * @example (await cardsView(deps)).cards[0]?.report?.issued // 3
 */
export async function cardsView(deps: { cards: Pick<Cards, 'list' | 'report' | 'registry'>; config: () => Pick<CardsConfig, 'submerchants'> }): Promise<CardsView> {
  const [list, report] = await Promise.all([deps.cards.list(), deps.cards.report()]);
  const byName = new Map(report.map((r) => [r.name, r]));
  const cards = list.map((c): CardRowView => {
    const r = byName.get(c.name);
    return {
      name: c.name,
      ...(c.type ? { type: c.type } : {}),
      ...(c.cardId ? { cardId: c.cardId } : {}),
      status: c.status,
      ...(c.refuseReason ? { refuseReason: c.refuseReason } : {}),
      ...(c.subMerchant ? { subMerchant: c.subMerchant } : {}),
      ...(c.subMerchantStatus ? { subMerchantStatus: c.subMerchantStatus } : {}),
      ...(r
        ? {
            report: {
              issued: r.issued,
              received: r.received,
              gifted: r.gifted,
              redeemed: r.redeemed,
              deleted: r.deleted,
              pending: r.pending,
              failed: r.failed,
              ...(r.wechat ? { wechat: r.wechat } : {}),
              ...(r.member ? { member: r.member } : {}),
              ...(r.activity ? { activity: r.activity } : {}),
            },
          }
        : {}),
    };
  });
  const submerchants: SubMerchantRowView[] = [];
  for (const name of Object.keys(deps.config().submerchants)) {
    const s = await deps.cards.registry.getSubMerchant(name);
    submerchants.push({
      name,
      ...(s.merchantId !== undefined ? { merchantId: s.merchantId } : {}),
      status: s.status,
      ...(s.reason ? { reason: s.reason } : {}),
      updatedAt: s.updatedAt,
    });
  }
  return { cards, submerchants };
}
