/**
 * The pid file of the running bots: `BOT_DATA_DIR/wechat-bot.pid`, one pid a line, written by every
 * bot process (`npm start`, `start:prod`, or `node dist/app.js`) once it listens and cleaned of it when
 * it exits. `npm start` puts npm's (and tsx's) own processes in front of the bot, so `kill -HUP` on the
 * wrong pid does nothing useful; this file names the process that reloads on SIGHUP, and
 * `wechat-bot reload` signals the live ones.
 *
 * Several bots may share a data folder (one SQLite file, several processes): each adds its own line
 * and removes only its own. Lines of processes that are gone are dropped on every write.
 *
 * @example const pidFile = registerPid(settings.dataDir); … pidFile.remove();
 */
import fs from 'node:fs';
import path from 'node:path';

export const PID_FILE_NAME = 'wechat-bot.pid';

/** The pid file's path in a data folder. */
export function pidFilePath(dataDir: string): string {
  return path.join(dataDir, PID_FILE_NAME);
}

/** Whether a process with this pid exists (and may be signalled by us). */
export function isAlive(pid: number, kill: typeof process.kill = process.kill): boolean {
  try {
    kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user — alive, though we could not signal it.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pids in the file that are still alive, oldest first (none when the file is missing). */
export function livePids(dataDir: string, kill: typeof process.kill = process.kill): number[] {
  let text: string;
  try {
    text = fs.readFileSync(pidFilePath(dataDir), 'utf8');
  } catch {
    return [];
  }
  const pids = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^\d{1,10}$/.test(l))
    .map(Number)
    .filter((pid) => pid > 0);
  return [...new Set(pids)].filter((pid) => isAlive(pid, kill));
}

function writePids(dataDir: string, pids: number[]): void {
  const file = pidFilePath(dataDir);
  if (pids.length === 0) {
    fs.rmSync(file, { force: true });
    return;
  }
  // Write aside, then rename: a reader never sees half a file.
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${pids.join('\n')}\n`);
  fs.renameSync(tmp, file);
}

/**
 * Adds this process's pid to the file (creating the folder) and returns how to take it out again.
 *
 * @example const entry = registerPid('data'); process.on('exit', () => entry.remove());
 */
export function registerPid(dataDir: string, pid: number = process.pid): { path: string; remove(): void } {
  fs.mkdirSync(dataDir, { recursive: true });
  writePids(dataDir, [...livePids(dataDir).filter((p) => p !== pid), pid]);
  let removed = false;
  return {
    path: pidFilePath(dataDir),
    remove() {
      if (removed) return;
      removed = true;
      try {
        writePids(
          dataDir,
          livePids(dataDir).filter((p) => p !== pid),
        );
      } catch {
        /* the folder is gone or read-only: nothing to clean */
      }
    },
  };
}
