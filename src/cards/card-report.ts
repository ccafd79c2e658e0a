/**
 * Card job "report": per card, issued / received / gifted / redeemed / deleted from the ledger and the
 * code facts, and WeChat's own statistics (`datacube/getcardcardinfo`). A member card (issue 17) also
 * gets its member figures: members (activated / not) from the member store, and the points grants of
 * its `kind: points` campaigns and operators' `cards points add|set` (sent / open / failed). Any card
 * with activity events gets its `activity`: quick-pay payments, member updates, views and sessions
 * (`card-activity.ts`).
 *
 * @example const rows = await cardReport(ctx, { beginDate: '2026-03-01', endDate: '2026-03-31' });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Managing_Coupons_Vouchers_and_Cards.html
 */
import type { CardStatsRow } from '../api/card';
import { cardActivity, type CardActivityFigures } from './card-activity';
import { shanghaiParts } from '../lib/clock';
import { isCardCampaign } from './card-campaign-schema';
import { OPEN_STATUSES, type GrantStatus } from '../rewards/ledger';
import type { CardsContext } from './card-context';
import type { CardRecord } from './card-registry';
import type { CodeRecord, CodeState } from './card-tracker';
import { isPointsCampaign } from './points-campaign-schema';
import { pointsChange } from './points-sender';

/** Points grants of one state: how many, and the points their `add`s carry (an operator's `set` counts as a grant only). */
export interface PointsFigure {
  grants: number;
  points: number;
}

/** The member figures of a member card (`type: MEMBER_CARD`). */
export interface MemberFigures {
  /** Members in the member store (absent when the service has no member store). */
  members?: { activated: number; notActivated: number };
  /** Points grants: sent (SENT/RECEIVED), open (still in the outbox), failed (FAILED/REFUSED). */
  points: { sent: PointsFigure; open: PointsFigure; failed: PointsFigure };
}

/** One line of `report`. */
export interface CardReportRow {
  name: string;
  cardId?: string;
  status: CardRecord['status'];
  /** From the ledger: card grants delivered (SENT or RECEIVED). */
  issued: number;
  /** Grants whose code reached the follower. */
  received: number;
  gifted: number;
  redeemed: number;
  deleted: number;
  /** Grants still in the outbox, and failed/refused ones. */
  pending: number;
  failed: number;
  /** WeChat's statistics for the period (absent when the API gave none). */
  wechat?: { receive: number; verify: number; given: number };
  /** Member cards only: members and points granted. */
  member?: MemberFigures;
  /** Quick-pay payments (fen), member updates, views and sessions from the card (absent until one came in). */
  activity?: CardActivityFigures;
}

/**
 * The report, one row per card of cards.yaml (default period: the last 30 days, Beijing time).
 *
 * @example await cardReport(ctx)
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Managing_Coupons_Vouchers_and_Cards.html
 */
