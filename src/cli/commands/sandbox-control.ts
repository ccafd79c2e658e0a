/**
 * The CLI side of a running sandbox's control endpoint (`src/sandbox/control-server.ts`):
 * `sandbox payments`, `sandbox receive BILLNO`, `sandbox refund-unclaimed`, `sandbox faults`. Each finds
 * the sandbox through `data/sandbox.json` (its URLs and control token) and says which file it looked
 * for, and how to start a sandbox, when none runs.
 *
 * @example await runSandboxPayments({ json: false }, processIo, { dataDir: 'data' }) // 0 = listed
 */
import { fenToYuan } from '../../lib/money';
import type { PaySandboxFaults } from '../../sandbox/pay-server';
import type { PaymentView } from '../../sandbox/control-server';
import { readSandboxInfo, sandboxInfoFile, type SandboxInfo } from '../../sandbox/sandbox-info';
import type { CliIo } from './config';
import { table } from './rewards';

export interface SandboxControlDeps {
  /** The data folder holding sandbox.json (settings.dataDir). */
  dataDir: string;
}

class ControlError extends Error {}

/** The running sandbox's control URL and token, or a ControlError that names the file and how to start one. */
function controlOf(deps: SandboxControlDeps): Required<Pick<SandboxInfo, 'control' | 'token'>> {
  const file = sandboxInfoFile(deps.dataDir);
  const info = readSandboxInfo(file);
  if (!info)
    throw new ControlError(
      `no running sandbox: looked for ${file} (missing, or the process that wrote it is gone). Start one with \`npx wechat-bot sandbox\` (or \`npm start\` without WeChat credentials), in this project folder.`,
    );
  if (!info.control || !info.token)
    throw new ControlError(`the sandbox in ${file} (pid ${info.pid}) has no control endpoint: restart it with this version of wechat-bot`);
  return { control: info.control, token: info.token };
}

