/**
 * Reads every registered config file (`CONFIG_FILES`) from a folder, defensively (`readYamlFile`:
 * size, depth and alias limits), and validates each with its schema. Keeps what the later checks
 * need even for a file that failed: the YAML as read (cross-checks still look at it), where each
 * path is written (line numbers for every issue) and the name the operator sees. Each file's bytes
 * go into the config version.
 *
 * @example
 * const read = readConfigFiles(absDir, DEFAULT_YAML_LIMITS, createConfigVersion());
 * const issueAt = read.issueAt; // issueAt('rules', ['rules', 0, 'match'], 'unknown event')
 * @see https://github.com/probot/probot/blob/master/src/context.ts
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ConfigIssue } from '../lib/config-issue';
import { formatPath } from '../lib/config-issue';
import { configErrorMap, zodToIssues } from '../lib/schema-helpers';
import { CONFIG_FILES, type ConfigFileKey } from './config-files';
import type { ConfigVersion } from './config-version';
import { displayPath } from './load-templates';
import { readYamlFile, type YamlLimits } from './read-yaml-file';

/** A path inside one YAML file (`['rules', 2, 'match', 'event']`). */
export type Path = (string | number)[];

/** Line of a path inside a file, when known. */
type LineOf = (p: readonly PropertyKey[]) => number | undefined;

/** An issue at `path` of the file `key`, with its line. */
export type IssueAt = (key: ConfigFileKey, p: Path, message: string) => ConfigIssue;

/** What {@link readConfigFiles} found. */
export interface ConfigFilesRead {
  /** The files that passed their schema, parsed. */
  files: Partial<Record<ConfigFileKey, unknown>>;
  /** The YAML as read, also for files that failed their schema (cross-checks still look at them). */
  raw: Partial<Record<ConfigFileKey, unknown>>;
  /** How each file is named in issues (relative to the working folder when inside it). */
  shown: Partial<Record<ConfigFileKey, string>>;
  /** Line lookup of each file that could be read. */
  lineOfs: Partial<Record<ConfigFileKey, LineOf>>;
  /** Missing required files, unreadable or hostile YAML, schema errors. */
  errors: ConfigIssue[];
  /** Makes an issue at a path of one of these files, with its line. */
  issueAt: IssueAt;
}

/**
 * The issue to report when `absDir` is not a folder (nothing else is read then), else undefined.
 *
 * @example const missing = configFolderIssue('/nope'); // { file: '/nope', path: '', message: 'config folder does not exist' }
 */
export function configFolderIssue(absDir: string): ConfigIssue | undefined {
  let dirStat: fs.Stats | undefined;
  try {
    dirStat = fs.statSync(absDir);
  } catch {
    dirStat = undefined;
  }
  return dirStat?.isDirectory() ? undefined : { file: displayPath(absDir), path: '', message: 'config folder does not exist' };
}

/**
 * Reads, parses and validates each registered file of `absDir`, adding its bytes to `version`.
 *
 * @example readConfigFiles('/srv/bot/config', { ...DEFAULT_YAML_LIMITS, maxBytes: 65536 }, version)
 * @see https://zod.dev/error-customization
 */
export function readConfigFiles(absDir: string, limits: YamlLimits, version: ConfigVersion): ConfigFilesRead {
  const read: Omit<ConfigFilesRead, 'issueAt'> = { files: {}, raw: {}, shown: {}, lineOfs: {}, errors: [] };
  for (const key of Object.keys(CONFIG_FILES) as ConfigFileKey[]) readOne(key, absDir, limits, version, read);
  return {
    ...read,
    issueAt: (key, p, message) => ({ file: read.shown[key]!, line: read.lineOfs[key]?.(p), path: formatPath(p), message }),
  };
}

/** One file: read (or note it absent), then validate; issues go to `into.errors`. */
function readOne(key: ConfigFileKey, absDir: string, limits: YamlLimits, version: ConfigVersion, into: Omit<ConfigFilesRead, 'issueAt'>): void {
  const spec = CONFIG_FILES[key];
  const abs = path.join(absDir, spec.file);
  const file = displayPath(abs);
  into.shown[key] = file;
  let data: unknown = null;
  let lineOf: LineOf = () => undefined;
  if (!fs.existsSync(abs)) {
    if (!spec.optional) {
      into.errors.push({ file, path: '', message: 'file is missing (it is required)' });
      return;
    }
    version.addFile(spec.file, undefined);
  } else {
    const yaml = readYamlFile(abs, file, limits);
    if (!yaml.ok) {
      into.errors.push(...yaml.issues);
      return;
    }
    version.addFile(spec.file, yaml.text);
    data = yaml.data;
    lineOf = yaml.lineOf;
  }
  into.lineOfs[key] = lineOf;
  into.raw[key] = data;
  const parsed = spec.schema.safeParse(data, { error: configErrorMap });
  if (!parsed.success) {
    into.errors.push(...zodToIssues(parsed.error, file, lineOf, data));
    return;
  }
  into.files[key] = parsed.data;
}
