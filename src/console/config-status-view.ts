/**
 * The config page's figures: the serving version and when it was loaded, whether the files on disk
 * are valid now, when they were last read, and the last refused edit with every error at its place
 * (file:line, path inside the file, what is wrong) — from the config holder's `status()` and
 * `reloads()`.
 *
 * @example configStatusView(holder) // { version: 'a1b2c3', loadedAt: 1764840000000, ok: true, … }
 * @see https://nodejs.org/api/fs.html#fswatchfilename-options-listener
 */
import type { ConfigHolder } from '../config/config-holder';

export interface ConfigIssueView {
  /** `config/rules.yaml:3` (or the file alone when the problem has no line). */
  where: string;
  /** `rules[0] (id "hello").match.event`; empty for the whole file. */
  path: string;
  message: string;
}

export interface ConfigStatusView {
  version: string;
  /** Epoch ms the serving config was loaded. */
  loadedAt: number;
  /** False while the files on disk are invalid (the last good config still serves). */
  ok: boolean;
  warnings: number;
  lastAttemptAt?: number;
  lastAttemptOk?: boolean;
  lastRefused?: { at: number; version: string; errors: ConfigIssueView[] };
}

/**
 * Reads the holder (no reload, no file access).
 *
 * @example configStatusView(holder).lastRefused?.errors[0]?.where // 'config/rules.yaml:3'
 */
export function configStatusView(holder: Pick<ConfigHolder, 'status' | 'reloads'>): ConfigStatusView {
  const s = holder.status();
  const r = holder.reloads();
  return {
    version: s.version,
    loadedAt: Date.parse(s.loadedAt),
    ok: s.ok,
    warnings: s.warnings,
    ...(r.lastAttemptAt ? { lastAttemptAt: Date.parse(r.lastAttemptAt), lastAttemptOk: r.lastAttemptOk === true } : {}),
    ...(r.lastRefused
      ? {
          lastRefused: {
            at: Date.parse(r.lastRefused.at),
            version: r.lastRefused.version,
            errors: r.lastRefused.errors.map((i) => ({
              where: i.line === undefined ? i.file : `${i.file}:${i.line}`,
              path: i.ruleId === undefined ? i.path : i.path.replace(/^rules\[\d+\]/, (at) => `${at} (id ${JSON.stringify(i.ruleId)})`),
              message: i.message,
            })),
          },
        }
      : {}),
  };
}
