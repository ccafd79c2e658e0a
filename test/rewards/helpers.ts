/**
 * Shared builders for the rewards tests: config objects, ledgers on every adapter, the PostgreSQL
 * schema-per-run pool, and a pay sandbox with a real client.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { SANDBOX_CREDENTIALS } from '../../src/config/settings';
import type { PayClient } from '../../src/pay/client';
import type { RedpackApi } from '../../src/pay/types';
import type { RewardsConfig } from '../../src/rewards/config-schema';
import { rewardsConfigSchema } from '../../src/config/reward-kinds';
import type { Ledger } from '../../src/rewards/ledger';
import type { PaySandbox, PaySandboxOptions } from '../../src/sandbox/pay-server';
import { createMemoryLedger } from '../../src/store/memory-ledger';
import { PostgresLedger } from '../../src/store/postgres-ledger';
import { SqliteLedger } from '../../src/store/sqlite-ledger';
import { openSqlite } from '../../src/store/sqlite-migrate';
import { payClientOptionsFor, startPayHarness } from '../pay/pay-harness';
import { createPayClient } from '../../src/pay/client';
import { createRedpackApi } from '../../src/pay/redpack';
import { withLedgerRules } from '../../src/rewards/ledger-plans';
import { ledgerTagRules } from '../../src/rewards/bill-no';

/** 2026-03-02 10:00 Beijing time (a Monday, outside quiet hours). */
export const T0 = Date.parse('2026-03-02T10:00:00+08:00');
export const MCH_ID = SANDBOX_CREDENTIALS.mchId;

export const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A red-packet campaign in YAML shape (snake_case, yuan), with overrides. */
export function redCampaign(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    kind: 'red_packet',
    amount: 1.0,
    send_name: '沙盒商户',
    wishing: '恭喜发财',
    act_name: '关注有礼',
    remark: '感谢关注',
    budget: 10_000,
    max_packets: 10_000,
    ...overrides,
  };
}

/** Parses campaigns + limits in YAML shape into the runtime config. */
export function makeConfig(campaigns: Record<string, Record<string, unknown>>, limits: Record<string, unknown> = {}): RewardsConfig {
  return rewardsConfigSchema.parse({ campaigns: { campaigns }, limits });
}

/** A temp folder removed by the returned function. */
export function tempDir(prefix = 'rewards-'): { dir: string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** A fresh SQLite ledger on a temp file. */
export function sqliteLedger(): { ledger: Ledger; file: string; close(): Promise<void> } {
  const tmp = tempDir('ledger-');
  const file = path.join(tmp.dir, 'ledger.sqlite');
  const ledger = withLedgerRules(SqliteLedger.create(openSqlite(file), { ownsDb: true, tags: ledgerTagRules() }));
  return {
    ledger,
    file,
    close: async () => {
      await ledger.close();
      tmp.remove();
    },
  };
}

const RUN = `rwt_${process.pid}_${Date.now().toString(36)}`;
let schemas = 0;

/** A PostgreSQL pool on a fresh schema of its own; `drop()` removes the schema and ends the pool. */
export async function pgSchemaPool(max = 10): Promise<{ pool: Pool; schema: string; drop(): Promise<void> }> {
  schemas += 1;
  const schema = `${RUN}_${schemas}`;
  const admin = new Pool({ connectionString: DATABASE_URL, max: 1 });
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.end();
  }
  const pool = new Pool({ connectionString: DATABASE_URL, max, options: `-c search_path=${schema}` });
  return {
    pool,
    schema,
    drop: async () => {
      await pool.end();
      const a = new Pool({ connectionString: DATABASE_URL, max: 1 });
      try {
        await a.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await a.end();
      }
    },
  };
}

/**
 * Ledger factories for the contract suite: each returns the ledger and a cleanup, and `another()`:
 * a second handle on the same store over its own connection(s), as a second process would open it
 * (the memory ledger, one process by nature, returns itself).
 */
export type LedgerFactory = () => Promise<{ ledger: Ledger; close(): Promise<void>; another(): Promise<Ledger> }>;

