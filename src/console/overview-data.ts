/**
 * What the Overview page shows, gathered from the ledger, the config and the shared store: each
 * campaign's state and use with its sends today, today's totals against the merchant's daily limits,
 * the open alerts (paused campaigns, bill-number collisions, other held grants, a failing
 * reconciliation), and the hourly activity for the chart (last 24 h or 7 days).
 *
 * @example const data = await overviewData(deps); const chart = await activitySeries(deps, '24h');
 */
import { shanghaiParts, shanghaiToEpoch } from '../lib/clock';
import { rewardsConfigOf } from '../config/config-views';
import { type CampaignStatus, campaignStatuses } from '../rewards/campaign-control';
import { BILLNO_COLLISION, type ActivityBucket, type CampaignPause, type Usage } from '../rewards/ledger';
import { lastReconcileRun, reconcileNeedsAttention, type ReconcileRun } from '../rewards/reconcile-status';
import { isCardCampaign } from '../cards/card-campaign-schema';
import type { RewardsConfig } from '../rewards/config-schema';
import type { ConsoleDeps } from './console-page';

type Deps = Pick<ConsoleDeps, 'ledger' | 'config' | 'clock' | 'kv'>;

export type OverviewAlert =
  | { kind: 'paused'; campaign: string; pause: CampaignPause }
  | { kind: 'collision' | 'held'; count: number; billNos: string[] }
  | { kind: 'reconcile'; run: ReconcileRun };

export interface OverviewData {
  now: number;
  /** `maxCount`: the total of the campaign's limits (packets or cards), null when it has none. */
  campaigns: (CampaignStatus & { sendsToday: number })[];
  today: {
    /** Beijing date, yyyy-mm-dd. */
    day: string;
    /** Granted today (all campaigns) against limits.yaml `merchant_daily`. */
    merchant: { used: Usage; maxCount: number | null; maxAmountFen: number };
    /** Red packets and cards sent today, and limits.yaml `send_rate_per_day` (null: none). */
    sends: number;
    maxSendsPerDay: number | null;
  };
  alerts: OverviewAlert[];
}

const HOUR = 3_600_000;
/** Held grants listed by bill number in an alert (the count is complete). */
const ALERT_BILLS = 5;

/** Epoch ms of the start of the Beijing day of `now`. */
function beijingDayStart(now: number): number {
  const p = shanghaiParts(now);
  return shanghaiToEpoch(p.year, p.month, p.day);
}

async function sendsSince(deps: Deps, since: number, until: number, campaign?: string): Promise<number> {
  const [bucket] = await deps.ledger.activity({ since, until, bucketMs: until - since, campaign });
  return bucket?.sends ?? 0;
}

/**
 * A campaign's total from its limits: a red packet's `max_packets`, a card campaign's `max_cards`;
 * null when its kind has none (the page says "no limit").
 */
function totalOf(c: CampaignStatus, config: RewardsConfig): number | null {
  const campaign = config.campaigns[c.name];
  return isCardCampaign(campaign) ? campaign.maxCards : c.maxCount;
}

export async function overviewData(deps: Deps): Promise<OverviewData> {
  const now = deps.clock.now();
  const config = rewardsConfigOf(deps.config.current());
  const dayStart = beijingDayStart(now);
  const until = now + 1;
  const statuses = await campaignStatuses(deps.ledger, config, now);
  const campaigns = [];
  for (const c of statuses) campaigns.push({ ...c, maxCount: totalOf(c, config), sendsToday: await sendsSince(deps, dayStart, until, c.name) });
  const { merchantDaily, sendRatePerDay } = config.limits;
  const alerts: OverviewAlert[] = (await deps.ledger.pausedCampaigns()).map((pause) => ({ kind: 'paused', campaign: pause.campaign, pause }));
  const held = await deps.ledger.listByStatus(['HELD']);
  const collisions = held.filter((g) => g.reason?.startsWith(BILLNO_COLLISION));
  const others = held.filter((g) => !g.reason?.startsWith(BILLNO_COLLISION));
  for (const [kind, list] of [
    ['collision', collisions],
    ['held', others],
  ] as const)
    if (list.length > 0) alerts.push({ kind, count: list.length, billNos: list.slice(0, ALERT_BILLS).map((g) => g.billNo ?? `#${g.id}`) });
  const run = await lastReconcileRun(deps.kv);
  if (run && reconcileNeedsAttention(run)) alerts.push({ kind: 'reconcile', run });
  return {
    now,
    campaigns,
    today: {
      day: shanghaiParts(now).isoDate,
      merchant: { used: await deps.ledger.usage(`merchant-day:${shanghaiParts(now).ymd}`), maxCount: merchantDaily.count ?? null, maxAmountFen: merchantDaily.amountFen },
      sends: await sendsSince(deps, dayStart, until),
      maxSendsPerDay: sendRatePerDay ?? null,
    },
    alerts,
  };
}

export type ActivityRange = '24h' | '7d';
export const ACTIVITY_RANGES: Record<ActivityRange, number> = { '24h': 24, '7d': 7 * 24 };

/** Hourly buckets ending with the current hour: the last 24 (`24h`) or 168 (`7d`). */
export async function activitySeries(deps: Pick<Deps, 'ledger' | 'clock'>, range: ActivityRange): Promise<ActivityBucket[]> {
  const until = Math.floor(deps.clock.now() / HOUR) * HOUR + HOUR;
  return deps.ledger.activity({ since: until - ACTIVITY_RANGES[range] * HOUR, until, bucketMs: HOUR });
}
