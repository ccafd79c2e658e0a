/**
 * Operator commands for red packets:
 *
 *   redpack send-file FILE --campaign NAME   batch issuance (merchant platform upload format); validates every
 *                                            line first, records one grant per line; the same file twice issues nothing new
 *   redpack status BILLNO [--query] [--json] one grant as the ledger has it (and, with --query, as WeChat Pay has it)
 *   redpack cancel BILLNO --reason TEXT [--by NAME] [--dry-run]    a grant not sent yet (or HELD) is never sent
 *   redpack reissue BILLNO --reason TEXT [--by NAME] [--dry-run]   a FAILED red packet again, as a new grant (new bill number)
 *   ledger [--csv] [--grants] [--campaign NAME]   counts and amounts per campaign and status (or every grant); HELD grants listed
 *   campaign pause NAME [--reason TEXT]      stop granting and sending a campaign
 *   campaign resume NAME                     grant and send again (after a NOTENOUGH top-up, for example)
 *   campaign list                            campaigns with their budget use and pause state
 *   reconcile [--limit N]                    ask WeChat Pay about SENT packets now (RECEIVED / REFUND / RFUND_ING)
 *
 * The commands record; the running bot's outbox worker sends. They use the same ledger as the bot:
 * PostgreSQL when DATABASE_URL is set, else SQLite at BOT_DATA_DIR/BOT_SQLITE_FILE. Commands that call
 * WeChat Pay (`status --query`, `reconcile`) use WECHAT_PAY_* settings; in sandbox mode they talk to the
 * pay sandbox of the running bot (`npm start`), or to WECHAT_PAY_API_BASE when set.
 *
 * @example npx wechat-bot redpack send-file winners.txt --campaign spring-bonus
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
import fs from 'node:fs';
import os from 'node:os';
import pino from 'pino';
import type { Command } from 'commander';
import { loadSettings, SANDBOX_CREDENTIALS, type Settings } from '../../config/settings';
import { systemClock, type Clock } from '../../lib/clock';
import { createLogger, type Logger } from '../../lib/logger';
import { createPayClient, loadMerchantCert } from '../../pay/client';
import { createRedpackApi } from '../../pay/redpack';
import type { RedpackApi } from '../../pay/types';
import { fenToYuan } from '../../lib/money';
import { amountRangeFor, isRedPacketCampaign, type RewardsConfig } from '../../rewards/config-schema';
import { cancelRefusal, reissueLimitRefusal, type Ledger, type LedgerGrant, type Usage } from '../../rewards/ledger';
import { loadRewardsConfig } from '../../config/load-rewards-config';
import { REWARD_KINDS } from '../../config/reward-kinds';
import { campaignStatuses, pauseCampaign, resumeCampaign, unknownCampaign } from '../../rewards/campaign-control';
import { operatorInputProblem, prepareReissue, reissueGrant } from '../../rewards/operator-actions';
import { reconcile } from '../../rewards/reconcile';
import { createRewards } from '../../rewards/rewards';
import { batchName, parseSendFile, sendFile, SendFileError } from '../../rewards/send-file';
import { SANDBOX_PAY_CERTS } from '../../sandbox/pay-server';
import { openDurableStores } from '../../store/open-stores';
import { noteToStderr, runningSandbox, targetLine } from '../context';

/**
 * Throws unless `name` is a campaign of campaigns.yaml, listing the names there (the closest first),
 * so a typo never reports "paused" while the real campaign keeps paying.
 *
 * @example requireCampaign(config, 'welcom-packet') // throws: no campaign "welcom-packet" … did you mean "welcome-packet"?
 */
export function requireCampaign(config: RewardsConfig, name: string): void {
  const unknown = unknownCampaign(config, name);
  if (unknown) throw new Error(unknown);
}

/**
 * The grants of one batch, one per follower: the latest attempt of each (a line refused and then
 * granted on a later run shows as granted).
 */