export const memoryLedgerFactory: LedgerFactory = async () => {
  const ledger = withLedgerRules(createMemoryLedger({ tags: ledgerTagRules() }));
  return { ledger, close: async () => undefined, another: async () => ledger };
};

export const sqliteLedgerFactory: LedgerFactory = async () => {
  const s = sqliteLedger();
  const others: Ledger[] = [];
  return {
    ledger: s.ledger,
    another: async () => {
      const other = withLedgerRules(SqliteLedger.create(openSqlite(s.file), { ownsDb: true, tags: ledgerTagRules() }));
      others.push(other);
      return other;
    },
    close: async () => {
      for (const o of others) await o.close();
      await s.close();
    },
  };
};

let sharedPg: { pool: Pool; schema: string; drop(): Promise<void>; ledger: Ledger } | undefined;

/**
 * PostgreSQL: one schema for the whole file (migrated once), emptied before each use; call
 * {@link dropSharedPg} in `afterAll`.
 */
export const pgLedgerFactory: LedgerFactory = async () => {
  if (!sharedPg) {
    const p = await pgSchemaPool();
    sharedPg = { ...p, ledger: withLedgerRules(await PostgresLedger.create(p.pool, { tags: ledgerTagRules() })) };
  }
  await sharedPg.pool.query('TRUNCATE ledger_outbox, ledger_grants, ledger_usage, ledger_bill_seq, ledger_campaign_pause RESTART IDENTITY');
  const pools: Pool[] = [];
  const schema = sharedPg.schema;
  return {
    ledger: sharedPg.ledger,
    another: async () => {
      const pool = new Pool({ connectionString: DATABASE_URL, max: 4, options: `-c search_path=${schema}` });
      pools.push(pool);
      return PostgresLedger.create(pool, { tags: ledgerTagRules() }).then(withLedgerRules);
    },
    close: async () => {
      for (const p of pools) await p.end();
    },
  };
};

export async function dropSharedPg(): Promise<void> {
  const p = sharedPg;
  sharedPg = undefined;
  await p?.drop();
}

/** A pay sandbox on loopback with a real mutual-TLS client and red-packet API. */
export interface PayRig {
  sandbox: PaySandbox;
  client: PayClient;
  redpack: RedpackApi;
  close(): Promise<void>;
}

/**
 * A pay sandbox with a real client. `timeoutMs` is the client timeout for requests the sandbox is told
 * to hold (`faults.set({ timeoutRate })`): while such a fault is set, requests go through a client
 * with that short timeout, so a held request times out quickly; otherwise through a patient client
 * (30 s), so an answered request on a loaded machine is never mistaken for a lost one.
 */
export async function startPayRig(opts: { sandbox?: PaySandboxOptions; timeoutMs?: number } = {}): Promise<PayRig> {
  const harness = await startPayHarness({ sandbox: { seed: 7, ...opts.sandbox }, client: { timeoutMs: PATIENT_TIMEOUT_MS } });
  if (opts.timeoutMs === undefined) return { sandbox: harness.sandbox, client: harness.client, redpack: harness.redpacks, close: harness.close };
  const short = createPayClient({ ...payClientOptionsFor(harness.sandbox), timeoutMs: opts.timeoutMs });
  const shortRedpack = createRedpackApi(short);
  const holding = () => (harness.sandbox.faults.get().timeoutRate ?? 0) > 0;
  const redpack: RedpackApi = {
    send: (request) => (holding() ? shortRedpack : harness.redpacks).send(request),
    query: (billNo, o) => (holding() ? shortRedpack : harness.redpacks).query(billNo, o),
  };
  return {
    sandbox: harness.sandbox,
    client: harness.client,
    redpack,
    close: async () => {
      short.close();
      await harness.close();
    },
  };
}

/** The client timeout for requests the sandbox answers: far beyond any delay a loaded machine adds. */
const PATIENT_TIMEOUT_MS = 30_000;

/** An openid the sandbox accepts (6–32 letters/digits). */
export function openIdOf(i: number): string {
  return `oFollower${String(i).padStart(8, '0')}`;
}
