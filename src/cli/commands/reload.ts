/**
 * `wechat-bot reload`: checks the config folder as the bot would load it and, when it is valid,
 * sends SIGHUP to every bot listed alive in `BOT_DATA_DIR/wechat-bot.pid`, so they load it now.
 * A config with errors is not sent (the bots would refuse it and keep the last good one): the
 * errors are printed and the command exits 1, as it does when no bot is running.
 *
 * (The bot also watches `config/` and reloads on its own; `reload` is for edits it cannot see,
 * such as a folder swapped by a deploy, and for operators who want to know it happened.)
 *
 * @example npm run cli -- reload
 */
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings';
import { livePids, pidFilePath } from '../../lib/pid-file';
import { processIo, runCheckConfig, type CliIo } from './config';

/** Injection points for tests. */
export interface ReloadDeps {
  env?: Record<string, string | undefined>;
  io?: CliIo;
  kill?: typeof process.kill;
}

/**
 * Runs `reload` and returns the exit code: 0 when every live bot was signalled, 1 otherwise.
 *
 * @example process.exitCode = runReload({});
 */
export function runReload(deps: ReloadDeps = {}): number {
  const env = deps.env ?? process.env;
  const io = deps.io ?? processIo;
  const kill = deps.kill ?? process.kill.bind(process);
  const settings = loadSettings(env);
  const pids = livePids(settings.dataDir, kill);
  if (pids.length === 0) {
    io.err(`no running bot found in ${pidFilePath(settings.dataDir)}: nothing reloaded (start one with \`npm start\`; it reads config/ when it starts)`);
    return 1;
  }
  if (runCheckConfig(settings.configDir, { views: settings.viewsDir }, io) !== 0) {
    io.err(`not reloaded: the running bot${pids.length === 1 ? '' : 's'} keep${pids.length === 1 ? 's' : ''} the last good config`);
    return 1;
  }
  let failed = 0;
  for (const pid of pids) {
    try {
      kill(pid, 'SIGHUP');
      io.out(`sent SIGHUP to bot pid ${pid}: it loads ${settings.configDir} now (its log says "config reloaded" unless it runs this version already)`);
    } catch (err) {
      failed++;
      io.err(`could not signal bot pid ${pid}: ${(err as Error).message}`);
    }
  }
  return failed === 0 ? 0 : 1;
}

export function register(program: Command): void {
  program
    .command('reload')
    .description('check config/ and make every running bot load it now (SIGHUP to the pids in data/wechat-bot.pid)')
    .action(() => {
      process.exitCode = runReload();
    });
}
