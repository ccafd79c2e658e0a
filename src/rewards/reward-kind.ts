/**
 * The reward-kind registry: what one kind of reward (a red packet, a card coupon, member-card points
 * next) brings to the rewards core. The core (`createRewards`, the outbox worker) knows no kind by
 * name: it looks the campaign's `kind` up here and lets the kind
 *
 * - **describe** its campaigns (`campaignSchema`, one member of `campaigns.yaml`'s union on `kind`);
 * - **plan** a grant at record time (pure: amount, payload, reservations, refusal, due time);
 * - **send** a recorded grant from the outbox ({@link GrantSender}, registered with the worker's
 *   `senders`, because sending needs the kind's clients);
 * - **reconcile** sent grants with WeChat (the kind's own job: `rewards/reconcile.ts` for red
 *   packets, `Cards.reconcile` for coupons).
 *
 * A kind is registered by its own folder (red packets in `rewards/red-packet-kind.ts`, cards in
 * `cards/card-reward-kind.ts`) and the list is composed in `config/reward-kinds.ts`, so the arrow runs
 * from the kind to the rewards core, never back.
 *
 * @example
 * const rewards = createRewards({ ledger, config, clock, mchId, log, kinds: REWARD_KINDS });
 * const worker = createOutboxWorker({ ledger, redpack, …, senders: { card: (g, ctx) => cards.sendGrant(g, ctx) } });
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import type { z } from 'zod';
import type { LedgerGrant, RecordGrantInput } from './ledger';
import type { LimitRefusal } from './limits';
import type { KindCampaign, Limits } from './config-schema';

export type { KindCampaign };

/** What a kind's {@link RewardKind.plan} is given. */
export interface PlanInput<C extends KindCampaign> {
  campaign: C;
  openId: string;
  /** The request's explicit amount (batch issuance), when it has one. */
  amountFen?: number;
  limits: Limits;
  /** Epoch ms of the request. */
  now: number;
  /** WECHAT_MCH_ID (red-packet bill numbers start with it). */
  mchId: string;
  /** Uniform in [0, 1) (random amounts). */
  random: () => number;
}

/** The kind's part of a `RecordGrantInput`; a `refusal` records the grant as refused. */
export type KindPlan = Pick<RecordGrantInput, 'billNoPrefix' | 'amountFen' | 'payload' | 'dueAt' | 'deferred' | 'reservations' | 'note'> & {
  refusal?: LimitRefusal;
};

/** The zod schema of one kind's campaign entry: an object keyed by `kind: z.literal(…)`. */
export type KindCampaignSchema<C extends KindCampaign = KindCampaign> = z.ZodType<Omit<C, 'name'>, unknown> & z.core.$ZodTypeDiscriminable;

/**
 * One reward kind, as the rewards core sees it when a grant is recorded.
 *
 * @example export const cardRewardKind: RewardKind<CardCampaign> = { kind: 'card', campaignSchema: cardCampaignSchema, plan: … };
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Distributing_Coupons_Vouchers_and_Cards.html
 */
export interface RewardKind<C extends KindCampaign = KindCampaign> {
  /** The campaign's `kind` in campaigns.yaml, also stored on the grant row. */
  readonly kind: string;
  readonly campaignSchema: KindCampaignSchema<C>;
  /** Everything decided before the ledger's transaction (pure: no I/O). */
  plan(input: PlanInput<C>): KindPlan;
}

/** Any kind, whatever its campaign type: what a registry holds. */
export interface AnyRewardKind {
  readonly kind: string;
  readonly campaignSchema: z.core.$ZodTypeDiscriminable;
  plan(input: PlanInput<never>): KindPlan;
}

/** What a sender did with one grant (the worker counts these per pass). */
export type SendStep = 'sent' | 'failed' | 'retried' | 'settled' | 'rate' | 'skipped' | 'held';

/** What the sends of one outbox pass share, whatever their kind. */
export interface PassState {
  /** false, or how long (ms) until the full rate window ends. */
  rateLimited: false | number;
  /** false, or how long (ms) until the Beijing day ends: `send_rate_per_day` is used up. */
  dayFull: false | number;
  /** Campaigns paused during this pass. */
  paused: Set<string>;
}

/** What a sender is given beside the grant. */
export interface SendContext {
  /** The worker's lease owner id (the grant is leased to it). */
  owner: string;
  /** The pass this send belongs to (absent when a sender is called outside a pass). */
  pass?: PassState;
}

/**
 * Sends one leased grant of its kind and settles or reschedules it in the ledger.
 *
 * @example const send: GrantSender = (g, ctx) => cards.sendGrant(g, ctx);
 */
export type GrantSender = (grant: LedgerGrant, ctx: SendContext) => Promise<SendStep>;

/**
 * The kinds by name; a later kind of the same name replaces an earlier one.
 *
 * @example const byKind = kindsByName([redPacketRewardKind, cardRewardKind]); byKind.get('card')
 */
export function kindsByName(kinds: readonly AnyRewardKind[]): ReadonlyMap<string, RewardKind> {
  const map = new Map<string, RewardKind>();
  for (const k of kinds) {
    if (!k || typeof k.kind !== 'string' || typeof k.plan !== 'function') throw new TypeError('reward kinds must have a kind name and a plan()');
    map.set(k.kind, k as unknown as RewardKind);
  }
  return map;
}
