/**
 * `npx wechat-bot sandbox [serve]`: runs the stand-in of WeChat's servers on its own — the
 * official-account API over HTTP and WeChat Pay over HTTPS with client certificates — and prints the
 * environment a bot needs to use them. Stops on Ctrl-C. Its Pay state lives in `data/sandbox-state.json`
 * (a restart keeps every bill); `sandbox payments | receive | refund-unclaimed | faults` work on the
 * running sandbox through its control endpoint (found in `data/sandbox.json`).
 *
 * @example npx wechat-bot sandbox --api-port 8081 --pay-port 8082
 */
import type { Command } from 'commander';
import { loadSettings, SANDBOX_CREDENTIALS } from '../../config/settings';
import { createLogger } from '../../lib/logger';
import { startApiSandbox } from '../../sandbox/api-server';
import { SANDBOX_PAY_CERTS, startPaySandbox, type PaySandboxFaults } from '../../sandbox/pay-server';
import { startSandboxControl } from '../../sandbox/control-server';
import { readSandboxInfo, removeSandboxInfo, sandboxInfoFile, sandboxStateFile, writeSandboxInfo } from '../../sandbox/sandbox-info';
import { processIo, type CliIo } from './config';
import { runSandboxFaults, runSandboxPayments, runSandboxReceive, runSandboxRefundUnclaimed } from './sandbox-control';
import { addSandboxPayCommand } from './spend';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`"${value}" is not a port number (0–65535)`);
  return n;
}

/** Fault flags of `sandbox serve`, as commander hands them over (strings, or undefined when absent). */
export interface SandboxFaultFlags {
  systemErrorRate?: string;
  timeoutRate?: string;
  resetRate?: string;
  http5xxRate?: string;
  paidShare?: string;
  processingRate?: string;
  processingFailShare?: string;
  latencyMs?: string;
  errCode?: string;
}

const RATE_FLAGS = [
  ['systemErrorRate', '--system-error-rate'],
  ['timeoutRate', '--timeout-rate'],
  ['resetRate', '--reset-rate'],
  ['http5xxRate', '--http5xx-rate'],
  ['paidShare', '--paid-share'],
  ['processingRate', '--processing-rate'],
  ['processingFailShare', '--processing-fail-share'],
] as const;

/**
 * Turns the fault flags of `sandbox serve` into Pay sandbox faults; a bad value throws an error that
 * names the flag and the allowed range, and nothing starts.
 *
 * @example faultsFromFlags({ systemErrorRate: '1' }) // { systemErrorRate: 1 }
 */
export function faultsFromFlags(flags: SandboxFaultFlags): PaySandboxFaults {
  const faults: PaySandboxFaults = {};
  for (const [key, flag] of RATE_FLAGS) {
    const raw = flags[key];
    if (raw === undefined) continue;
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new Error(`${flag} "${raw}" is not a rate: give a number from 0 to 1, e.g. ${flag} 0.2`);
    faults[key] = n;
  }
  if (flags.latencyMs !== undefined) {
    const n = Number(flags.latencyMs);
    if (!Number.isInteger(n) || n < 0 || n > 60_000) throw new Error(`--latency-ms "${flags.latencyMs}" is not a delay: give whole milliseconds from 0 to 60000`);
    faults.latencyMs = n;
  }
  if (flags.errCode !== undefined) {
    if (!/^[A-Z_]{2,32}$/.test(flags.errCode))
      throw new Error(`--err-code "${flags.errCode}" is not a WeChat Pay err_code: give upper-case letters and _, e.g. --err-code NOTENOUGH`);
    faults.errCode = flags.errCode;
  }
  return faults;
}

/**
 * The environment a bot needs to use the stand-ins at these URLs, as lines that paste into `.env`
 * unchanged (comments start with `#`, one KEY=value a line, nothing after a value).
 *
 * @example sandboxEnvText('http://127.0.0.1:8081', 'https://127.0.0.1:8082')
 */
export function sandboxEnvText(apiUrl: string, payUrl: string): string {
  return [
    '# Sandbox running. Paste these lines into the .env of a bot (beside its package.json) and start it:',
    `WECHAT_API_BASE=${apiUrl}`,
    `WECHAT_APPID=${SANDBOX_CREDENTIALS.appId}`,
    `WECHAT_APPSECRET=${SANDBOX_CREDENTIALS.appSecret}`,
    `WECHAT_TOKEN=${SANDBOX_CREDENTIALS.token}`,
    `WECHAT_PAY_API_BASE=${payUrl}`,
    `WECHAT_MCH_ID=${SANDBOX_CREDENTIALS.mchId}`,
    `WECHAT_PAY_KEY=${SANDBOX_CREDENTIALS.payKey}`,
    `WECHAT_PAY_CERT=${SANDBOX_PAY_CERTS.p12}`,
    "# the Pay stand-in's certificate authority (trusted for Pay calls only; never set it for the real server):",
    `WECHAT_PAY_CA=${SANDBOX_PAY_CERTS.ca}`,
    '# Press Ctrl-C to stop.',
    '',
  ].join('\n');
}

