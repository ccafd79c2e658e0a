/**
 * Holds an SQLite write lock from a real second process, for tests of what the bot does meanwhile.
 *
 * @example
 * const lock = await holdSqliteLock(file);   // resolves once the child holds BEGIN IMMEDIATE
 * …                                          // the bot runs against the locked file
 * await lock.release();                      // the child commits and exits
 * @see https://www.sqlite.org/lang_transaction.html
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

const HOLDER = path.join(__dirname, '..', 'fixtures', 'sqlite', 'hold-lock.js');

export interface HeldSqliteLock {
  /** Tells the child to commit; resolves when it has released the lock and exited. */
  release(): Promise<void>;
}

/** Starts `hold-lock.js` on `file` and resolves once it holds the lock (`BEGIN IMMEDIATE` by default). */
export async function holdSqliteLock(file: string, mode: 'IMMEDIATE' | 'EXCLUSIVE' = 'IMMEDIATE'): Promise<HeldSqliteLock> {
  const child = spawn(process.execPath, [HOLDER, file, mode], { cwd: path.join(__dirname, '..', '..'), stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const lines = createInterface({ input: child.stdout });
  const nextLine = (expected: string) =>
    new Promise<void>((resolve, reject) => {
      lines.once('line', (line) => (line === expected ? resolve() : reject(new Error(`lock holder said "${line}", expected "${expected}"`))));
      void exited.then((code) => reject(new Error(`lock holder exited (${code}) before "${expected}": ${stderr}`)));
    });
  await nextLine('locked');
  return {
    async release() {
      const released = nextLine('released');
      child.stdin.write('release\n');
      await released;
      expect(await exited).toBe(0);
    },
  };
}
