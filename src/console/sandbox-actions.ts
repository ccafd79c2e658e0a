/**
 * The sandbox panel's actions, each checked, carried out through the panel's powers and audited (who
 * = the session id): `play` a follower through the webhook, `pay` an order, `receive` a packet,
 * `refund` the unclaimed ones, `send-due` (one pass of the bot's outbox worker) and `reconcile` (one
 * run of its reconciliation job), so a grant and a claim reach the ledger at once. Every action answers a status and a result, or a message saying
 * what was wrong (400 bad input, 404 unknown packet, 409 a packet not SENT, 502 the bot did not
 * answer its own webhook).
 *
 * @example await runSandboxAction('play', { kind: 'follow', scene: 'store-1' }, { panel, audit, session })
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
 */
import { fenToYuan } from '../lib/money';
import type { ConsoleAudit } from './console-page';
import type { ConsoleSandbox, SandboxPacket } from './console-sandbox';
import type { PageError } from './page-answers';
import { parseBillNo, parseSandboxPay, parseSandboxPlay } from './sandbox-input';

export const SANDBOX_ACTIONS = ['play', 'pay', 'receive', 'refund', 'send-due', 'reconcile'] as const;
export type SandboxAction = (typeof SANDBOX_ACTIONS)[number];

export interface SandboxActionOutcome {
  action: SandboxAction;
  status: number;
  /** Why the action was refused or failed (a message key of the panel's messages). */
  error?: PageError;
  result?: Record<string, unknown>;
}

interface ActionDeps {
  panel: ConsoleSandbox;
  audit: ConsoleAudit;
  session: string;
}

/** A packet with its amount in yuan too (two decimals), as the API answers it. */
export const packetView = (p: SandboxPacket): SandboxPacket & { amountYuan: string } => ({ ...p, amountYuan: fenToYuan(p.amountFen) });

const failed = (action: SandboxAction, status: number, error: PageError | unknown): SandboxActionOutcome => ({
  action,
  status,
  error: isPageError(error) ? error : { key: 'sandbox.failed', vars: { message: error instanceof Error ? error.message : String(error) } },
});

function isPageError(e: unknown): e is PageError {
  return typeof e === 'object' && e !== null && typeof (e as PageError).key === 'string' && !(e instanceof Error);
}

async function play(body: Record<string, unknown>, d: ActionDeps): Promise<SandboxActionOutcome> {
  const p = parseSandboxPlay(body);
  if (!p.ok) return failed('play', 400, p.error);
  await d.audit.record({ session: d.session, action: 'sandbox.play', target: p.openid, detail: { ...p.input } });
  try {
    const r = await d.panel.play(p.input, p.openid);
    return { action: 'play', status: 200, result: { openid: p.openid, input: p.input, lines: r.lines } };
  } catch (err) {
    return failed('play', 502, err);
  }
}

async function pay(body: Record<string, unknown>, d: ActionDeps): Promise<SandboxActionOutcome> {
  const p = parseSandboxPay(body);
  if (!p.ok) return failed('pay', 400, p.error);
  const detail = { openid: p.openid, totalFen: p.totalFen };
  try {
    const r = await d.panel.pay({ ...detail, ...(p.attach ? { attach: p.attach } : {}) });
    await d.audit.record({ session: d.session, action: 'sandbox.pay', target: r.transactionId, detail: { ...detail, delivered: r.delivered } });
    return { action: 'pay', status: 200, result: { ...detail, totalYuan: fenToYuan(p.totalFen), ...r } };
  } catch (err) {
    await d.audit.record({ session: d.session, action: 'sandbox.pay', detail: { ...detail, delivered: false } });
    return failed('pay', 502, err);
  }
}

async function receive(body: Record<string, unknown>, d: ActionDeps): Promise<SandboxActionOutcome> {
  const p = parseBillNo(body);
  if (!p.ok) return failed('receive', 400, p.error);
  try {
    const packet = packetView(d.panel.receive(p.billNo));
    await d.audit.record({ session: d.session, action: 'sandbox.receive', target: p.billNo });
    return { action: 'receive', status: 200, result: { packet } };
  } catch (err) {
    return failed('receive', err instanceof RangeError ? 404 : 409, err);
  }
}

async function refund(_body: Record<string, unknown>, d: ActionDeps): Promise<SandboxActionOutcome> {
  const refunded = d.panel.refundUnclaimed();
  await d.audit.record({ session: d.session, action: 'sandbox.refund-unclaimed', detail: { refunded } });
  return { action: 'refund', status: 200, result: { refunded } };
}

async function sendDue(_body: Record<string, unknown>, d: ActionDeps): Promise<SandboxActionOutcome> {
  try {
    const pass = await d.panel.sendDue();
    await d.audit.record({ session: d.session, action: 'sandbox.send-due', detail: { ...pass } });
    return { action: 'send-due', status: 200, result: { pass } };
  } catch (err) {
    await d.audit.record({ session: d.session, action: 'sandbox.send-due', detail: { failed: true } });
    return failed('send-due', 500, err);
  }
}

async function reconcileNow(_body: Record<string, unknown>, d: ActionDeps): Promise<SandboxActionOutcome> {
  const run = await d.panel.reconcile();
  if ('error' in run) {
    await d.audit.record({ session: d.session, action: 'sandbox.reconcile', detail: { failed: true } });
    return failed('reconcile', 500, run.error);
  }
  await d.audit.record({ session: d.session, action: 'sandbox.reconcile', detail: { ...run.report } });
  return { action: 'reconcile', status: 200, result: { report: run.report } };
}

const RUN: Record<SandboxAction, (body: Record<string, unknown>, d: ActionDeps) => Promise<SandboxActionOutcome>> = {
  play,
  pay,
  receive,
  refund,
  'send-due': sendDue,
  reconcile: reconcileNow,
};

/**
 * Runs one action.
 *
 * @example (await runSandboxAction('refund', {}, deps)).result // { refunded: 2 }
 */
export function runSandboxAction(action: SandboxAction, body: Record<string, unknown>, d: ActionDeps): Promise<SandboxActionOutcome> {
  return RUN[action](body, d);
}
