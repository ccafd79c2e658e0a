/**
 * The loaded config as the bot runs on it: `BotConfig`, one immutable value per successful load
 * (a reload builds a new one), and what `loadConfig()` answers. Types only, so every module that
 * builds or reads a config can name them without importing the loader.
 *
 * @example const r: LoadConfigResult = loadConfig('config'); if (r.ok) use(r.config.rules);
 * @see https://github.com/probot/probot/blob/master/src/context.ts
 */
import type { ConfigIssue } from '../lib/config-issue';
import type { CompiledTemplates } from '../reply/build-reply';
import type { CompiledRules } from '../rules/compile-rules';
import type { ConfigFiles } from './config-files';
import type { YamlLimits } from './read-yaml-file';

/**
 * A loaded, validated, compiled config. Never mutated: a reload builds a new one.
 */
export interface BotConfig {
  /** Short hash of every file's bytes (config files and templates). */
  readonly version: string;
  /** The config folder (absolute). */
  readonly dir: string;
  /** The parsed files, keyed as in `CONFIG_FILES`. */
  readonly files: ConfigFiles;
  /** The compiled rules, ready for `decide()`. */
  readonly rules: CompiledRules;
  /** Named templates and every inline EJS string, compiled. */
  readonly templates: CompiledTemplates;
  /** Where each rule is written (rule id → file and line), for explanations and logs. */
  readonly ruleSources: ReadonlyMap<string, { file: string; line?: number }>;
  /** Where each spend rule is written (spend.yaml rule id → file and line), for the console's rule tester. */
  readonly spendSources: ReadonlyMap<string, { file: string; line?: number }>;
}

export type LoadConfigResult = { ok: true; config: BotConfig; warnings: ConfigIssue[] } | { ok: false; errors: ConfigIssue[]; warnings: ConfigIssue[] };

export interface LoadConfigOptions {
  /** Folder holding `templates/*.ejs` (default: `views` next to the config folder). */
  viewsDir?: string;
  /** Hostile-input limits per file (default 1 MiB, depth 32, 100 alias expansions). */
  limits?: Partial<YamlLimits>;
}
