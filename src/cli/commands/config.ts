/**
 * `wechat-bot check-config [dir]`: validates the operator config exactly as the running bot does,
 * prints every error and warning (file:line path: message), and exits 1 on any error.
 *
 * @example npx wechat-bot check-config config --views views
 * @see https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Creating_Custom-Defined_Menu.html
 */
import type { Command } from 'commander';
import { formatIssue } from '../../lib/config-issue';
import { loadConfig } from '../../config/load-config';
import { describeSendRates } from '../../rewards/limits';

/** Where a command writes; tests pass their own. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

/** The process's stdout/stderr as a `CliIo`. */
export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Default folders: `BOT_CONFIG_DIR` / `BOT_VIEWS_DIR`, else `config` / `views`. */
export function defaultDirs(): { configDir: string; viewsDir: string } {
  return {
    configDir: process.env.BOT_CONFIG_DIR?.trim() || 'config',
    viewsDir: process.env.BOT_VIEWS_DIR?.trim() || 'views',
  };
}

/**
 * Runs the check and returns the exit code (0 valid, 1 invalid). With `explain` (the `check-config`
 * command), a valid config also prints what its send-rate settings mean.
 *
 * @example const code = runCheckConfig('config', { views: 'views' }, processIo);
 * @see https://github.com/probot/probot/blob/master/src/context.ts
 */
export function runCheckConfig(dir: string | undefined, options: { views?: string; explain?: boolean }, io: CliIo): number {
  const defaults = defaultDirs();
  const configDir = dir ?? defaults.configDir;
  const r = loadConfig(configDir, { viewsDir: options.views ?? defaults.viewsDir });
  if (!r.ok) for (const e of r.errors) io.err(`error: ${formatIssue(e)}`);
  for (const w of r.warnings) io.err(`warning: ${formatIssue(w)}`);
  if (!r.ok) {
    io.err(
      `${r.errors.length} error${r.errors.length === 1 ? '' : 's'}${r.warnings.length ? `, ${r.warnings.length} warning${r.warnings.length === 1 ? '' : 's'}` : ''}: config in ${configDir} is NOT valid`,
    );
    return 1;
  }
  const n = r.config.rules.list.length;
  io.out(
    `OK (version ${r.config.version}, ${n} rule${n === 1 ? '' : 's'}${r.warnings.length ? `, ${r.warnings.length} warning${r.warnings.length === 1 ? '' : 's'}` : ''})`,
  );
  // What the send-rate settings in force mean (limits.yaml, or its defaults when absent).
  if (options.explain) io.out(describeSendRates(r.config.files.limits));
  return 0;
}

/**
 * Registers `check-config`.
 *
 * @example register(program)
 * @see https://github.com/tj/commander.js
 */
export function register(program: Command): void {
  program
    .command('check-config')
    .description('validate the config folder (rules, menu, campaigns, limits, templates); exit 1 on any error')
    .argument('[dir]', 'config folder (default $BOT_CONFIG_DIR or ./config)')
    .option('--views <dir>', 'views folder holding templates/ (default $BOT_VIEWS_DIR or ./views)')
    .action((dir: string | undefined, options: { views?: string }) => {
      process.exitCode = runCheckConfig(dir, { ...options, explain: true }, processIo);
    });
}
