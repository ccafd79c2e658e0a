/**
 * Assembles a loaded config: its version (a short SHA-256 over every config file's bytes — an absent
 * optional file counts as absent — and every template's source, in a fixed order, so the same folder
 * always has the same version and any edit changes it), then the frozen `BotConfig` itself.
 *
 * @example
 * const version = createConfigVersion();
 * version.addFile('rules.yaml', text);
 * const config = assembleConfig({ version, dir, files, rules, templates, ruleSources });
 * @see https://nodejs.org/api/crypto.html#class-hash
 */
import crypto from 'node:crypto';
import type { CompiledTemplates } from '../reply/build-reply';
import type { CompiledRules } from '../rules/compile-rules';
import type { BotConfig } from './bot-config';
import type { ConfigFiles } from './config-files';

/** The running digest of what a config was loaded from. */
export interface ConfigVersion {
  /** A config file's text, or `undefined` for an optional file that is absent. */
  addFile(file: string, text: string | undefined): void;
  /** Every template source (name → EJS), hashed in name order. */
  addTemplates(sources: ReadonlyMap<string, string>): void;
  /** The version: the first 12 hex digits of the digest. Call once. */
  digest(): string;
}

/**
 * A fresh version digest.
 *
 * @example const v = createConfigVersion(); v.addFile('menu.yaml', undefined); v.digest() // 'e3b0c44298fc'
 */
export function createConfigVersion(): ConfigVersion {
  const hash = crypto.createHash('sha256');
  return {
    addFile(file, text) {
      hash.update(text === undefined ? `${file}\u0000<absent>\u0000` : `${file}\u0000${text}\u0000`);
    },
    addTemplates(sources) {
      for (const [name, src] of [...sources].sort(([a], [b]) => a.localeCompare(b))) hash.update(`templates/${name}\u0000${src}\u0000`);
    },
    digest: () => hash.digest('hex').slice(0, 12),
  };
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v;
}

/** What {@link assembleConfig} puts together. */
export interface ConfigParts {
  version: ConfigVersion;
  dir: string;
  files: ConfigFiles;
  rules: CompiledRules;
  templates: CompiledTemplates;
  ruleSources: ReadonlyMap<string, { file: string; line?: number }>;
  spendSources: ReadonlyMap<string, { file: string; line?: number }>;
}

/**
 * The immutable `BotConfig` of a load that found no error: the files are frozen deeply.
 *
 * @example return { ok: true, config: assembleConfig(parts), warnings };
 */
export function assembleConfig(parts: ConfigParts): BotConfig {
  return Object.freeze({
    version: parts.version.digest(),
    dir: parts.dir,
    files: deepFreeze(parts.files),
    rules: parts.rules,
    templates: parts.templates,
    ruleSources: parts.ruleSources,
    spendSources: parts.spendSources,
  });
}
