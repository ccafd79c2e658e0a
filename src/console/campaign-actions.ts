/**
 * The Campaigns page's actions, each the SAME operation as the CLI's and each audited: pause / resume
 * a campaign (`rewards/campaign-control.ts`, as `campaign pause|resume`), cancel one grant
 * (`ledger.cancel`, as `redpack cancel`) and reissue one failed red packet (`reissueGrant`, as
 * `redpack reissue`). The operator is `console:<session id>`.
 *
 * @example const r = await runCampaignAction(deps, session, 'pause', { campaign: 'welcome-packet', reason: 'budget review' });
 */
import { rewardsConfigOf } from '../config/config-views';
import { DEFAULT_PAUSE_REASON, pauseCampaign, resumeCampaign } from '../rewards/campaign-control';
import { OPERATOR_REASON_MAX, operatorInputProblem, reissueGrant } from '../rewards/operator-actions';
import type { ConsoleDeps, ConsoleSessionView } from './console-page';

export const CAMPAIGN_ACTIONS = ['pause', 'resume', 'cancel', 'reissue'] as const;
export type CampaignAction = (typeof CAMPAIGN_ACTIONS)[number];

export interface ActionResult {
  ok: boolean;
  /** 200 done, 400 bad input, 409 refused by the ledger or the config. */
  status: 200 | 400 | 409;
  message: string;
}

const CONTROL = /[\u0000-\u001f\u007f]/;
const text = (v: unknown) => (typeof v === 'string' ? v.trim() : '');

function badInput(message: string): ActionResult {
  return { ok: false, status: 400, message };
}

async function perform(deps: ConsoleDeps, by: string, action: CampaignAction, body: Record<string, unknown>): Promise<ActionResult> {
  const now = deps.clock.now();
  const config = rewardsConfigOf(deps.config.current());
  if (action === 'pause' || action === 'resume') {
    const name = text(body.campaign);
    if (name === '' || name.length > 64) return badInput('give the campaign name');
    let r;
    if (action === 'pause') {
      const reason = text(body.reason) || DEFAULT_PAUSE_REASON;
      if (reason.length > OPERATOR_REASON_MAX || CONTROL.test(reason)) return badInput(`the reason must be one line of at most ${OPERATOR_REASON_MAX} characters`);
      r = await pauseCampaign({ ledger: deps.ledger, config }, { name, reason: `${reason} (${by})`, now });
    } else r = await resumeCampaign({ ledger: deps.ledger, config }, name);
    return { ok: r.ok, status: r.ok ? 200 : 409, message: r.message };
  }
  const billNo = text(body.billNo);
  if (!/^[A-Za-z0-9]{1,32}$/.test(billNo)) return badInput('give the bill number (mch_billno) of the grant');
  const problem = operatorInputProblem(by, text(body.reason));
  if (problem) return badInput(problem.replace('--reason', 'the reason'));
  const who = { by, reason: text(body.reason), now };
  const r =
    action === 'cancel'
      ? await deps.ledger.cancel(billNo, who)
      : await reissueGrant({ ledger: deps.ledger, config, mchId: deps.settings.pay.mchId ?? '0000000000' }, billNo, who);
  if (!r.ok) return { ok: false, status: 409, message: r.message };
  return { ok: true, status: 200, message: action === 'cancel' ? `cancelled ${billNo}` : `reissued ${billNo} as ${'original' in r ? r.grant.billNo : ''}` };
}

/** Runs one action and writes its audit record (done or refused, with the message). */
export async function runCampaignAction(deps: ConsoleDeps, session: ConsoleSessionView, action: CampaignAction, body: Record<string, unknown>): Promise<ActionResult> {
  const result = await perform(deps, `console:${session.id}`, action, body);
  const target = text(action === 'pause' || action === 'resume' ? body.campaign : body.billNo).slice(0, 64);
  await deps.audit.record({ session: session.id, action: `campaign.${action}`, target, detail: { ok: result.ok, message: result.message.slice(0, 300) } });
  return result;
}
