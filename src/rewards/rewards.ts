/**
 * Granting rewards inside a webhook request: decide the amount, check the local limits, and record the
 * grant (ledger row + outbox entry + limit reservations, one transaction, keyed by
 * `(dedupeKey, ruleId)`), then answer at once. Nothing here calls WeChat Pay: the outbox worker sends.
 *
 * @example
 * const rewards = createRewards({ ledger, config: () => current, clock: systemClock, mchId, log });
 * const { outcome } = await rewards.grant({ campaign: 'welcome-packet', openId, dedupeKey, ruleId: 'follow', now: Date.now() });
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import { billNoPrefix } from './bill-no';
import type { RewardsConfig } from './config-schema';
import { firstExceeded, type GrantStatus, type LedgerWrites, type LedgerGrant, type RecordGrantInput, type Usage } from './ledger';
import { safeModeRefusal, type LimitRefusal } from './limits';
import { redPacketRewardKind } from './red-packet-kind';
import { kindsByName, type AnyRewardKind } from './reward-kind';
import type { GrantRequest, GrantResult, RewardsPort } from './rewards-port';

/** What {@link createRewards} needs. */
export interface RewardsDeps {
  ledger: LedgerWrites;
  /** The current campaigns and limits (hot-reloaded config: read on every grant). */
  config: () => RewardsConfig;
  clock: Clock;
  /** WECHAT_MCH_ID: the first part of every bill number. */
  mchId: string;
  log: Logger;
  /** Uniform in [0, 1) for random amounts (default Math.random); inject for deterministic tests. */
  random?: () => number;
  /**
   * The reward kinds campaigns may have (default: red packets only). The app passes
   * `REWARD_KINDS` (config/reward-kinds.ts); a campaign of a kind not listed is refused as `failed`.
   */
  kinds?: readonly AnyRewardKind[];
}

/** A grant's answer with the ledger's details (extra fields the rules engine may ignore). */
export interface GrantDetails extends GrantResult {
  /** The bill number fixed at record time (granted grants only). */
  billNo?: string;
  status?: GrantStatus;
  /** Set when quiet hours deferred the send: epoch ms of the earliest send. */
  deferredUntil?: number;
  /** True when this `(dedupeKey, ruleId)` had been recorded before: the first answer is repeated. */
  duplicate?: boolean;
}

/** What {@link Rewards.preview} says of one request. */
export interface PreviewResult extends GrantDetails {
  /** The grant recorded before under the same key (then `duplicate` is true). */
  recorded?: LedgerGrant;
}

/** A grant request with an explicit amount (batch issuance: the file's per-line amount). */
export interface RecordRequest extends GrantRequest {
  /** Overrides the campaign's amount (fen); still checked against the amount limits. */
  amountFen?: number;
}

/** The rewards service: the {@link RewardsPort} plus what operators and the batch sender use. */
export interface Rewards extends RewardsPort {
  grant(req: GrantRequest): Promise<GrantDetails>;
  /** `grant` with an optional explicit amount. */
  record(req: RecordRequest): Promise<GrantDetails>;
  /**
   * What `record` would answer for each request, in order, recording nothing: the same checks
   * (window, amount, quiet hours, pause, and every limit against the ledger's usage plus the earlier
   * requests of the same preview). Requests whose key was recorded before answer as recorded. A
   * dry run uses it, so it passes exactly what the real run would record as granted — unless the
   * ledger changes in between (another grant, a pause, a new day).
   */
  preview(reqs: readonly RecordRequest[]): Promise<PreviewResult[]>;
  /** Stops new grants of a campaign (they answer `campaign_over`) and holds its outbox entries. */
  pause(campaign: string, reason: string): Promise<void>;
  /** Lets a paused campaign grant and send again. Returns false when it was not paused. */
  resume(campaign: string): Promise<boolean>;
}

/** The answer a stored grant gives (the same on every retry of its key). */
export function grantDetails(g: LedgerGrant, duplicate: boolean): GrantDetails {
  const granted = g.outcome === 'granted';
  return {
    outcome: g.outcome,
    amountFen: granted ? g.amountFen : undefined,
    reason: g.reason ?? undefined,
    billNo: g.billNo ?? undefined,
    status: g.status,
    deferredUntil: granted && g.status === 'DEFERRED' && g.nextAttemptAt !== null ? g.nextAttemptAt : undefined,
    duplicate,
  };
}

