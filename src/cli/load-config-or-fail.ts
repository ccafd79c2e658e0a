/**
 * The config a command runs on, loaded exactly as the bot loads it — or the command fails with every
 * issue (file:line path: message) and how to fix it, having changed nothing. Two shapes:
 *
 * - {@link loadConfigOrFail} throws (commands that build a context: `menu push`, `cards …`);
 * - {@link loadConfigOrReport} writes the issues to stderr and returns undefined, so the command
 *   exits 1 (`rules explain`, `spend explain`).
 *
 * @example
 * const config = loadConfigOrReport({ dir: o.dir, views: o.views }, io);
 * if (!config) return 1;
 * @see https://github.com/probot/probot/blob/master/src/context.ts
 */
import { formatIssue } from '../lib/config-issue';
import { loadConfig, type BotConfig } from '../config/load-config';
import { defaultDirs, type CliIo } from './commands/config';

/**
 * Loads `configDir` (with `viewsDir`); throws an Error listing every issue when it is invalid.
 *
 * @example const { files } = loadConfigOrFail(ctx.settings);
 */
export function loadConfigOrFail(dirs: { configDir: string; viewsDir: string }): BotConfig {
  const r = loadConfig(dirs.configDir, { viewsDir: dirs.viewsDir });
  if (!r.ok) throw new Error(`the config in ${dirs.configDir} is invalid:\n${r.errors.map(formatIssue).join('\n')}`);
  return r.config;
}

/**
 * Loads the config of `--dir`/`--views` (default BOT_CONFIG_DIR / BOT_VIEWS_DIR, else `config` /
 * `views`); when invalid, writes each error and the fix to `io.err` and returns undefined.
 *
 * @example const config = loadConfigOrReport({}, processIo) ?? process.exit(1);
 */
export function loadConfigOrReport(o: { dir?: string; views?: string }, io: CliIo): BotConfig | undefined {
  const defaults = defaultDirs();
  const r = loadConfig(o.dir ?? defaults.configDir, { viewsDir: o.views ?? defaults.viewsDir });
  if (r.ok) return r.config;
  for (const e of r.errors) io.err(`error: ${formatIssue(e)}`);
  io.err('the config is invalid; fix it first (see check-config)');
  return undefined;
}