export async function cardReport(ctx: CardsContext, opts: { beginDate?: string; endDate?: string } = {}): Promise<CardReportRow[]> {
  const { ledger, config, clock, log, registry, tracker } = ctx;
  const cfg = config();
  const rows: CardReportRow[] = [];
  const today = shanghaiParts(clock.now()).isoDate;
  const beginDate = opts.beginDate ?? shanghaiParts(clock.now() - 29 * 86400_000).isoDate;
  const endDate = opts.endDate ?? today;
  for (const name of Object.keys(cfg.cards)) {
    const rec = await registry.getCard(name);
    const row: CardReportRow = { name, cardId: rec.cardId, status: rec.status, issued: 0, received: 0, gifted: 0, redeemed: 0, deleted: 0, pending: 0, failed: 0 };
    const campaigns = Object.values(cfg.campaigns).filter((c) => isCardCampaign(c) && c.card === name);
    for (const c of campaigns) {
      for (const g of await ledger.listAll({ campaign: c.name })) {
        if (g.status === 'FAILED' || g.status === 'REFUSED') {
          row.failed += 1;
          continue;
        }
        if (g.status === 'PENDING' || g.status === 'DEFERRED' || g.status === 'SENDING') row.pending += 1;
        else row.issued += 1;
        const link = await tracker.grantLink(g.id);
        if (!link?.code || !link.cardId) continue;
        const code = await tracker.getCode(link.cardId, link.code);
        if (!code) continue;
        const facts = factsOf(code);
        if (facts.received) row.received += 1;
        if (facts.gifted) row.gifted += 1;
        if (facts.redeemed) row.redeemed += 1;
        if (facts.deleted) row.deleted += 1;
        // A gifted code is followed to the friend's code (redeemed or deleted there counts too).
        if (facts.gifted) {
          const chain = await followGift(ctx, code);
          if (chain?.consumedAt !== undefined) row.redeemed += 1;
        }
      }
    }
    if (cfg.cards[name]?.type === 'MEMBER_CARD') row.member = await memberFigures(ctx, name, rec.cardId);
    const activity = rec.cardId ? await cardActivity(ctx.kv, rec.cardId) : undefined;
    if (activity) row.activity = activity;
    if (rec.cardId) {
      try {
        const stats: CardStatsRow[] = await ctx.apiOf(cfg.cards[name]).card.stats({ beginDate, endDate, cardId: rec.cardId });
        row.wechat = stats.reduce((a, s) => ({ receive: a.receive + s.receiveCount, verify: a.verify + s.verifyCount, given: a.given + s.givenCount }), {
          receive: 0,
          verify: 0,
          given: 0,
        });
      } catch (err) {
        log.debug({ err, card: name }, 'card statistics unavailable');
      }
    }
    rows.push(row);
  }
  return rows;
}

const SENT: readonly GrantStatus[] = ['SENT', 'RECEIVED'];
const FAILED: readonly GrantStatus[] = ['FAILED', 'REFUSED'];

/** Members of the card (paged through the member store) and the points grants of its campaigns and operators. */
async function memberFigures(ctx: CardsContext, name: string, cardId: string | undefined): Promise<MemberFigures> {
  const figures: MemberFigures = { points: { sent: { grants: 0, points: 0 }, open: { grants: 0, points: 0 }, failed: { grants: 0, points: 0 } } };
  const store = ctx.deps.members;
  if (store) {
    const counts = { activated: 0, notActivated: 0 };
    if (cardId)
      for (let offset = 0; ; offset += 500) {
        const page = await store.list({ cardId, limit: 500, offset });
        for (const m of page) counts[m.activatedAt !== undefined ? 'activated' : 'notActivated'] += 1;
        if (page.length < 500) break;
      }
    figures.members = counts;
  }
  const campaigns = Object.values(ctx.config().campaigns).filter((c) => isPointsCampaign(c) && c.card === name);
  for (const campaign of [...campaigns.map((c) => c.name), `@operator:${name}`])
    for (let afterId: number | undefined; ;) {
      const page = await ctx.ledger.listAll({ campaign, limit: 500, ...(afterId !== undefined ? { afterId } : {}) });
      for (const g of page) {
        if (g.kind !== 'points' || g.payload.card !== name) continue;
        const bucket = SENT.includes(g.status)
          ? 'sent'
          : OPEN_STATUSES.includes(g.status) || g.status === 'HELD'
            ? 'open'
            : FAILED.includes(g.status)
              ? 'failed'
              : undefined;
        if (!bucket) continue;
        const c = pointsChange(g);
        figures.points[bucket].grants += 1;
        if ('add' in c) figures.points[bucket].points += c.add;
      }
      if (page.length < 500) break;
      afterId = page[page.length - 1]!.id;
    }
  return figures;
}

async function followGift(ctx: CardsContext, code: CodeRecord): Promise<CodeRecord | undefined> {
  const { kv, tracker } = ctx;
  const ref = await kv.get(`cards:gift:${code.cardId}:${code.code}`);
  return ref ? tracker.getCode(code.cardId, ref) : undefined;
}

function factsOf(c: CodeRecord): Record<Exclude<CodeState, 'issued'>, boolean> {
  return {
    received: c.receivedAt !== undefined || c.consumedAt !== undefined || c.deletedAt !== undefined || c.giftedAt !== undefined,
    gifted: c.giftedAt !== undefined,
    redeemed: c.consumedAt !== undefined,
    deleted: c.deletedAt !== undefined,
  };
}
