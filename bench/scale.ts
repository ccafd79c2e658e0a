/**
 * Scale-out figures for `npm run bench` (section `scale`): the same bot on one instance vs two
 * instances sharing Redis + PostgreSQL, and one instance on Redis + PostgreSQL vs the embedded SQLite
 * default — for plain text replies (dedupe claim + rules + render) and for follows that grant a red
 * packet (dedupe + limits + ledger row + outbox row; the workers are off, so nothing is sent).
 *
 * Two instances are two processes behind a client-side round robin: two autocannon runs in parallel,
 * one per instance, each with half the connections; their req/s are summed and the worse p50/p99 is
 * shown. Every server is compiled JavaScript (`.bench-build`, as `bench/run.ts` builds it) in its own
 * process, so each peak RSS (VmHWM) is its own. Each case gets its own Redis prefix and PostgreSQL
 * schema, removed afterwards. Without Redis or PostgreSQL the Redis/PostgreSQL cases are skipped.
 *
 * This file is also the server: `node .bench-build/bench/scale.js serve` with `BENCH_RULES=text|follow`
 * and the store env (REDIS_URL, DATABASE_URL, BOT_REDIS_PREFIX, BOT_PG_SCHEMA, BOT_DATA_DIR) prints
 * `LISTENING <port>`.
 *
 * Options: BENCH_SECONDS (default 8), BENCH_CONNECTIONS (default 50), BENCH_REDIS_URL,
 * BENCH_DATABASE_URL (defaults: the local services).
 *
 * @example BENCH_ONLY=scale npm run bench
 * @see https://github.com/mcollina/autocannon
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { BENCH, computeSignature } from './requests';
import { peakRssMb, printThroughput, productionNodeFlags, removeOnExit } from './report';

const ROOT = [path.join(__dirname, '..'), path.join(__dirname, '..', '..')].find((d) => fs.existsSync(path.join(d, 'views', 'text.xml.ejs')))!;
const COMPILED = path.join(ROOT, '.bench-build', 'bench', 'scale.js');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

type Workload = 'text' | 'follow';
type StoreKind = 'sqlite' | 'redis+postgres';

// === The server (child process)

function rulesFor(workload: Workload): Record<string, string> {
  if (workload === 'text') {
    return {
      'rules.yaml': [
        'rules:',
        '  - id: hello',
        '    match: { content: { prefix: "hello", ignoreCase: true } }',
        '    actions: [ { reply: "Hi <%= openid %>" } ]',
        'default:',
        '  - reply: "Send help for the menu."',
        '',
      ].join('\n'),
    };
  }
  return {
    'rules.yaml': [
      'rules:',
      '  - id: follow-packet',
      '    match: { event: subscribe }',
      '    actions:',
      '      - grant: bench-packet',
      '        replies: { granted: "A ¥<%= amount %> red packet is on its way." }',
      'default:',
      '  - reply: "hello"',
      '',
    ].join('\n'),
    'campaigns.yaml': [
      'campaigns:',
      '  bench-packet:',
      '    kind: red_packet',
      '    amount: 1.00',
      '    send_name: bench',
      '    wishing: thanks',
      '    act_name: bench',
      '    remark: bench',
      '    budget: 100000000',
      '    max_packets: 100000000',
      '    per_user: 1',
      '',
    ].join('\n'),
    'limits.yaml': 'quiet_hours: off\nmerchant_daily: { amount: 100000000 }\n',
  };
}

async function serve(): Promise<void> {
  const { createBot } = await import('../src/bot/create-bot');
  const { loadSettings } = await import('../src/config/settings');
  const { createLogger } = await import('../src/lib/logger');
  const workload = (process.env.BENCH_RULES ?? 'text') as Workload;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wechat-bot-bench-scale-'));
  removeOnExit(dir);
  const configDir = path.join(dir, 'config');
  fs.mkdirSync(configDir);
  for (const [file, text] of Object.entries(rulesFor(workload))) fs.writeFileSync(path.join(configDir, file), text);
  const settings = loadSettings(
    {
      ...process.env,
      WECHAT_TOKEN: BENCH.token,
      WECHAT_APPID: BENCH.appId,
      WECHAT_APPSECRET: 'bench-secret-not-used-000000000000',
      BOT_CONFIG_DIR: configDir,
      BOT_DATA_DIR: process.env.BOT_DATA_DIR ?? path.join(dir, 'data'),
      BOT_VIEWS_DIR: path.join(ROOT, 'views'),
      WECHAT_API_BASE: 'http://127.0.0.1:9',
      LOG_LEVEL: 'warn',
    },
    dir,
  );
  const bot = await createBot({ settings, workers: false, watchConfig: false, log: createLogger({ level: 'warn' }) });
  const server = await bot.listen(0, '127.0.0.1');
  const a = server.address();
  process.stdout.write(`LISTENING ${typeof a === 'object' && a ? a.port : 0}\n`);
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.on(sig, () => {
      void bot.close().finally(() => process.exit(0));
    });
}

// === The driver

interface Figures {
  name: string;
  reqPerSec: number;
  p50: number;
  p99: number;
  /** Peak RSS of each server process, MB. */
  rssMb: number[];
  errors: number;
  non2xx: number;
}

