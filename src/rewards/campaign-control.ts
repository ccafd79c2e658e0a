/**
 * Pausing and resuming a campaign, and each campaign's state — ONE implementation for the CLI
 * (`campaign pause|resume|list`) and the operator console. A pause stops new grants (they answer
 * `campaign_over`) and holds the campaign's queued packets with their bill numbers; a resume lets
 * them go. A name not in campaigns.yaml is refused with the closest names, so a typo never reports
 * "paused" while the real campaign keeps paying; a paused name no longer in campaigns.yaml can still
 * be resumed (its queued packets wait on it).
 *
 * @example
 * const r = await pauseCampaign({ ledger, config }, { name: 'welcome-packet', reason: 'budget review', now });
 * if (!r.ok) console.error(r.message);
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import { shanghaiParts } from '../lib/clock';
import { closestName } from '../lib/closest-name';
import { isRedPacketCampaign, type RewardsConfig } from './config-schema';
import type { CampaignPause, LedgerWrites, Usage } from './ledger';

/** What pause/resume need: the ledger and the campaigns as loaded now. */
export interface CampaignControlDeps {
  ledger: Pick<LedgerWrites, 'pauseCampaign' | 'resumeCampaign' | 'pausedCampaigns'>;
  config: RewardsConfig;
}

export type CampaignControlResult = { ok: true; message: string } | { ok: false; code: 'unknown_campaign' | 'not_paused'; message: string };

export const DEFAULT_PAUSE_REASON = 'paused by an operator';

/**
 * Why `name` is not a campaign of campaigns.yaml (listing the names there, the closest first), or
 * undefined when it is one.
 *
 * @example unknownCampaign(config, 'welcom-packet') // 'no campaign "welcom-packet" in campaigns.yaml — did you mean "welcome-packet"?; campaigns: …'
 */
export function unknownCampaign(config: RewardsConfig, name: string): string | undefined {
  const names = Object.keys(config.campaigns);
  if (names.includes(name)) return undefined;
  const near = closestName(name, names);
  return (
    `no campaign "${name}" in campaigns.yaml${near ? ` — did you mean "${near}"?` : ''}; ` + (names.length ? `campaigns: ${names.join(', ')}` : 'it defines no campaigns')
  );
}

/** Pauses a campaign of campaigns.yaml (by an operator); pausing a paused one keeps the first pause. */
export async function pauseCampaign(deps: CampaignControlDeps, o: { name: string; reason?: string; now: number }): Promise<CampaignControlResult> {
  const unknown = unknownCampaign(deps.config, o.name);
  if (unknown) return { ok: false, code: 'unknown_campaign', message: unknown };
  await deps.ledger.pauseCampaign(o.name, { reason: o.reason ?? DEFAULT_PAUSE_REASON, by: 'operator', now: o.now });
  return { ok: true, message: `campaign ${o.name} paused` };
}

/** Resumes a paused campaign (also one no longer in campaigns.yaml). */
export async function resumeCampaign(deps: CampaignControlDeps, name: string): Promise<CampaignControlResult> {
  const paused = (await deps.ledger.pausedCampaigns()).some((p) => p.campaign === name);
  const unknown = paused ? undefined : unknownCampaign(deps.config, name);
  if (unknown) return { ok: false, code: 'unknown_campaign', message: unknown };
  if (await deps.ledger.resumeCampaign(name)) return { ok: true, message: `campaign ${name} resumed` };
  return { ok: false, code: 'not_paused', message: `campaign ${name} was not paused: nothing changed` };
}

// === State

/** A campaign's state and use, for `campaign list` and the console. */
export interface CampaignStatus {
  name: string;
  kind: string;
  /** Red packets: `normal` / `fission`. */
  type?: string;
  enabled: boolean;
  /** Packets (or cards) granted and their amount (`budget:<name>` usage). */
  used: Usage;
  /** The campaign's packet cap (red packets), else null. */
  maxCount: number | null;
  /** The campaign's budget in fen (red packets), else null. */
  budgetFen: number | null;
  paused?: CampaignPause;
  /** Why it grants no more by itself: past its window's end, or its budget or packets used up. */
  ended?: 'window' | 'budget';
  /** paused (an operator or the worker) › off (`enabled: false`) › ended › active. */
  state: 'active' | 'paused' | 'off' | 'ended';
}

/** Every campaign of campaigns.yaml with its use and state at `now`; red packets first. */
export async function campaignStatuses(ledger: Pick<LedgerWrites, 'pausedCampaigns' | 'usage'>, config: RewardsConfig, now: number): Promise<CampaignStatus[]> {
  const paused = new Map((await ledger.pausedCampaigns()).map((p) => [p.campaign, p]));
  const today = shanghaiParts(now).isoDate;
  const out: CampaignStatus[] = [];
  for (const c of Object.values(config.campaigns)) {
    const used = await ledger.usage(`budget:${c.name}`);
    const red = isRedPacketCampaign(c) ? c : undefined;
    const pastWindow = red?.window?.to !== undefined && red.window.to < today;
    const usedUp = red !== undefined && (used.count >= red.maxPackets || used.amountFen >= red.budgetFen);
    const ended = pastWindow ? 'window' : usedUp ? 'budget' : undefined;
    const p = paused.get(c.name);
    out.push({
      name: c.name,
      kind: c.kind,
      type: red?.type,
      enabled: c.enabled,
      used,
      maxCount: red?.maxPackets ?? null,
      budgetFen: red?.budgetFen ?? null,
      paused: p,
      ended,
      state: p ? 'paused' : !c.enabled ? 'off' : ended ? 'ended' : 'active',
    });
  }
  return out.sort((a, b) => Number(b.kind === 'red_packet') - Number(a.kind === 'red_packet'));
}
