/**
 * Operator commands for spend-and-get (满额送):
 *
 *   orders [--grants] [--csv] [--limit N]     recorded payment orders and what each earned
 *                                             (--grants: the spend-triggered grants of the ledger with their order)
 *   rules explain --order AMOUNT [--attach T] [--tag T] [--at TIME]
 *                                             which spend rule and tier an order of AMOUNT yuan earns
 *   sandbox pay --openid O --amount 120.00 [--v3] [--url URL]
 *                                             play WeChat Pay: send a signed payment notification to the bot,
 *                                             re-sending on WeChat's schedule until it answers success
 *
 * They use the same stores as the bot: PostgreSQL when DATABASE_URL is set, else SQLite at
 * BOT_DATA_DIR/BOT_SQLITE_FILE.
 *
 * @example npx wechat-bot sandbox pay --openid o-alice --amount 120.00 --v3
 * @see https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7&index=8
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { loadSettings, SANDBOX_CREDENTIALS } from '../../config/settings';
import { fenToYuan, yuanToFen } from '../../lib/money';
import type { Ledger } from '../../rewards/ledger';
import {
  buildV2Notification,
  buildV3Notification,
  SANDBOX_PAY_PLATFORM,
  sandboxTransactionId,
  sendPayNotification,
  WECHAT_PAY_RESEND_SCHEDULE_MS,
} from '../../sandbox/pay-notifier';
import type { OrderStore } from '../../spend/order-store';
import { describeEarned, orderEarned } from '../../spend/order-earned';
import { explainSpendRules } from '../../spend/select-spend-tier';
import { openDurableStores } from '../../store/open-stores';
import { noteToStderr, runningSandbox, targetLine } from '../context';
import { processIo, type CliIo } from './config';
import { parseAt } from '../parse-at';
import { loadConfigOrReport } from '../load-config-or-fail';

// === rules explain --order

/** Options of {@link runExplainOrder}. */
export interface ExplainOrderOptions {
  dir?: string;
  views?: string;
  /** Beijing time of the payment (default now). */
  at?: string;
  attach?: string;
  tag?: string | string[];
}

/**
 * Explains which spend rule and tier an order of `amount` yuan earns; returns the exit code.
 *
 * @example runExplainOrder('120.00', { dir: 'config' }, processIo)
 * @see https://pay.weixin.qq.com/wiki/doc/api/tools/cash_coupon.php?chapter=13_4&index=3
 */
export function runExplainOrder(amount: string, o: ExplainOrderOptions, io: CliIo, deps: { nowMs?: number } = {}): number {
  const totalFen = yuanToFen(amount);
  if (totalFen === undefined) {
    io.err(`--order "${amount}" is not an amount in yuan with at most 2 decimals (e.g. 120.00)`);
    return 1;
  }
  let at: number;
  try {
    at = o.at ? parseAt(o.at) : (deps.nowMs ?? Date.now());
  } catch (err) {
    io.err((err as Error).message);
    return 1;
  }
  const config = loadConfigOrReport(o, io);
  if (!config) return 1;
  const spend = config.files.spend;
  const tags = o.tag === undefined ? [] : Array.isArray(o.tag) ? o.tag : [o.tag];
  io.out(`order: ${fenToYuan(totalFen)} yuan${o.attach ? `, attach ${JSON.stringify(o.attach)}` : ''}${tags.length ? `, tags ${tags.join(', ')}` : ''}`);
  if (spend.rules.length === 0) {
    io.out('no spend rules are configured (spend.yaml): the order earns nothing');
    return 0;
  }
  const verdicts = explainSpendRules(spend, { totalFen, attach: o.attach ?? '', productTags: tags }, at);
  const hit = verdicts.find((v) => v.tier);
  for (const v of verdicts) {
    const tiers = [...v.rule.tiers]
      .reverse()
      .map((t) => `≥ ${fenToYuan(t.minFen)} → ${fenToYuan(t.amountFen)}`)
      .join(', ');
    if (v === hit)
      io.out(
        `rule "${v.rule.id}" applies: tier ≥ ${fenToYuan(v.tier!.minFen)} yuan → red packet of ${fenToYuan(v.tier!.amountFen)} yuan from campaign "${v.rule.campaign}"`,
      );
    else if (v.tier) io.out(`rule "${v.rule.id}" would apply, but an earlier rule decides (one packet per order)`);
    else io.out(`rule "${v.rule.id}" does not apply: ${v.reason}`);
    io.out(`  tiers: ${tiers}`);
  }
  if (!hit) io.out('the order earns nothing');
  else io.out(`(the campaign's budget, per-follower and daily limits still apply when the grant is recorded; nothing granted now)`);
  return 0;
}

// === orders

/** What the `orders` command needs. */
export interface OrdersCliContext {
  orders: OrderStore;
  ledger: Ledger;
  close(): Promise<void>;
}