interface Server {
  child: ChildProcess;
  port: number;
}

function startServer(workload: Workload, env: NodeJS.ProcessEnv): Promise<Server> {
  const child = spawn(process.execPath, [...productionNodeFlags(ROOT), COMPILED, 'serve'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env, BENCH_RULES: workload, LOG_LEVEL: 'warn' },
  });
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /LISTENING (\d+)/.exec(buf);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.on('exit', (code) => reject(new Error(`bench scale server exited with ${code}`)));
  });
}

async function stopServer(server: Server): Promise<void> {
  if (server.child.exitCode !== null) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** Signed requests: a fresh text message (new MsgId) or a follow by a new follower, every time. */
function requestMaker(workload: Workload, runTag: string): () => { path: string; body: string } {
  let n = 0;
  return function nextRequest() {
    n += 1;
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = String(100000 + (n % 900000));
    const query = `/wechat?signature=${computeSignature(BENCH.token, timestamp, nonce)}&timestamp=${timestamp}&nonce=${nonce}`;
    const head = `<xml><ToUserName><![CDATA[gh_bench]]></ToUserName>`;
    if (workload === 'text') {
      const body =
        `${head}<FromUserName><![CDATA[o_bench_${n % 1000}]]></FromUserName><CreateTime>${timestamp}</CreateTime>` +
        `<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hello ${n}]]></Content><MsgId>${7_100_000_000_000_000 + n}</MsgId></xml>`;
      return { path: query, body };
    }
    const body =
      `${head}<FromUserName><![CDATA[oBench${runTag}${String(n).padStart(8, '0')}]]></FromUserName><CreateTime>${timestamp}</CreateTime>` +
      `<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event></xml>`;
    return { path: query, body };
  };
}

function load(port: number, connections: number, duration: number, next: () => { path: string; body: string }) {
  return autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    duration,
    requests: [
      {
        method: 'POST',
        setupRequest: (req) => {
          const r = next();
          return { ...req, path: r.path, body: r.body, headers: { 'content-type': 'text/xml' } };
        },
      },
    ],
  });
}

let caseSeq = 0;

