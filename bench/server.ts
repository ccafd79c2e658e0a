/**
 * One benchmark server, run as a child process by `bench/run.ts`: `tsx bench/server.ts <mode>`.
 * Prints `LISTENING <port>` when ready.
 *
 * - `bare`: a bare Koa app that only reads the body and returns a fixed XML string (the baseline).
 * - `plain` / `safe`: the real bot (createBot, SQLite store, echo-like rules) in plain or safe mode.
 * - `rules-10` / `rules-1000`: the real bot with 10 rules, or 1,000 keyword rules + 50 regex rules.
 *
 * The bot logs as in production: `createLogger` at LOG_LEVEL=info with the secrets scrubbed, through
 * pino's asynchronous destination, so every request pays for its access line; only the file differs
 * (`/dev/null` instead of stdout, which `run.ts` reads for `LISTENING`).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Koa from 'koa';
import { removeOnExit } from './report';
import { BENCH, type BenchMode } from './requests';

const FIXED =
  '<xml><ToUserName><![CDATA[o_bench]]></ToUserName><FromUserName><![CDATA[gh_bench]]></FromUserName>' +
  '<CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hello]]></Content></xml>';

/** The repo's views, whether this runs from bench/ or from dist/bench/. */
const VIEWS_DIR = [path.join(__dirname, '..', 'views'), path.join(__dirname, '..', '..', 'views')].find((d) => fs.existsSync(path.join(d, 'text.xml.ejs')))!;

async function bare(): Promise<number> {
  const app = new Koa();
  app.use(async (ctx) => {
    const chunks: Buffer[] = [];
    for await (const c of ctx.req) chunks.push(c as Buffer);
    Buffer.concat(chunks).toString('utf8');
    ctx.type = 'application/xml';
    ctx.body = FIXED;
  });
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : 0);
    });
  });
}

function tenRules(): string {
  const lines = ['rules:'];
  for (let i = 0; i < 9; i++) {
    lines.push(`  - id: r${i}`, `    match: { content: { keywords: ["kw${i}"] } }`, `    actions: [ { reply: "Answer ${i}" } ]`);
  }
  lines.push('  - id: hello', '    match: { content: { prefix: "hello", ignoreCase: true } }', '    actions: [ { reply: "Hi <%= openid %>" } ]');
  lines.push('default:', '  - reply: "Send help for the menu."');
  return lines.join('\n') + '\n';
}

async function bot(mode: BenchMode): Promise<number> {
  // Loaded here, not at the top, so the bare baseline doesn't carry the bot's modules in its RSS.
  const { createBot } = await import('../src/bot/create-bot');
  const { loadSettings } = await import('../src/config/settings');
  const { createLogger } = await import('../src/lib/logger');
  const { makeKeywordRules } = await import('../src/rules/bench-rules');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wechat-bot-bench-'));
  removeOnExit(dir);
  const configDir = path.join(dir, 'config');
  fs.mkdirSync(configDir);
  let rules = tenRules();
  if (mode === 'rules-1000') rules = makeKeywordRules(1000, 50);
  fs.writeFileSync(path.join(configDir, 'rules.yaml'), rules);
  const settings = loadSettings(
    {
      WECHAT_TOKEN: BENCH.token,
      WECHAT_APPID: BENCH.appId,
      WECHAT_APPSECRET: 'bench-secret-not-used-000000000000',
      WECHAT_ENCODING_AES_KEY: mode === 'safe' ? BENCH.encodingAESKey : undefined,
      BOT_CONFIG_DIR: configDir,
      BOT_DATA_DIR: path.join(dir, 'data'),
      BOT_VIEWS_DIR: VIEWS_DIR,
      WECHAT_API_BASE: 'http://127.0.0.1:9',
      LOG_LEVEL: 'info',
    },
    dir,
  );
  const { default: pino } = await import('pino');
  const log = createLogger({ level: settings.logLevel, secrets: settings.secrets, destination: pino.destination({ dest: os.devNull, sync: false }) });
  const b = await createBot({ settings, workers: false, watchConfig: false, log });
  const server = await b.listen(0, '127.0.0.1');
  const a = server.address();
  return typeof a === 'object' && a ? a.port : 0;
}

async function main(): Promise<void> {
  const mode = (process.argv[2] ?? 'plain') as BenchMode;
  const port = mode === 'bare' ? await bare() : await bot(mode);
  process.stdout.write(`LISTENING ${port}\n`);
  // Exit normally on a signal, so `node --cpu-prof` can write its profile.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(0));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