const RULE_ID_MAX = 200;
const KEY_MAX = 512;

/**
 * Builds the rewards service.
 *
 * Outcomes: `granted` (recorded, PENDING or DEFERRED to the end of quiet hours), `already_claimed`
 * (once-per-follower used), `limit_reached` (follower or merchant daily limit, amount range),
 * `outside_hours` (quiet hours in refuse mode, before the campaign window or outside its daily hours),
 * `campaign_over` (budget or packets used up, campaign paused, switched off or past its end date),
 * `failed` (unknown campaign or the ledger is unreachable). Every answer except a ledger failure is
 * recorded, so a retry of the same `(dedupeKey, ruleId)` gets the same answer.
 *
 * @example const rewards = createRewards({ ledger, config, clock, mchId: '1900000109', log });
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function createRewards(deps: RewardsDeps): Rewards {
  if (!deps || typeof deps.ledger?.recordGrant !== 'function') throw new TypeError('createRewards: ledger is required');
  if (typeof deps.config !== 'function') throw new TypeError('createRewards: config must be a function returning { campaigns, limits }');
  if (typeof deps.clock?.now !== 'function') throw new TypeError('createRewards: clock must have now()');
  if (typeof deps.log?.child !== 'function') throw new TypeError('createRewards: log must be a pino logger');
  billNoPrefix(deps.mchId, 0); // validates mchId (throws BillNoError)
  const { ledger, config, clock, mchId } = deps;
  const log = deps.log.child({ module: 'rewards' });
  const random = deps.random ?? Math.random;
  const kinds = kindsByName(deps.kinds ?? [redPacketRewardKind]);

  /**
   * Everything `record` decides before the ledger's transaction: the first answer of a key seen
   * before, or the row to record (with a refusal decided by the window, amount, quiet hours or a
   * pause). The ledger then checks the reservations atomically. `preview` runs the same steps.
   */
  async function decide(req: RecordRequest, now: number): Promise<{ first: LedgerGrant } | { first?: undefined; input: RecordGrantInput }> {
    const first = await ledger.findByKey(req.dedupeKey, req.ruleId);
    if (first) return { first };

    const { campaigns, limits } = config();
    const campaign = Object.prototype.hasOwnProperty.call(campaigns, req.campaign) ? campaigns[req.campaign] : undefined;
    const base = {
      dedupeKey: req.dedupeKey,
      ruleId: req.ruleId,
      campaign: req.campaign,
      openId: req.openId,
      kind: campaign?.kind ?? 'red_packet',
      now,
      billNoPrefix: billNoPrefix(mchId, now),
    };
    const kind = campaign ? kinds.get(campaign.kind) : undefined;
    if (!campaign || !kind) {
      const refusal: LimitRefusal = {
        outcome: 'failed',
        reason: campaign
          ? `campaign ${req.campaign} is of kind ${campaign.kind}, which this service does not grant`
          : `no campaign named ${req.campaign} in campaigns.yaml`,
      };
      log.error({ campaign: req.campaign, ruleId: req.ruleId }, refusal.reason);
      return { input: { ...base, amountFen: 0, payload: {}, dueAt: now, deferred: false, reservations: [], refusal } };
    }
    // The kind plans (amount, payload, reservations, its own refusals); the core adds safe mode and pause.
    const plan = kind.plan({ campaign, openId: req.openId, amountFen: req.amountFen, limits, now, mchId, random });
    const paused = (await ledger.pausedCampaigns()).find((p) => p.campaign === campaign.name);
    const refusal: LimitRefusal | undefined =
      safeModeRefusal(campaign, req.via) ?? (paused ? { outcome: 'campaign_over', reason: `campaign paused: ${paused.reason}` } : plan.refusal);
    const { billNoPrefix: prefix, amountFen, payload } = plan;
    return {
      input: refusal
        ? { ...base, billNoPrefix: prefix, amountFen, payload, dueAt: now, deferred: false, reservations: [], refusal }
        : { ...base, billNoPrefix: prefix, amountFen, payload, dueAt: plan.dueAt, deferred: plan.deferred, reservations: plan.reservations, note: plan.note },
    };
  }

  async function record(req: RecordRequest): Promise<GrantDetails> {
    const bad = checkRequest(req);
    if (bad) {
      log.warn({ campaign: req?.campaign, reason: bad }, 'grant request rejected');
      return { outcome: 'failed', reason: bad };
    }
    const now = Number.isFinite(req.now) ? req.now : clock.now();
    try {
      const decided = await decide(req, now);
      if (decided.first) return grantDetails(decided.first, true);
      const { duplicate, grant } = await ledger.recordGrant(decided.input);
      const details = grantDetails(grant, duplicate);
      log.info(
        { campaign: grant.campaign, ruleId: grant.ruleId, billNo: grant.billNo, outcome: grant.outcome, status: grant.status, duplicate },
        grant.outcome === 'granted' ? 'grant recorded' : 'grant refused',
      );
      return details;
    } catch (error) {
      log.error({ err: error, campaign: req.campaign, ruleId: req.ruleId }, 'grant could not be recorded');
      return { outcome: 'failed', reason: 'the ledger is unavailable' };
    }
  }

  async function preview(reqs: readonly RecordRequest[]): Promise<PreviewResult[]> {
    // Usage as the ledger has it now, plus what the earlier requests of this preview would add.
    const usage = new Map<string, Usage>();
    const usageOf = async (key: string) => {
      let u = usage.get(key);
      if (!u) usage.set(key, (u = { ...(await ledger.usage(key)) }));
      return u;
    };
    const results: PreviewResult[] = [];
    for (const req of reqs) {
      const bad = checkRequest(req);
      if (bad) {
        results.push({ outcome: 'failed', reason: bad });
        continue;
      }
      const now = Number.isFinite(req.now) ? req.now : clock.now();
      const decided = await decide(req, now);
      if (decided.first) {
        results.push({ ...grantDetails(decided.first, true), recorded: decided.first });
        continue;
      }
      const { input } = decided;
      if (input.refusal) {
        results.push({ outcome: input.refusal.outcome, reason: input.refusal.reason });
        continue;
      }
      for (const r of input.reservations) await usageOf(r.key);
      const over = firstExceeded(input.reservations, (k) => usage.get(k)!);
      if (over) {
        results.push({ outcome: over.outcome, reason: over.reason });
        continue;
      }
      for (const r of input.reservations) {
        const u = usage.get(r.key)!;
        u.count += r.count;
        u.amountFen += r.amountFen;
      }
      results.push({ outcome: 'granted', amountFen: input.amountFen, ...(input.deferred ? { deferredUntil: input.dueAt } : {}) });
    }
    return results;
  }

  return {
    grant: (req: GrantRequest) => record({ ...req, amountFen: undefined }),
    record,
    preview,
    async pause(campaign, reason) {
      await ledger.pauseCampaign(campaign, { reason, by: 'operator', now: clock.now() });
      log.warn({ campaign, reason }, 'campaign paused by operator');
    },
    async resume(campaign) {
      const was = await ledger.resumeCampaign(campaign);
      log.warn({ campaign, was }, 'campaign resumed');
      return was;
    },
  };
}

function checkRequest(req: RecordRequest | undefined): string | undefined {
  if (!req || typeof req !== 'object') return 'no request';
  for (const k of ['campaign', 'openId', 'dedupeKey', 'ruleId'] as const) if (typeof req[k] !== 'string' || req[k].length === 0) return `${k} must be a non-empty string`;
  if (req.dedupeKey.length > KEY_MAX) return 'dedupeKey is too long';
  if (req.ruleId.length > RULE_ID_MAX) return 'ruleId is too long';
  if (req.openId.length > 64) return 'openId is too long';
  if (req.amountFen !== undefined && (!Number.isSafeInteger(req.amountFen) || req.amountFen <= 0)) return 'amountFen must be a positive integer';
  return undefined;
}