/** One case: `instances` servers on one store, loaded in parallel (connections split between them). */
async function measure(name: string, workload: Workload, store: StoreKind, instances: number): Promise<Figures> {
  caseSeq += 1;
  const tag = `${process.pid.toString(36)}${caseSeq}`;
  const schema = `bench_scale_${process.pid}_${caseSeq}`;
  const prefix = `wechat-bot-bench:${tag}:`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wechat-bot-bench-scale-data-'));
  const env: NodeJS.ProcessEnv =
    store === 'sqlite'
      ? { BOT_DATA_DIR: dataDir, REDIS_URL: '', DATABASE_URL: '' }
      : { BOT_DATA_DIR: dataDir, REDIS_URL, DATABASE_URL, BOT_REDIS_PREFIX: prefix, BOT_PG_SCHEMA: schema };
  const servers: Server[] = [];
  try {
    // One after the other: the first migrates, the others find the schema ready.
    for (let i = 0; i < instances; i++) servers.push(await startServer(workload, env));
    const next = requestMaker(workload, tag);
    const per = Math.max(1, Math.floor(CONNECTIONS / instances));
    await Promise.all(servers.map((s) => load(s.port, per, 2, next))); // warm-up
    const results = await Promise.all(servers.map((s) => load(s.port, per, SECONDS, next)));
    return {
      name,
      reqPerSec: Math.round(results.reduce((sum, r) => sum + r.requests.average, 0)),
      p50: Math.max(...results.map((r) => r.latency.p50)),
      p99: Math.max(...results.map((r) => r.latency.p99)),
      rssMb: servers.map((s) => peakRssMb(s.child.pid!)),
      errors: results.reduce((sum, r) => sum + r.errors + r.timeouts, 0),
      non2xx: results.reduce((sum, r) => sum + r.non2xx, 0),
    };
  } finally {
    await Promise.all(servers.map(stopServer));
    fs.rmSync(dataDir, { recursive: true, force: true });
    if (store === 'redis+postgres') await cleanUp(schema, prefix);
  }
}

async function cleanUp(schema: string, prefix: string): Promise<void> {
  const { Pool } = await import('pg');
  const { default: Redis } = await import('ioredis');
  const pool = new Pool({ connectionString: DATABASE_URL, max: 1 });
  await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
  await pool.end();
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await redis.quit();
}

/** True when a TCP connection to the URL's host:port opens within a second. */
function reachable(url: string, defaultPort: number): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(u.port || defaultPort), u.hostname);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('connect', () => done(true));
    socket.on('error', () => done(false));
  });
}

function table(rows: Figures[], baseline: Figures): void {
  printThroughput(rows, baseline, 'peak RSS MB / process', (r) => r.rssMb.join(' + '));
}

/**
 * Prints the scale-out tables. Expects the compiled build (`bench/run.ts` makes it first; run alone,
 * this compiles it).
 *
 * @example await runScaleBench();
 * @see https://github.com/mcollina/autocannon
 */
export async function runScaleBench(): Promise<void> {
  if (!fs.existsSync(COMPILED)) {
    const tsc = require.resolve('typescript/bin/tsc');
    const build = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.bench.json')], { stdio: 'inherit' });
    if (build.status !== 0) throw new Error('bench scale: compiling with tsconfig.bench.json failed');
  }
  const services = (await reachable(REDIS_URL, 6379)) && (await reachable(DATABASE_URL, 5432));
  console.log(`# scale: ${CONNECTIONS} connections in all, ${SECONDS} s per case, loopback, ${os.cpus().length} CPUs`);
  if (!services) console.log(`(Redis at ${new URL(REDIS_URL).host} or PostgreSQL at ${new URL(DATABASE_URL).host} unreachable: only the SQLite cases run)`);
  for (const workload of ['text', 'follow'] as const) {
    console.log(workload === 'text' ? '## text messages (dedupe + rules + render)' : '## follows that grant a red packet (dedupe + limits + ledger + outbox)');
    const rows: Figures[] = [];
    const sqlite = await measure('1 instance, SQLite (baseline)', workload, 'sqlite', 1);
    rows.push(sqlite);
    if (services) {
      rows.push(await measure('1 instance, Redis + PostgreSQL', workload, 'redis+postgres', 1));
      rows.push(await measure('2 instances, Redis + PostgreSQL', workload, 'redis+postgres', 2));
    }
    table(rows, sqlite);
    console.log('');
  }
  console.log(
    'note: every process here (bots, load generator, Redis, PostgreSQL) shares this machine; two instances add\n' +
      'capacity when they run on machines of their own. Grants serialize on the campaign and merchant usage rows.\n',
  );
}

if (require.main === module) {
  const run = process.argv[2] === 'serve' ? serve() : runScaleBench();
  run.catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