/** The fault flags shared by `sandbox serve` and `sandbox faults`. */
function addFaultFlags(command: Command): Command {
  return command
    .option('--system-error-rate <rate>', 'share of Pay calls answered SYSTEMERROR (0–1)')
    .option('--timeout-rate <rate>', 'share of Pay calls never answered (0–1)')
    .option('--reset-rate <rate>', 'share of Pay calls whose connection is reset (0–1)')
    .option('--http5xx-rate <rate>', 'share of Pay calls answered HTTP 503 (0–1)')
    .option('--paid-share <rate>', 'of the sends that lose their answer, the share that WAS paid ("paid then lost answer"; 0–1, default 0.5)')
    .option('--processing-rate <rate>', 'share of sends answered PROCESSING (status SENDING until the next query) (0–1)')
    .option('--processing-fail-share <rate>', 'of the PROCESSING sends, the share that end FAILED instead of SENT (0–1, default 0)')
    .option('--latency-ms <ms>', 'delay before every Pay answer')
    .option('--err-code <code>', 'answer every send with this err_code, e.g. NOTENOUGH');
}

/** The data folder the bot and the CLI use (BOT_DATA_DIR, default data/ beside package.json). */
function dataDir(): string {
  return loadSettings(process.env).dataDir;
}

/**
 * `sandbox serve`: starts the stand-ins and the control endpoint, keeps the Pay state in
 * `data/sandbox-state.json`, writes `data/sandbox.json` and runs until SIGINT / SIGTERM.
 */
async function serve(opts: { apiPort: number; payPort: number } & SandboxFaultFlags): Promise<void> {
  const faults = faultsFromFlags(opts);
  const dir = dataDir();
  const infoFile = sandboxInfoFile(dir);
  const running = readSandboxInfo(infoFile);
  if (running)
    throw new Error(`a sandbox is already running on this data folder (pid ${running.pid}, ${infoFile}): stop it first, or set BOT_DATA_DIR to another folder`);
  const log = createLogger({ level: process.env.LOG_LEVEL ?? 'info' });
  const api = await startApiSandbox({ port: opts.apiPort, acceptAnyFollower: true });
  const pay = await startPaySandbox({ port: opts.payPort, log, stateFile: sandboxStateFile(dir) });
  pay.faults.set(faults);
  const control = await startSandboxControl({ pay });
  writeSandboxInfo(infoFile, { pid: process.pid, api: api.url, pay: pay.url, control: control.url, token: control.token });
  process.stdout.write(sandboxEnvText(api.url, pay.url));
  process.stderr.write(
    `wechat-bot: control endpoint ${control.url} (token in ${infoFile}); Pay state kept in ${sandboxStateFile(dir)}.\n` +
      'wechat-bot: from another terminal: npx wechat-bot sandbox payments | receive BILLNO | refund-unclaimed | faults --help\n',
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  removeSandboxInfo(infoFile);
  await Promise.all([api.close(), pay.close(), control.close()]);
}

export function register(program: Command, io: CliIo = processIo): void {
  const sandbox = program.command('sandbox').description("WeChat's servers, stand-in: run them alone, or play WeChat towards a bot");
  addFaultFlags(
    sandbox
      .command('serve', { isDefault: true })
      .description('run the API and Pay stand-ins until Ctrl-C, print the env a bot needs to use them, and open a control endpoint on 127.0.0.1')
      .option('--api-port <port>', 'port of the API stand-in (0 = any)', port, 0)
      .option('--pay-port <port>', 'port of the Pay stand-in (0 = any)', port, 0),
  ).action(serve);
  sandbox
    .command('payments')
    .description('list what the running sandbox paid: bill number, openid, amount, times paid, state')
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: { json?: boolean }) => {
      process.exitCode = await runSandboxPayments(opts, io, { dataDir: dataDir() });
    });
  sandbox
    .command('receive')
    .description('play the follower: open the red packet BILLNO (SENT → RECEIVED)')
    .argument('<billno>', 'the mch_billno of a SENT red packet')
    .action(async (billNo: string) => {
      process.exitCode = await runSandboxReceive(billNo, io, { dataDir: dataDir() });
    });
  sandbox
    .command('refund-unclaimed')
    .description('refund the unclaimed (SENT or RFUND_ING) red packets now, as WeChat does after 24 h; exits 1 when there were none')
    .option('--older-than-minutes <n>', 'only packets sent at least this long ago (default 0: all)')
    .action(async (opts: { olderThanMinutes?: string }) => {
      process.exitCode = await runSandboxRefundUnclaimed(opts, io, { dataDir: dataDir() });
    });
  addFaultFlags(
    sandbox
      .command('faults')
      .description('change the faults of the running sandbox (merged into the current ones) and print those in force; no flag: print them')
      .option('--clear', 'remove every fault first'),
  ).action(async (opts: SandboxFaultFlags & { clear?: boolean }) => {
    const { clear, ...flags } = opts;
    process.exitCode = await runSandboxFaults({ faults: faultsFromFlags(flags), clear }, io, { dataDir: dataDir() });
  });
  addSandboxPayCommand(sandbox);
}