/** Injection points for tests. */
export interface SpendCommandDeps {
  createContext?: () => Promise<OrdersCliContext>;
  out?: (text: string) => void;
}

/**
 * Opens the order store and the ledger the settings name.
 *
 * @example const ctx = await createOrdersCliContext(process.env); … await ctx.close();
 * @see https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7&index=8
 */
export async function createOrdersCliContext(
  env: Record<string, string | undefined> = process.env,
  note: (line: string) => void = noteToStderr,
): Promise<OrdersCliContext> {
  const settings = loadSettings(env);
  note(targetLine(settings));
  return openDurableStores(settings.store);
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n');
}

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? '' : new Date(ms).toISOString());

/**
 * Registers `orders` (loaded by `src/cli/main.ts`).
 *
 * @example register(program)
 * @see https://github.com/tj/commander.js
 */
export function register(program: Command, deps: SpendCommandDeps = {}): void {
  const out = deps.out ?? ((text: string) => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`));
  const makeContext = deps.createContext ?? (() => createOrdersCliContext(process.env));

  program
    .command('orders')
    .description('Payment orders from WeChat Pay notifications and what each earned (spend-and-get)')
    .option('--grants', 'the spend-triggered grants of the ledger, each with its order')
    .option('--csv', 'CSV output')
    .option('--limit <n>', 'newest orders to show', '100')
    .action(async function ordersCommand(opts: { grants?: boolean; csv?: boolean; limit: string }) {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new Error('--limit must be a positive whole number');
      const ctx = await makeContext();
      try {
        let rows: string[][];
        if (opts.grants) {
          rows = [['grant_id', 'created_at', 'campaign', 'openid', 'amount_yuan', 'bill_no', 'status', 'outcome', 'transaction_id', 'order_yuan', 'rule']];
          for (let afterId = 0; ;) {
            const page = await ctx.ledger.listAll({ afterId, limit: 1000 });
            for (const g of page) {
              if (!g.ruleId.startsWith('spend:')) continue;
              const o = await ctx.orders.findOrder(g.dedupeKey);
              rows.push([
                String(g.id),
                iso(g.createdAt),
                g.campaign,
                g.openId,
                fenToYuan(g.amountFen),
                g.billNo ?? '',
                g.status,
                g.outcome,
                g.dedupeKey,
                o ? fenToYuan(o.totalFen) : '?',
                g.ruleId.slice(6),
              ]);
            }
            if (page.length < 1000) break;
            afterId = page[page.length - 1].id;
          }
        } else {
          rows = [['received_at', 'transaction_id', 'openid', 'order_yuan', 'protocol', 'rule', 'earned', 'bill_no']];
          for (const o of await ctx.orders.listOrders({ limit })) {
            const g = o.decision ? await ctx.ledger.findByKey(o.transactionId, o.decision.ruleId) : undefined;
            rows.push([
              iso(o.receivedAt),
              o.transactionId,
              o.openId,
              fenToYuan(o.totalFen),
              o.protocol,
              o.decision ? `${o.decision.ruleId.slice(6)} ≥${fenToYuan(o.decision.tierMinFen)}` : '-',
              describeEarned(orderEarned(o, g)),
              g?.billNo ?? o.grant?.billNo ?? '',
            ]);
          }
        }
        if (opts.csv) out(rows.map((r) => r.map(csvCell).join(',')).join('\n'));
        else if (rows.length === 1) out(opts.grants ? 'No spend-triggered grants yet.' : 'No orders recorded yet.');
        else out(table(rows));
      } finally {
        await ctx.close();
      }
    });
}

// === sandbox pay

/** Options of `sandbox pay`. */
export interface SandboxPayOptions {
  openid: string;
  amount: string;
  v3?: boolean;
  url?: string;
  attach?: string;
  tag?: string;
  transactionId?: string;
  failed?: boolean;
  signType?: string;
  platformKey?: string;
  once?: boolean;
}

/**
 * Sends one sandbox payment notification to the bot; returns the exit code (0 delivered).
 *
 * @example await runSandboxPay({ openid: 'o-alice', amount: '120.00', v3: true, url }, processIo, { schedule: [] })
 * @see https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7&index=8
 */
export async function runSandboxPay(
  o: SandboxPayOptions,
  io: CliIo,
  deps: { env?: Record<string, string | undefined>; schedule?: readonly number[]; sleep?: (ms: number) => Promise<void>; now?: () => number } = {},
): Promise<number> {
  const env = deps.env ?? process.env;
  const now = deps.now ?? Date.now;
  const totalFen = yuanToFen(o.amount);
  if (totalFen === undefined || totalFen <= 0) {
    io.err(`--amount "${o.amount}" is not an amount in yuan with at most 2 decimals (e.g. 120.00)`);
    return 1;
  }
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(o.openid ?? '')) {
    io.err('--openid must be an openid (letters, digits, - and _)');
    return 1;
  }
  const settings = loadSettings(env);
  const mchId = settings.pay.mchId;
  if (!mchId) {
    io.err('no merchant configured (WECHAT_MCH_ID)');
    return 1;
  }
  const running = settings.sandbox ? runningSandbox(settings) : undefined;
  const url = o.url ?? (running?.webhook ? `${new URL(running.webhook).origin}${settings.payNotifyPath}` : `http://127.0.0.1:${settings.port}${settings.payNotifyPath}`);
  const payment = {
    appId: settings.wechat.appId,
    mchId,
    openId: o.openid,
    totalFen,
    transactionId: o.transactionId ?? sandboxTransactionId(now()),
    outTradeNo: `sandbox${now()}`,
    attach: o.attach,
    goodsTag: o.tag,
    failed: o.failed,
    paidAt: now(),
  };
  let build: (attempt: number) => { body: string; headers?: Record<string, string> };
  if (o.v3) {
    const apiV3Key = settings.pay.apiV3Key ?? (settings.sandbox ? SANDBOX_CREDENTIALS.apiV3Key : undefined);
    if (!apiV3Key) {
      io.err('--v3 needs WECHAT_PAY_APIV3_KEY');
      return 1;
    }
    const keyFile = o.platformKey ?? (settings.sandbox || settings.pay.platformCertPaths.length === 0 ? SANDBOX_PAY_PLATFORM.key : undefined);
    if (!keyFile) {
      io.err('--v3 outside sandbox mode needs --platform-key (the private key of a platform certificate the bot trusts)');
      return 1;
    }
    const platformKeyPem = fs.readFileSync(keyFile, 'utf8');
    build = () => buildV3Notification(payment, { apiV3Key, nowSeconds: Math.floor(now() / 1000), platformKeyPem });
  } else {
    const key = settings.pay.key;
    if (!key) {
      io.err('v2 needs WECHAT_PAY_KEY');
      return 1;
    }
    const signType = (o.signType ?? 'MD5').toUpperCase();
    if (signType !== 'MD5' && signType !== 'HMAC-SHA256') {
      io.err('--sign-type must be MD5 or HMAC-SHA256');
      return 1;
    }
    const xml = buildV2Notification(payment, key, signType);
    build = () => ({ body: xml });
  }
  io.out(`paying ${fenToYuan(totalFen)} yuan as ${o.openid}: transaction ${payment.transactionId} (${o.v3 ? 'v3' : 'v2'}) → ${url}`);
  const result = await sendPayNotification({
    url,
    protocol: o.v3 ? 'v3' : 'v2',
    build,
    schedule: o.once ? [] : (deps.schedule ?? WECHAT_PAY_RESEND_SCHEDULE_MS),
    sleep: deps.sleep,
    onAttempt: (a) =>
      io.out(`  attempt ${a.attempt}: ${a.ok ? 'success' : `not success (${a.status ? `HTTP ${a.status}` : 'no answer'}${a.message ? `: ${a.message}` : ''})`}`),
  });
  io.out(result.delivered ? 'delivered: the bot answered success' : `gave up after ${result.attempts.length} attempt(s)`);
  return result.delivered ? 0 : 2;
}

/**
 * Adds `pay` under the `sandbox` command group (called by `src/cli/commands/sandbox.ts`).
 *
 * @example addSandboxPayCommand(program.command('sandbox'))
 * @see https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_7&index=8
 */
export function addSandboxPayCommand(sandbox: Command, io: CliIo = processIo): void {
  sandbox
    .command('pay')
    .description("play WeChat Pay: send a signed payment notification to the bot (re-sent on WeChat's schedule until it answers success)")
    .requiredOption('--openid <openid>', 'the payer')
    .requiredOption('--amount <yuan>', 'the order amount in yuan (e.g. 120.00)')
    .option('--v3', 'a v3 notification (JSON, AEAD_AES_256_GCM, platform signature) instead of v2 XML')
    .option('--url <url>', "the bot's notify URL (default: the running sandbox bot, or http://127.0.0.1:$PORT$BOT_PAY_NOTIFY_PATH)")
    .option('--attach <text>', "the order's attach field")
    .option('--tag <tag>', "the order's goods_tag")
    .option('--transaction-id <id>', 'reuse a transaction id (default: a fresh one)')
    .option('--failed', 'a failed payment')
    .option('--sign-type <type>', 'v2: MD5 (default) or HMAC-SHA256')
    .option('--platform-key <file>', "v3: the platform private key to sign with (default: the sandbox's)")
    .option('--once', 'one attempt, no re-sends')
    .action(async (opts: SandboxPayOptions) => {
      process.exitCode = await runSandboxPay(opts, io);
    });
}
