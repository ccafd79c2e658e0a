/**
 * Rewards figures for `npm run bench`: grants recorded per second on SQLite (limits + ledger row +
 * outbox entry in one transaction; target ≥ 2,000/s) beside a bare SQLite baseline measured in the same
 * run (one INSERT per durable transaction), and end-to-end sends per second against the Pay sandbox
 * with the rate cap lifted.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchRecordGrants, benchSends } from './rewards-workload';
import { startPaySandbox } from '../src/sandbox/pay-server';
import { openSqlite } from '../src/store/sqlite-migrate';

async function bareSqliteInserts(n: number): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wechat-bot-bench-sqlite-'));
  const db = openSqlite(path.join(dir, 'bare.sqlite'), { synchronous: 'FULL' });
  try {
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT UNIQUE, v TEXT)');
    const insert = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    const started = performance.now();
    for (let i = 0; i < n; i++) db.transaction(() => insert.run(`k${i}`, 'x'.repeat(200))).immediate();
    return Math.round(n / ((performance.now() - started) / 1000));
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function runRewardsBench(): Promise<void> {
  const n = Number(process.env.BENCH_GRANTS ?? 3000);
  console.log(`# rewards: ${n} grants`);
  const bare = await bareSqliteInserts(n);
  const grants = await benchRecordGrants(n);
  const sendsN = Math.min(n, 500);
  // The client and TLS path is measured, not WeChat's 30 sends a second (the sandbox's default since it models it).
  const pay = await startPaySandbox({ balanceFen: 1e12, sendRate: 'unlimited' });
  let sends;
  try {
    sends = await benchSends(sendsN, pay);
  } finally {
    await pay.close();
  }
  const rows = [
    ['bare SQLite: 1 INSERT per durable transaction (baseline)', String(bare), '1.00'],
    ['grants recorded (limits + ledger + outbox, SQLite)', String(Math.round(grants.perSecond)), (grants.perSecond / bare).toFixed(2)],
    [`red packets sent end to end (sandbox over mutual TLS, ${sendsN})`, String(Math.round(sends.perSecond)), '-'],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  console.log(`${'case'.padEnd(w)}  per second  x baseline`);
  for (const r of rows) console.log(`${r[0].padEnd(w)}  ${r[1].padEnd(10)}  ${r[2]}`);
  console.log('target: grants recorded >= 2,000/s\n');
}