async function call<T>(deps: SandboxControlDeps, method: string, path: string, body?: unknown): Promise<{ status: number; json: T & { error?: string } }> {
  const { control, token } = controlOf(deps);
  let res: Response;
  try {
    res = await fetch(`${control}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (err) {
    throw new ControlError(`the sandbox control endpoint ${control} did not answer (${(err as Error).message}): is the sandbox still running?`);
  }
  return { status: res.status, json: (await res.json()) as T & { error?: string } };
}

/** Runs one command body: a ControlError or an error answer is printed on stderr and gives exit code 1. */
async function run(io: CliIo, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof ControlError) {
      io.err(err.message);
      return 1;
    }
    throw err;
  }
}

function failed(io: CliIo, status: number, json: { error?: string }): number {
  io.err(`sandbox refused (HTTP ${status}): ${json.error ?? 'no reason given'}`);
  return 1;
}

/**
 * `sandbox payments [--json]`: every bill the sandbox knows — bill number, openid, amount, times paid, state.
 *
 * @example await runSandboxPayments({}, processIo, { dataDir: 'data' })
 */
export async function runSandboxPayments(opts: { json?: boolean }, io: CliIo, deps: SandboxControlDeps): Promise<number> {
  return run(io, async () => {
    const { status, json } = await call<{ payments: PaymentView[] }>(deps, 'GET', '/payments');
    if (status !== 200) return failed(io, status, json);
    if (opts.json) {
      io.out(JSON.stringify(json.payments, null, 2));
      return 0;
    }
    if (json.payments.length === 0) {
      io.out('no red packets paid by this sandbox yet');
      return 0;
    }
    const rows = json.payments.map((p) => [p.billNo, p.openId, fenToYuan(p.amountFen), String(p.timesPaid), p.status]);
    io.out(table([['BILL NUMBER', 'OPENID', 'AMOUNT', 'TIMES PAID', 'STATE'], ...rows]));
    const paid = json.payments.reduce((n, p) => n + p.timesPaid, 0);
    io.out(`${json.payments.length} bill(s), ${paid} payment(s)`);
    return 0;
  });
}

/**
 * `sandbox receive BILLNO`: the follower opens the packet (SENT → RECEIVED). Unknown bill or not SENT: exit 1.
 *
 * @example await runSandboxReceive('1900000109202612030000000001', processIo, { dataDir: 'data' })
 */
export async function runSandboxReceive(billNo: string, io: CliIo, deps: SandboxControlDeps): Promise<number> {
  return run(io, async () => {
    const { status, json } = await call<{ payment: PaymentView }>(deps, 'POST', `/payments/${encodeURIComponent(billNo)}/receive`);
    if (status !== 200) return failed(io, status, json);
    io.out(`received: ${json.payment.billNo} (${fenToYuan(json.payment.amountFen)} to ${json.payment.openId}) is now ${json.payment.status}`);
    return 0;
  });
}

/**
 * `sandbox refund-unclaimed [--older-than-minutes N]`: refunds the unclaimed packets now; says how many.
 * None to refund: says so and exits 1 (nothing was done).
 *
 * @example await runSandboxRefundUnclaimed({}, processIo, { dataDir: 'data' })
 */
export async function runSandboxRefundUnclaimed(opts: { olderThanMinutes?: string }, io: CliIo, deps: SandboxControlDeps): Promise<number> {
  return run(io, async () => {
    const minutes = opts.olderThanMinutes === undefined ? 0 : Number(opts.olderThanMinutes);
    if (!Number.isInteger(minutes) || minutes < 0) {
      io.err(`--older-than-minutes "${opts.olderThanMinutes}" is not a whole number of minutes ≥ 0`);
      return 1;
    }
    const { status, json } = await call<{ refunded: string[] }>(deps, 'POST', '/refund-unclaimed', { olderThanMs: minutes * 60_000 });
    if (status !== 200) return failed(io, status, json);
    if (json.refunded.length === 0) {
      io.err(`nothing refunded: no unclaimed (SENT or RFUND_ING) red packet${minutes > 0 ? ` older than ${minutes} minute(s)` : ''}`);
      return 1;
    }
    io.out(`refunded ${json.refunded.length} unclaimed red packet(s): ${json.refunded.join(', ')}`);
    return 0;
  });
}

/**
 * `sandbox faults [flags] [--clear]`: changes the running sandbox's faults (flags are merged into the
 * current ones; `--clear` removes them all first) and prints the faults now in force. No flag: prints them.
 *
 * @example await runSandboxFaults({ faults: { systemErrorRate: 0.2 } }, processIo, { dataDir: 'data' })
 */
export async function runSandboxFaults(opts: { faults: PaySandboxFaults; clear?: boolean }, io: CliIo, deps: SandboxControlDeps): Promise<number> {
  return run(io, async () => {
    const change = Object.keys(opts.faults).length > 0;
    if (opts.clear) {
      const cleared = await call<{ faults: PaySandboxFaults }>(deps, 'DELETE', '/faults');
      if (cleared.status !== 200) return failed(io, cleared.status, cleared.json);
    }
    const { status, json } = change
      ? await call<{ faults: PaySandboxFaults }>(deps, 'POST', '/faults', opts.faults)
      : await call<{ faults: PaySandboxFaults }>(deps, 'GET', '/faults');
    if (status !== 200) return failed(io, status, json);
    const now = Object.keys(json.faults).length === 0 ? 'none' : JSON.stringify(json.faults);
    io.out(`${change || opts.clear ? 'faults set' : 'faults in force'}: ${now}`);
    return 0;
  });
}

/**
 * `simulate --activate CARD_ID [--field NAME=VALUE …]`: the sandbox's follower adds the member card
 * (or uses `--code`) and submits its one-click activation form; WeChat's sandbox pushes
 * `submit_membercard_user_info` to the bot, which activates the card after answering. The code is
 * shown by its last four characters only.
 *
 * @example await runSandboxActivate({ openid: 'o-1', cardId: 'pMember', fields: { USER_FORM_INFO_FLAG_MOBILE: '13800000000' } }, processIo, { dataDir: 'data' })
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Membership_Cards/Create_a_membership_card.html
 */
export async function runSandboxActivate(
  o: { openid: string; cardId: string; code?: string; fields: Record<string, string> },
  io: CliIo,
  deps: SandboxControlDeps,
): Promise<number> {
  return run(io, async () => {
    const { status, json } = await call<{ code: string; webhookStatus: number | null }>(deps, 'POST', '/members/activate', o);
    if (status !== 200) return failed(io, status, json);
    io.out(`${o.openid} added ${o.cardId} (code …${json.code.slice(-4)}) and submitted the activation form (${Object.keys(o.fields).length} fields)`);
    io.out(
      json.webhookStatus === 200
        ? 'the bot answered the event; it activates the card now (see `cards members`)'
        : `the bot's webhook answered ${json.webhookStatus ?? 'nothing'}`,
    );
    return 0;
  });
}

/**
 * `--field NAME=VALUE` (repeatable) into the form's answers.
 *
 * @example formFieldsOf(['USER_FORM_INFO_FLAG_MOBILE=13800000000']) // { USER_FORM_INFO_FLAG_MOBILE: '13800000000' }
 */
export function formFieldsOf(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const at = p.indexOf('=');
    if (at <= 0) throw new Error(`--field "${p}" must be NAME=VALUE (e.g. USER_FORM_INFO_FLAG_MOBILE=13800000000)`);
    out[p.slice(0, at)] = p.slice(at + 1);
  }
  return out;
}
