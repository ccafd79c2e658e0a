/**
 * Holds the current config and replaces it when the operator edits the files: a folder watch
 * (debounced; editors that write a temp file and rename it are seen as a change of the folder) and
 * SIGHUP (`installSighup()`, or call `reload()` from your own handler). A reload builds a complete new
 * `BotConfig` and swaps it in with one assignment, so a request sees either the old config or the
 * new one, never a mix. A bad edit is refused: the last good config keeps serving, the errors are
 * logged, and `status()` (for `/healthz`) shows the last error until a good load.
 *
 * @example
 * const holder = createConfigHolder({ dir: settings.configDir, viewsDir: settings.viewsDir, log, watch: true });
 * process.on('SIGHUP', () => holder.reload());
 * @see https://nodejs.org/api/fs.html#fswatchfilename-options-listener
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../lib/logger';
import { type Clock, systemClock } from '../lib/clock';
import { ConfigError, formatIssue, type ConfigIssue } from '../lib/config-issue';
import type { RewardsConfig } from '../rewards/config-schema';
import { rewardsConfigOf } from './config-views';
import { loadConfig, type BotConfig } from './load-config';
import type { YamlLimits } from './read-yaml-file';

// === Types

export interface ConfigHolderOptions {
  /** The config folder (`config/`). */
  dir: string;
  /** The views folder; its `templates/` are part of the config. */
  viewsDir: string;
  log: Logger;
  /** Watch the folders and reload on change (default false). */
  watch?: boolean;
  /** For `loadedAt` (default the system clock). */
  clock?: Clock;
  /** Quiet time after the last file event before reloading (default 100 ms). */
  debounceMs?: number;
  /** Hostile-input limits passed to `loadConfig`. */
  limits?: Partial<YamlLimits>;
}

export type ReloadResult =
  | { ok: true; changed: boolean; version: string; warnings: ConfigIssue[] }
  /** Refused: `version` is the config still serving. */
  | { ok: false; version: string; errors: ConfigIssue[]; warnings: ConfigIssue[] };

/** For `/healthz`. */
export interface ConfigStatus {
  /** False while the files on disk are invalid (the last good config still serves). */
  ok: boolean;
  version: string;
  /** When the serving config was loaded (ISO 8601). */
  loadedAt: string;
  /** The first error of the last refused reload, with the count of the others. */
  lastError?: string;
  /** Warnings of the serving config. */
  warnings: number;
}

/** The last refused edit, kept after a later good load so the operator can see what was wrong. */
export interface RefusedReload {
  /** When the edit was refused (ISO 8601). */
  at: string;
  /** The version that kept serving. */
  version: string;
  /** Every error, each with its file, line and path. */
  errors: ConfigIssue[];
}

/** The reload history the console shows: when the files were last read, and the last refusal. */
export interface ConfigReloads {
  /** When the last reload attempt ran (ISO 8601); absent before the first. */
  lastAttemptAt?: string;
  /** Whether that attempt was accepted. */
  lastAttemptOk?: boolean;
  lastRefused?: RefusedReload;
}

export interface ConfigHolder {
  /** The serving config. Take it once per message and use that snapshot throughout. */
  current(): BotConfig;
  /**
   * The campaigns and limits of the serving config (`rewardsConfigOf`), made once per load: what
   * `createRewards`, the outbox worker and reconciliation read on every grant and every pass. A
   * function of its own (no `this`), so it can be passed as their `config`.
   */
  rewardsConfig(): RewardsConfig;
  /** Loads the files now; swaps on success, keeps the old config on failure. */
  reload(): ReloadResult;
  status(): ConfigStatus;
  /** The last reload attempt and the last refused edit with all its errors. */
  reloads(): ConfigReloads;
  /** Called after a successful reload that changed the version. Returns an unsubscribe function. */
  onChange(listener: (config: BotConfig, previous: BotConfig) => void): () => void;
  /** Called after every reload attempt (watch, SIGHUP or direct), successful or not. */
  onReload(listener: (result: ReloadResult) => void): () => void;
  /** Reloads on SIGHUP. Returns a function that removes the handler. */
  installSighup(): () => void;
  /** Stops watching and removes handlers installed by this holder. */
  close(): void;
}

// === Factory

/**
 * Loads the config (throwing `ConfigError` with every error when the first load fails) and returns
 * the holder.
 *
 * @example const holder = createConfigHolder({ dir: 'config', viewsDir: 'views', log, watch: true });
 * @see https://nodejs.org/api/process.html#signal-events
 */
