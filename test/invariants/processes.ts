/**
 * Runs several record-child processes against one SQLite file at the same instant (cross-process
 * invariant tests).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import type { GrantDetails } from '../../src/rewards/rewards';

const CHILD = path.join(__dirname, '../fixtures/rewards/record-child.ts');
const ROOT = path.join(__dirname, '../..');

export interface ChildRequest {
  campaign: string;
  openId: string;
  dedupeKey: string;
  ruleId: string;
}

/** Starts one child per request list; all fire at the same moment. Resolves with each child's answers. */
export async function recordInProcesses(opts: {
  ledgerFile: string;
  config: unknown;
  now: number;
  mchId: string;
  perProcess: ChildRequest[][];
}): Promise<GrantDetails[][]> {
  const startAt = Date.now() + 2500; // time for every child to boot
  return Promise.all(
    opts.perProcess.map(
      (requests) =>
        new Promise<GrantDetails[]>((resolve, reject) => {
          execFile(
            process.execPath,
            ['-r', 'tsx/cjs', CHILD],
            {
              cwd: ROOT,
              env: {
                ...process.env,
                LEDGER_FILE: opts.ledgerFile,
                CONFIG: JSON.stringify(opts.config),
                NOW: String(opts.now),
                MCH_ID: opts.mchId,
                REQUESTS: JSON.stringify(requests),
                START_AT: String(startAt),
              },
              timeout: 30_000,
            },
            (error, stdout, stderr) => {
              if (error) reject(new Error(`record-child failed: ${stderr || error.message}`));
              else resolve(JSON.parse(stdout) as GrantDetails[]);
            },
          );
        }),
    ),
  );
}