export async function batchGrants(ledger: Ledger, batch: string, campaign?: string): Promise<LedgerGrant[]> {
  const latest = new Map<string, { attempt: number; grant: LedgerGrant }>();
  let afterId: number | undefined;
  for (;;) {
    const page = await ledger.listAll({ campaign, limit: 1000, afterId });
    if (page.length === 0) break;
    for (const g of page) {
      const prefix = `batch:${g.campaign}:${batch}:`;
      if (g.ruleId !== 'send-file' || !g.dedupeKey.startsWith(prefix)) continue;
      const m = /^(.*?)(?:#(\d+))?$/.exec(g.dedupeKey.slice(prefix.length))!;
      const attempt = m[2] ? Number(m[2]) : 1;
      const who = `${g.campaign}:${m[1]}`;
      const seen = latest.get(who);
      if (!seen || attempt > seen.attempt) latest.set(who, { attempt, grant: g });
    }
    afterId = page[page.length - 1]!.id;
  }
  return [...latest.values()].map((v) => v.grant).sort((a, b) => a.id - b.id);
}

/**
 * Statuses whose amount was never paid: a refused grant asked for it, a failed one could not pay it,
 * a cancelled one was stopped before it was sent.
 */
const NOT_PAID: ReadonlySet<string> = new Set(['REFUSED', 'FAILED', 'CANCELLED']);

/** The operator's name for `--by`: the OS user (empty when the system has none). */
export function defaultOperator(env: Record<string, string | undefined> = process.env): string {
  try {
    const name = os.userInfo().username;
    if (name) return name;
  } catch {
    // no passwd entry for this uid (some containers): fall back to the environment
  }
  return env.USER ?? env.LOGNAME ?? '';
}

/** One line about a grant for operator messages: `1.00 yuan to oX… (campaign c, PENDING)`. */
function grantSummary(g: LedgerGrant): string {
  return `${fenToYuan(g.amountFen)} yuan to ${g.openId} (campaign ${g.campaign}, ${g.status})`;
}

/** `cancelled by alice at 2026-…: why` for a grant an operator acted on, or ''. */
function operatorNote(g: LedgerGrant): string {
  const a = g.operatorAction;
  return a ? `${a.action} by ${a.by} at ${iso(a.at)}: ${a.reason}` : '';
}

/** What the rewards commands need. */
export interface RewardsCliContext {
  ledger: Ledger;
  /** Reads campaigns.yaml + limits.yaml (only the commands that need them call it). */
  config(): RewardsConfig;
  clock: Clock;
  log: Logger;
  mchId: string;
  appId: string;
  /** The red-packet API, built on first use (only commands that call WeChat Pay). */
  redpack(): RedpackApi;
  close(): Promise<void>;
}

/** Injection points for tests. */
export interface RewardsCommandDeps {
  createContext?: () => Promise<RewardsCliContext>;
  out?: (text: string) => void;
}

type Env = Record<string, string | undefined>;

/**
 * Builds the context from the environment: settings, ledger, config, and (lazily) the Pay client.
 *
 * @example const ctx = await createRewardsCliContext(process.env); … await ctx.close();
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export async function createRewardsCliContext(env: Env = process.env, cwd?: string, note: (line: string) => void = noteToStderr): Promise<RewardsCliContext> {
  const settings = loadSettings(env, cwd);
  note(targetLine(settings));
  const log = createLogger({
    level: env.LOG_LEVEL === undefined ? 'warn' : settings.logLevel,
    secrets: settings.secrets,
    destination: pino.destination({ dest: 2, sync: true }),
  });
  const durable = await openDurableStores(settings.store);
  const { ledger } = durable;
  let payClose: (() => void) | undefined;
  let api: RedpackApi | undefined;
  return {
    ledger,
    config: () => loadRewardsConfig(settings.configDir),
    clock: systemClock,
    log,
    mchId: settings.pay.mchId ?? '',
    appId: settings.wechat.appId,
    redpack() {
      if (!api) {
        const client = createPayClient(payClientOptions(settings, env, log));
        payClose = () => client.close();
        api = createRedpackApi(client, { log });
      }
      return api;
    },
    async close() {
      payClose?.();
      await durable.close();
    },
  };
}

function payClientOptions(settings: Settings, env: Env, log: Logger): Parameters<typeof createPayClient>[0] {
  const common = { appId: settings.wechat.appId, clientIp: settings.pay.clientIp, log, timeoutMs: 10_000 };
  if (settings.sandbox) {
    const explicit = env.WECHAT_PAY_API_BASE?.trim();
    const baseUrl = explicit || runningSandbox(settings)?.pay;
    if (!baseUrl)
      throw new Error('sandbox mode: this command asks WeChat Pay, and no pay sandbox is running — start the bot (npm start) first, or set WECHAT_PAY_API_BASE');
    return {
      ...common,
      mchId: SANDBOX_CREDENTIALS.mchId,
      key: SANDBOX_CREDENTIALS.payKey,
      baseUrl,
      cert: loadMerchantCert({ certPath: SANDBOX_PAY_CERTS.p12, mchId: SANDBOX_CREDENTIALS.mchId }),
      ca: fs.readFileSync(SANDBOX_PAY_CERTS.ca),
    };
  }
  const { mchId, key, certPath } = settings.pay;
  if (!mchId || !key || !certPath) throw new Error('WECHAT_MCH_ID, WECHAT_PAY_KEY and WECHAT_PAY_CERT are required for commands that call WeChat Pay');
  return {
    ...common,
    mchId,
    key,
    baseUrl: settings.pay.apiBase,
    cert: loadMerchantCert({ certPath, keyPemPath: settings.pay.keyPemPath, passphrase: settings.pay.certPassphrase, mchId }),
    ...(settings.pay.caPath ? { ca: fs.readFileSync(settings.pay.caPath) } : {}),
  };
}

// === Formatting

export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n');
}

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s; // no formula injection when opened in a spreadsheet
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function csv(rows: unknown[][]): string {
  return rows.map((r) => r.map(csvCell).join(',')).join('\n');
}

const iso = (ms: number | null) => (ms === null ? '' : new Date(ms).toISOString());

function grantLines(g: LedgerGrant): string[][] {
  return [
    ['bill_no', g.billNo ?? '(none: refused)'],
    ['status', g.status],
    ['outcome', g.outcome],
    ['campaign', g.campaign],
    ['openid', g.openId],
    ['amount', `${fenToYuan(g.amountFen)} yuan`],
    ['rule', g.ruleId],
    ['attempts', String(g.attempts)],
    ['reason', g.reason ?? ''],
    ['last_error', g.lastError ?? ''],
    ['send_listid', g.sendListId ?? ''],
    ['created', iso(g.createdAt)],
    ['sent', iso(g.sentAt)],
    ['next_attempt', iso(g.nextAttemptAt)],
    ['operator', operatorNote(g)],
    ['reissue_of', g.reissueOf ?? ''],
    ['reissued_as', g.reissuedAs ?? ''],
  ];
}

// === Commands

/** Cancelled / reissued grants listed under the `ledger` summary (every one is in `ledger --grants`). */
const OPERATOR_LINES = 50;

/** `--by` / `--reason` of cancel and reissue, checked (throws with what to fix). */
function operatorOf(opts: { by?: string; reason?: string }, now: number): { by: string; reason: string; now: number } {
  const by = opts.by ?? defaultOperator();
  const problem = operatorInputProblem(by, opts.reason);
  if (problem) throw new Error(problem);
  return { by: by.trim(), reason: opts.reason!.trim(), now };
}

/** The usage of every reservation key, read now (a dry run's view of the limits). */
async function usageNow(ledger: Ledger, keys: readonly string[]): Promise<Map<string, Usage>> {
  const usage = new Map<string, Usage>();
  for (const k of keys) usage.set(k, await ledger.usage(k));
  return usage;
}

/**
 * Adds `redpack`, `ledger`, `campaign` and `reconcile` (loaded by `src/cli/main.ts`).
 *
 * @example register(new Command())
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function register(program: Command, deps: RewardsCommandDeps = {}): void {
  const out = deps.out ?? ((text: string) => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`));
  const makeContext = deps.createContext ?? (() => createRewardsCliContext(process.env));

  async function withContext<T>(fn: (ctx: RewardsCliContext) => Promise<T>): Promise<T> {
    const ctx = await makeContext();
    try {
      return await fn(ctx);
    } finally {
      await ctx.close();
    }
  }

  const redpack = program.command('redpack').description('Issue red packets in batch, look one up, cancel or reissue one');

  redpack
    .command('send-file')
    .description('Record one red packet per line of a merchant-platform upload file (first line: the wxappid; then "openid [amount]")')
    .argument('<file>', 'the upload file (at most 3,000 openid lines)')
    .requiredOption('--campaign <name>', 'the campaign in campaigns.yaml (texts, budget, limits)')
    .option('--batch <name>', 'the batch the lines belong to (default: the file name); a follower is granted once per batch, however the file is edited and re-run')
    .option('--dry-run', 'run every check a real run runs (amounts, limits, budget, pause) and say what it would pay and refuse; record nothing')
    .action(async function sendFileCommand(file: string, opts: { campaign: string; batch?: string; dryRun?: boolean }) {
      const text = fs.readFileSync(file, 'utf8');
      const batch = batchName(opts.batch, file);
      await withContext(async (ctx) => {
        const config = ctx.config();
        const campaign = config.campaigns[opts.campaign];
        if (!isRedPacketCampaign(campaign))
          throw new Error(`no red-packet campaign named ${opts.campaign} in campaigns.yaml (defined: ${Object.keys(config.campaigns).join(', ') || 'none'})`);
        const range = amountRangeFor(campaign, config.limits);
        const parsed = parseSendFile(text, {
          expectedAppId: campaign.wxAppId ?? ctx.appId,
          amountRangeFen: { min: range.min * campaign.totalNum, max: range.max * campaign.totalNum },
        });
        if (!parsed.ok) throw new SendFileError(parsed.problems);
        const rewards = createRewards({ ledger: ctx.ledger, config: () => config, clock: ctx.clock, mchId: ctx.mchId, log: ctx.log, kinds: REWARD_KINDS });
        const report = await sendFile({ rewards, ledger: ctx.ledger, clock: ctx.clock }, parsed.file, { campaign: opts.campaign, batch, dryRun: opts.dryRun });
        const verb = report.dryRun ? 'would be recorded' : 'recorded now';
        out(
          `${file} (batch ${batch}, campaign ${opts.campaign}): ${report.lines} line(s); ${report.granted} ${verb} (${fenToYuan(report.amountFen)} yuan), ` +
            `${report.alreadyRecorded} granted by an earlier run, ${report.refused.length} ${report.dryRun ? 'would be refused' : 'refused'}`,
        );
        for (const r of report.refused) out(`  line ${r.line}: ${r.openId} ${r.outcome}${r.reason ? ` (${r.reason})` : ''}`);
        if (report.dryRun) out('Nothing was recorded (--dry-run).');
        else if (report.granted > 0) out('The running bot sends them (outbox worker); see "wechat-bot redpack batch status".');
        if (report.dryRun ? report.refused.length > 0 : report.granted === 0 && report.refused.length > 0) process.exitCode = 1;
      });
    });

  redpack
    .command('batch')
    .description('Batches recorded by send-file')
    .command('status')
    .description('What a batch has come to: its followers per status and amount, and the lines refused (with why)')
    .argument('<name>', 'the batch name (send-file --batch, default the file name)')
    .option('--campaign <name>', 'only this campaign (default: every campaign with a batch of that name)')
    .action(async function batchStatusCommand(name: string, opts: { campaign?: string }) {
      await withContext(async (ctx) => {
        const rows = await batchGrants(ctx.ledger, name, opts.campaign);
        if (rows.length === 0) {
          out(`no batch named ${name}${opts.campaign ? ` in campaign ${opts.campaign}` : ''} in the ledger`);
          process.exitCode = 1;
          return;
        }
        const byStatus = new Map<string, { count: number; fen: number }>();
        for (const g of rows) {
          const k = `${g.campaign}\t${g.status}`;
          const t = byStatus.get(k) ?? { count: 0, fen: 0 };
          t.count += 1;
          if (!NOT_PAID.has(g.status)) t.fen += g.amountFen;
          byStatus.set(k, t);
        }
        out(
          table([
            ['CAMPAIGN', 'STATUS', 'FOLLOWERS', 'AMOUNT (yuan)'],
            ...[...byStatus].map(([k, t]) => [...k.split('\t'), String(t.count), t.fen ? fenToYuan(t.fen) : '-']),
          ]),
        );
        for (const g of rows.filter((r) => NOT_PAID.has(r.status)))
          out(
            `  ${g.openId} ${g.status}: ${g.status === 'CANCELLED' ? operatorNote(g) : (g.reason ?? g.lastError ?? '')}${g.reissuedAs ? ` (reissued as ${g.reissuedAs})` : ''}`,
          );
      });
    });

  redpack
    .command('status')
    .description('Show one red packet by bill number')
    .argument('<billno>', 'the 28-digit mch_billno')
    .option('--query', 'also ask WeChat Pay (gethbinfo)')
    .option('--json', 'machine-readable output')
    .action(async function statusCommand(billNo: string, opts: { query?: boolean; json?: boolean }) {
      await withContext(async (ctx) => {
        const g = await ctx.ledger.findByBillNo(billNo);
        const remote = opts.query ? await ctx.redpack().query(billNo, typeof g?.payload.subMchId === 'string' ? { subMchId: g.payload.subMchId } : {}) : undefined;
        if (opts.json) {
          out(JSON.stringify({ ledger: g ?? null, ...(remote ? { wechatPay: remote } : {}) }, null, 2));
        } else {
          out(g ? table(grantLines(g)) : `${billNo}: not in the ledger`);
          if (remote)
            out(
              remote.status === 'found'
                ? `WeChat Pay: ${remote.info.status}${remote.info.reason ? ` (${remote.info.reason})` : ''}, detail_id ${remote.info.detailId}`
                : remote.status === 'not_found'
                  ? 'WeChat Pay: no such bill'
                  : `WeChat Pay query failed: ${remote.code} ${remote.message}`,
            );
        }
        if (!g) process.exitCode = 1;
      });
    });

  type OperatorOpts = { reason: string; by?: string; dryRun?: boolean };
  type OperatorHandler = (billNo: string, opts: OperatorOpts, ctx: RewardsCliContext, who: { by: string; reason: string; now: number }) => Promise<void>;
  /** `redpack cancel|reissue <billno> --reason --by --dry-run`: an operator's action on one grant. */
  function operatorCommand(name: string, text: { description: string; bill: string; dryRun: string }, handler: OperatorHandler): void {
    redpack
      .command(name)
      .description(text.description)
      .argument('<billno>', text.bill)
      .requiredOption('--reason <text>', 'why (kept in the ledger and shown by "ledger")')
      .option('--by <name>', 'the operator (default: your OS user name)')
      .option('--dry-run', text.dryRun)
      .action(async function operatorAction(billNo: string, opts: OperatorOpts) {
        await withContext((ctx) => handler(billNo, opts, ctx, operatorOf(opts, ctx.clock.now())));
      });
  }

  operatorCommand(
    'cancel',
    {
      description: 'Cancel a red packet not sent yet (PENDING, DEFERRED) or HELD: it is never sent, its budget and limits are given back; recorded with who and why',
      bill: 'the 28-digit mch_billno (see "ledger --grants")',
      dryRun: 'say what would happen; change nothing',
    },
    async function cancelCommand(billNo, opts, ctx, who) {
      if (opts.dryRun) {
        const g = await ctx.ledger.findByBillNo(billNo);
        const refused = cancelRefusal(g, billNo);
        if (refused) {
          out(`would not cancel ${billNo}: ${refused.message}. Nothing was changed (--dry-run).`);
          process.exitCode = 1;
          return;
        }
        out(`would cancel ${billNo}: ${grantSummary(g!)} would never be sent, and its budget and limits would be given back. Nothing was changed (--dry-run).`);
        return;
      }
      const r = await ctx.ledger.cancel(billNo, who);
      if (!r.ok) {
        out(`${billNo} was not cancelled: ${r.message}`);
        process.exitCode = 1;
        return;
      }
      out(
        `cancelled ${billNo} by ${who.by}: ${fenToYuan(r.grant.amountFen)} yuan to ${r.grant.openId} (campaign ${r.grant.campaign}) will never be sent; its budget and limits were given back`,
      );
    },
  );

  operatorCommand(
    'reissue',
    {
      description:
        "Pay a FAILED red packet again as a new grant (new bill number, linked to the old one), checked against the campaign's limits now; once per bill; recorded with who and why",
      bill: 'the failed grant\'s 28-digit mch_billno (see "ledger --grants")',
      dryRun: 'run the same checks and say what would happen; record nothing',
    },
    async function reissueCommand(billNo, opts, ctx, who) {
      const refuse = (message: string) => {
        out(`${opts.dryRun ? 'would not reissue' : 'did not reissue'} ${billNo}: ${message}${opts.dryRun ? '. Nothing was changed (--dry-run).' : ''}`);
        process.exitCode = 1;
      };
      const plan = await prepareReissue({ ledger: ctx.ledger, config: ctx.config(), mchId: ctx.mchId }, billNo, who);
      if (!plan.ok) return refuse(plan.message);
      const old = plan.original;
      const paused = (await ctx.ledger.pausedCampaigns()).find((p) => p.campaign === old.campaign);
      const waits = paused ? `; campaign ${old.campaign} is paused (${paused.reason}): it waits until "campaign resume ${old.campaign}"` : '';
      if (opts.dryRun) {
        const usage = await usageNow(
          ctx.ledger,
          plan.input.reservations.map((r) => r.key),
        );
        const over = reissueLimitRefusal(plan.input.reservations, (k) => usage.get(k)!, old);
        if (over) return refuse(over.message);
        out(
          `would reissue ${billNo} as a new grant: ${fenToYuan(old.amountFen)} yuan to ${old.openId} (campaign ${old.campaign}), ` +
            `with a new bill number drawn when it is recorded${waits}. Nothing was recorded (--dry-run).`,
        );
        return;
      }
      const r = await reissueGrant({ ledger: ctx.ledger, config: ctx.config(), mchId: ctx.mchId }, billNo, who);
      if (!r.ok) return refuse(r.message);
      out(
        `reissued ${billNo} as ${r.grant.billNo} by ${who.by}: ${fenToYuan(r.grant.amountFen)} yuan to ${r.grant.openId} (campaign ${r.grant.campaign}), ` +
          `${r.grant.status}; the running bot sends it${waits}`,
      );
    },
  );

  program
    .command('ledger')
    .description('Red packets per campaign and status: counts and amounts')
    .option('--csv', 'CSV output')
    .option('--grants', 'every grant instead of the summary')
    .option('--campaign <name>', 'with --grants: only this campaign')
    .action(async function ledgerCommand(opts: { csv?: boolean; grants?: boolean; campaign?: string }) {
      await withContext(async (ctx) => {
        if (opts.grants) {
          const header = [
            'id',
            'created_at',
            'campaign',
            'openid',
            'amount_yuan',
            'bill_no',
            'status',
            'outcome',
            'reason',
            'attempts',
            'send_listid',
            'last_error',
            'operator_action',
            'operator',
            'operator_reason',
            'reissue_of',
            'reissued_as',
          ];
          const rows: unknown[][] = [];
          for (let afterId = 0; ;) {
            const page = await ctx.ledger.listAll({ campaign: opts.campaign, afterId, limit: 1000 });
            for (const g of page)
              rows.push([
                g.id,
                iso(g.createdAt),
                g.campaign,
                g.openId,
                fenToYuan(g.amountFen),
                g.billNo,
                g.status,
                g.outcome,
                g.reason,
                g.attempts,
                g.sendListId,
                g.lastError,
                g.operatorAction?.action ?? null,
                g.operatorAction?.by ?? null,
                g.operatorAction?.reason ?? null,
                g.reissueOf,
                g.reissuedAs,
              ]);
            if (page.length < 1000) break;
            afterId = page[page.length - 1].id;
          }
          out(opts.csv ? csv([header, ...rows]) : table([header, ...rows.map((r) => r.map((c) => (c === null ? '' : String(c))))]));
          return;
        }
        const summary = await ctx.ledger.summary();
        // Money columns hold only money paid or on its way; what refused or failed grants asked for
        // is shown apart, so no total ever mixes refused and paid money.
        const asked = (r: (typeof summary)[number]) => NOT_PAID.has(r.status);
        if (opts.csv) {
          out(
            csv([
              ['campaign', 'status', 'count', 'amount_yuan', 'not_paid_yuan'],
              ...summary.map((r) => [r.campaign, r.status, r.count, fenToYuan(asked(r) ? 0 : r.amountFen), fenToYuan(asked(r) ? r.amountFen : 0)]),
            ]),
          );
          return;
        }
        if (summary.length === 0) {
          out('The ledger is empty.');
          return;
        }
        out(
          table([
            ['CAMPAIGN', 'STATUS', 'COUNT', 'AMOUNT (yuan)', 'NOT PAID (yuan)'],
            ...summary.map((r) => [r.campaign, r.status, String(r.count), asked(r) ? '-' : fenToYuan(r.amountFen), asked(r) ? fenToYuan(r.amountFen) : '-']),
          ]),
        );
        const paused = await ctx.ledger.pausedCampaigns();
        for (const p of paused) out(`PAUSED ${p.campaign} by ${p.by} at ${iso(p.pausedAt)}: ${p.reason}`);
        for (const g of await ctx.ledger.listByStatus(['HELD']))
          out(`HELD grant ${g.id} (${g.campaign}, bill ${g.billNo}, ${fenToYuan(g.amountFen)} yuan to ${g.openId}): ${g.reason ?? ''}`);
        for (const g of await ctx.ledger.listByStatus(['CANCELLED'], { limit: OPERATOR_LINES }))
          out(`CANCELLED bill ${g.billNo} (${g.campaign}, ${fenToYuan(g.amountFen)} yuan to ${g.openId}) ${operatorNote(g)}`);
        const reissued = (await ctx.ledger.listByStatus(['FAILED'])).filter((g) => g.reissuedAs !== null);
        for (const g of reissued.slice(0, OPERATOR_LINES))
          out(`REISSUED bill ${g.billNo} as ${g.reissuedAs} (${g.campaign}, ${fenToYuan(g.amountFen)} yuan to ${g.openId}) ${operatorNote(g)}`);
        if (reissued.length > OPERATOR_LINES) out(`… and ${reissued.length - OPERATOR_LINES} more reissued (ledger --grants lists every one)`);
      });
    });

  const campaign = program.command('campaign').description('Pause, resume or list red-packet campaigns');
  campaign
    .command('pause')
    .argument('<name>', 'campaign name')
    .option('--reason <text>', 'why (shown in "ledger" and logs)', 'paused by an operator')
    .description('Stop a campaign: new grants answer campaign_over, queued packets wait with their bill numbers')
    .action(async function pauseCommand(name: string, opts: { reason: string }) {
      await withContext(async (ctx) => {
        const r = await pauseCampaign({ ledger: ctx.ledger, config: ctx.config() }, { name, reason: opts.reason, now: ctx.clock.now() });
        if (!r.ok) throw new Error(r.message);
        out(r.message);
      });
    });
  campaign
    .command('resume')
    .argument('<name>', 'campaign name')
    .description('Let a paused campaign grant and send again (queued packets go out with their original bill numbers)')
    .action(async function resumeCommand(name: string) {
      await withContext(async (ctx) => {
        // A paused name no longer in campaigns.yaml can still be resumed (its queued packets wait on it).
        const r = await resumeCampaign({ ledger: ctx.ledger, config: ctx.config() }, name);
        if (!r.ok && r.code === 'unknown_campaign') throw new Error(r.message);
        out(r.message);
        if (!r.ok) process.exitCode = 1;
      });
    });
  campaign
    .command('list')
    .description('Campaigns with budget use and pause state')
    .action(async function listCommand() {
      await withContext(async (ctx) => {
        const rows = [['CAMPAIGN', 'KIND', 'PACKETS', 'SPENT (yuan)', 'STATE']];
        for (const c of await campaignStatuses(ctx.ledger, ctx.config(), ctx.clock.now())) {
          if (c.kind !== 'red_packet') continue;
          rows.push([
            c.name,
            c.type ?? '',
            `${c.used.count}/${c.maxCount}`,
            `${fenToYuan(c.used.amountFen)}/${fenToYuan(c.budgetFen ?? 0)}`,
            c.paused ? `paused (${c.paused.reason})` : c.enabled ? 'active' : 'off',
          ]);
        }
        out(table(rows));
      });
    });

  program
    .command('reconcile')
    .description('Ask WeChat Pay about SENT red packets now and record RECEIVED / REFUND / RFUND_ING')
    .option('--limit <n>', 'packets to check', '500')
    .action(async function reconcileCommand(opts: { limit: string }) {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new Error('--limit must be a positive whole number');
      await withContext(async (ctx) => {
        const config = ctx.config();
        const report = await reconcile({ ledger: ctx.ledger, redpack: ctx.redpack(), clock: ctx.clock, log: ctx.log, config: () => config, limit });
        out(
          `checked ${report.checked}: ${report.received} received, ${report.refunded} refunded, ${report.refunding} refunding, ` +
            `${report.unchanged} unchanged, ${report.errors} query errors, ${report.anomalies} anomalies, ${report.collisions} held as bill-number collisions`,
        );
        if (report.anomalies > 0 || report.collisions > 0) process.exitCode = 2;
      });
    });
}