export function createConfigHolder(options: ConfigHolderOptions): ConfigHolder {
  if (!options || typeof options.dir !== 'string' || options.dir === '') throw new TypeError('createConfigHolder: options.dir must be the config folder');
  if (typeof options.viewsDir !== 'string' || options.viewsDir === '') throw new TypeError('createConfigHolder: options.viewsDir must be the views folder');
  if (!options.log || typeof options.log.info !== 'function') throw new TypeError('createConfigHolder: options.log is required');
  const dir = path.resolve(options.dir);
  const viewsDir = path.resolve(options.viewsDir);
  const clock = options.clock ?? systemClock;
  const debounceMs = options.debounceMs ?? 100;
  const log = options.log.child({ module: 'config' });
  const load = () => loadConfig(dir, { viewsDir, limits: options.limits });

  const first = load();
  if (!first.ok) throw new ConfigError(first.errors);
  for (const w of first.warnings) log.warn(`config warning: ${formatIssue(w)}`);
  log.info({ version: first.config.version, rules: first.config.rules.list.length }, 'config loaded');

  let config = first.config;
  let rewards = Object.freeze(rewardsConfigOf(config));
  let loadedAt = new Date(clock.now()).toISOString();
  let warnings = first.warnings.length;
  let lastError: string | undefined;
  let reloads: ConfigReloads = {};
  const changeListeners = new Set<(c: BotConfig, p: BotConfig) => void>();
  const reloadListeners = new Set<(r: ReloadResult) => void>();
  const watchers: fs.FSWatcher[] = [];
  const cleanups: (() => void)[] = [];
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  function emit<A extends unknown[]>(listeners: Set<(...a: A) => void>, ...args: A) {
    for (const l of [...listeners]) {
      try {
        l(...args);
      } catch (err) {
        log.error({ err }, 'config listener failed');
      }
    }
  }

  function reload(): ReloadResult {
    const r = load();
    let result: ReloadResult;
    const at = new Date(clock.now()).toISOString();
    reloads = { ...reloads, lastAttemptAt: at, lastAttemptOk: r.ok };
    if (!r.ok) {
      reloads.lastRefused = { at, version: config.version, errors: r.errors };
      lastError = `${formatIssue(r.errors[0])}${r.errors.length > 1 ? ` (and ${r.errors.length - 1} more)` : ''}`;
      log.error(
        { errors: r.errors.map(formatIssue), version: config.version },
        `config reload refused (${r.errors.length} error${r.errors.length === 1 ? '' : 's'}); still serving version ${config.version}`,
      );
      result = { ok: false, version: config.version, errors: r.errors, warnings: r.warnings };
    } else {
      lastError = undefined;
      const previous = config;
      const changed = r.config.version !== previous.version;
      if (changed) {
        config = r.config; // the swap: one assignment (the rewards view is read with it, never apart)
        rewards = Object.freeze(rewardsConfigOf(config));
        loadedAt = new Date(clock.now()).toISOString();
        warnings = r.warnings.length;
        for (const w of r.warnings) log.warn(`config warning: ${formatIssue(w)}`);
        log.info({ version: config.version, previous: previous.version, rules: config.rules.list.length }, 'config reloaded');
      }
      result = { ok: true, changed, version: config.version, warnings: r.warnings };
      if (changed) emit(changeListeners, config, previous);
    }
    emit(reloadListeners, result);
    return result;
  }

  function schedule() {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (!closed) reload();
    }, debounceMs);
  }

  function watch(target: string) {
    try {
      const w = fs.watch(target, { persistent: false }, () => schedule());
      w.on('error', (err) => log.warn({ err, target }, 'config watch failed; reload with SIGHUP'));
      watchers.push(w);
    } catch (err) {
      log.warn({ err, target }, 'cannot watch folder; reload with SIGHUP');
    }
  }

  if (options.watch) {
    watch(dir);
    const templates = path.join(viewsDir, 'templates');
    if (fs.existsSync(templates)) watch(templates);
  }

  return {
    current: () => config,
    rewardsConfig: () => rewards,
    reload,
    status: () => ({ ok: lastError === undefined, version: config.version, loadedAt, ...(lastError ? { lastError } : {}), warnings }),
    reloads: () => ({ ...reloads }),
    onChange(listener) {
      changeListeners.add(listener);
      return () => changeListeners.delete(listener);
    },
    onReload(listener) {
      reloadListeners.add(listener);
      return () => reloadListeners.delete(listener);
    },
    installSighup() {
      const handler = () => {
        log.info('SIGHUP: reloading config');
        reload();
      };
      process.on('SIGHUP', handler);
      const remove = () => process.removeListener('SIGHUP', handler);
      cleanups.push(remove);
      return remove;
    },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      for (const w of watchers.splice(0)) w.close();
      for (const c of cleanups.splice(0)) c();
      changeListeners.clear();
      reloadListeners.clear();
    },
  };
}
