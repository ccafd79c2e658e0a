/**
 * Loads the whole operator config from a folder: reads each registered file defensively, validates it
 * with its schema, cross-checks the files against each other and against `views/templates`, compiles
 * the rules and templates, and returns one immutable `BotConfig` — or every error found, each naming
 * file, line and path. Used by the running bot (through `ConfigHolder`) and by `check-config`.
 *
 * @example
 * const r = loadConfig('config', { viewsDir: 'views' });
 * if (!r.ok) for (const e of r.errors) console.error(formatIssue(e));
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ConfigIssue } from '../lib/config-issue';
import { formatPath } from '../lib/config-issue';
import { CONFIG_FILES, type ConfigFileKey, type ConfigFiles } from './config-files';
import { DEFAULT_YAML_LIMITS, readYamlFile, type YamlLimits } from './read-yaml-file';
import { configErrorMap, zodToIssues } from '../lib/schema-helpers';
import { displayPath, ejsErrorMessage, loadTemplates } from './load-templates';
import { menuKeys } from './menu-schema';
import { didYouMean } from '../lib/closest-name';
import { BUILTIN_VAR_NAMES, compileTemplate, emptyTemplateVars, hasTags, templateStringsOf, type CompiledTemplates, type TemplateFn } from '../reply/build-reply';
import { compileRules, duplicateRuleIds, type CompiledRules } from '../rules/compile-rules';
import { actionSchema } from '../rules/schema';
import { decide } from '../rules/engine';
import { DEFAULT_GRANT_TEXTS, GRANT_REPLY_KEYS, type Action, type ReplySpec } from '../rules/actions';
import { checkCardsConfig } from '../cards/check-cards-config';
import { checkCampaignsAgainstLimits } from '../rewards/config-schema';
import { checkSpendRules } from '../spend/spend-schema';
import type { InboundMessage } from '../wechat/inbound';

// === Types

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

// === Walking actions with their paths

type Path = (string | number)[];

interface SpecSite {
  spec: ReplySpec;
  path: Path;
  /** The grant's campaign, for grant reply variants. */
  campaign?: string;
}

function specSites(spec: ReplySpec, at: Path, out: SpecSite[], campaign?: string): void {
  out.push({ spec, path: at, campaign });
  if (spec.kind === 'random') spec.random.forEach((s, i) => specSites(s, [...at, 'random', i], out, campaign));
}

function actionSites(actions: readonly Action[], at: Path): { actions: { action: Action; path: Path }[]; specs: SpecSite[] } {
  const list: { action: Action; path: Path }[] = [];
  const specs: SpecSite[] = [];
  actions.forEach((a, j) => {
    const p = [...at, j];
    list.push({ action: a, path: p });
    if (a.type === 'reply') specSites(a.reply, [...p, 'reply'], specs);
    if (a.type === 'grant')
      for (const o of GRANT_REPLY_KEYS) {
        const r = a.replies[o];
        if (r) specSites(r, [...p, 'replies', o], specs, a.campaign);
      }
  });
  return { actions: list, specs };
}

// === Reading past schema errors

/** A list of actions with its path in rules.yaml; holes where an action failed its schema. */
interface ActionSection {
  actions: readonly Action[];
  path: Path;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The actions of `raw` that pass the schema, at their own indexes (a sparse array; `forEach` skips holes). */
function salvageActions(raw: unknown): Action[] {
  const out: Action[] = [];
  if (Array.isArray(raw))
    raw.forEach((a, j) => {
      const r = actionSchema.safeParse(a);
      if (r.success) out[j] = r.data;
    });
  return out;
}

/**
 * The action lists of a rules file: from the parsed file, or — when the file failed its schema —
 * whatever actions of the raw YAML still parse, so campaign and template references are checked in
 * the same run as the schema errors.
 */
function actionSections(parsed: ConfigFiles['rules'] | undefined, raw: unknown): ActionSection[] {
  if (parsed)
    return [
      ...parsed.rules.map((r, i) => ({ actions: r.actions, path: ['rules', i, 'actions'] as Path })),
      { actions: parsed.default, path: ['default'] },
      { actions: parsed.welcome, path: ['welcome'] },
    ];
  if (!isRecord(raw)) return [];
  const rules = Array.isArray(raw.rules) ? raw.rules : [];
  return [
    ...rules.map((r, i) => ({ actions: salvageActions(isRecord(r) ? r.actions : undefined), path: ['rules', i, 'actions'] as Path })),
    { actions: salvageActions(raw.default), path: ['default'] },
    { actions: salvageActions(raw.welcome), path: ['welcome'] },
  ];
}

/** The ids of the raw rules (undefined where a rule has no string id). */
function rawRuleIds(raw: unknown): (string | undefined)[] {
  const rules = isRecord(raw) && Array.isArray(raw.rules) ? raw.rules : [];
  return rules.map((r) => (isRecord(r) && typeof r.id === 'string' ? r.id : undefined));
}

/** Campaign names of campaigns.yaml, also when the file failed its schema (the keys of `campaigns:`). */
function campaignNamesOf(parsed: ConfigFiles['campaigns'] | undefined, raw: unknown, present: boolean): string[] | undefined {
  if (parsed) return Object.keys(parsed.campaigns);
  if (!present) return undefined;
  return isRecord(raw) && isRecord(raw.campaigns) ? Object.keys(raw.campaigns) : undefined;
}

/**
 * Names each rule by its id as well as its index (`ruleId`, which `formatIssue` shows as
 * `rules[2] (id "follow-from-store-qr").match.event`), so an operator finds it without counting.
 *
 * @example nameRules([{ file, path: 'rules[0].match', message }], file, ['hello'])
 */
function nameRules(issues: ConfigIssue[], file: string | undefined, ids: readonly (string | undefined)[]): void {
  for (const issue of issues) {
    if (issue.file !== file) continue;
    const m = /^rules\[(\d+)\]/.exec(issue.path);
    const id = m ? ids[Number(m[1])] : undefined;
    if (id !== undefined) issue.ruleId = id;
  }
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v;
}

// === Loading

/**
 * Reads, validates, cross-checks and compiles the config in `dir`. Never throws for bad config: all
 * problems come back as issues. Warnings (a menu click key with no rule, a rule that can never match)
 * do not stop the config from loading.
 *
 * @example const r = loadConfig('test/fixtures/config/basic', { viewsDir: 'test/fixtures/config/basic/views' });
 * @see https://github.com/probot/probot/blob/master/src/context.ts
 */
export function loadConfig(dir: string, options: LoadConfigOptions = {}): LoadConfigResult {
  const absDir = path.resolve(dir);
  const viewsDir = path.resolve(options.viewsDir ?? path.join(absDir, '..', 'views'));
  const limits: YamlLimits = { ...DEFAULT_YAML_LIMITS, ...options.limits };
  const errors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const hash = crypto.createHash('sha256');

  let dirStat: fs.Stats | undefined;
  try {
    dirStat = fs.statSync(absDir);
  } catch {
    dirStat = undefined;
  }
  if (!dirStat || !dirStat.isDirectory()) {
    return { ok: false, errors: [{ file: displayPath(absDir), path: '', message: 'config folder does not exist' }], warnings };
  }

  // 1. Each file: read, parse, validate.
  const files: Partial<Record<ConfigFileKey, unknown>> = {};
  const lineOfs: Partial<Record<ConfigFileKey, (p: readonly PropertyKey[]) => number | undefined>> = {};
  const shown: Partial<Record<ConfigFileKey, string>> = {};
  /** The YAML as read, also for files that failed their schema (cross-checks still look at them). */
  const raw: Partial<Record<ConfigFileKey, unknown>> = {};
  for (const key of Object.keys(CONFIG_FILES) as ConfigFileKey[]) {
    const spec = CONFIG_FILES[key];
    const abs = path.join(absDir, spec.file);
    const file = displayPath(abs);
    shown[key] = file;
    let data: unknown = null;
    let lineOf: (p: readonly PropertyKey[]) => number | undefined = () => undefined;
    if (!fs.existsSync(abs)) {
      if (!spec.optional) {
        errors.push({ file, path: '', message: 'file is missing (it is required)' });
        continue;
      }
      hash.update(`${spec.file}\u0000<absent>\u0000`);
    } else {
      const read = readYamlFile(abs, file, limits);
      if (!read.ok) {
        errors.push(...read.issues);
        continue;
      }
      hash.update(`${spec.file}\u0000${read.text}\u0000`);
      data = read.data;
      lineOf = read.lineOf;
    }
    lineOfs[key] = lineOf;
    raw[key] = data;
    const parsed = spec.schema.safeParse(data, { error: configErrorMap });
    if (!parsed.success) {
      errors.push(...zodToIssues(parsed.error, file, lineOf, data));
      continue;
    }
    files[key] = parsed.data;
  }

  // 2. Templates.
  const loaded = loadTemplates(viewsDir);
  errors.push(...loaded.issues);
  for (const [name, src] of [...loaded.sources].sort(([a], [b]) => a.localeCompare(b))) hash.update(`templates/${name}\u0000${src}\u0000`);

  const issueAt = (key: ConfigFileKey, p: Path, message: string): ConfigIssue => ({
    file: shown[key]!,
    line: lineOfs[key]?.(p),
    path: formatPath(p),
    message,
  });

  // 3. Compile rules (even when other files failed, to report as much as possible at once).
  const rulesFile = files.rules as ConfigFiles['rules'] | undefined;
  let compiled: ReturnType<typeof compileRules> | undefined;
  if (rulesFile) {
    compiled = compileRules(rulesFile);
    for (const e of compiled.errors) errors.push(issueAt('rules', e.path, e.message));
    for (const w of compiled.warnings) warnings.push(issueAt('rules', w.path, w.message));
    if (rulesFile.rules.length === 0 && rulesFile.default.length === 0 && rulesFile.welcome.length === 0)
      warnings.push({ file: shown.rules!, path: '', message: 'no rules, default or welcome: the bot will not answer anything' });
  }

  // 4. Cross-checks: campaigns, templates, inline EJS.
  const inline = new Map<string, TemplateFn>();
  const campaignsFile = files.campaigns as ConfigFiles['campaigns'] | undefined;
  const campaignNames = campaignNamesOf(campaignsFile, raw.campaigns, 'campaigns' in raw && raw.campaigns !== null);
  const compileInline = (s: string, onError: (msg: string) => void): TemplateFn | undefined => {
    if (!hasTags(s)) return undefined;
    const have = inline.get(s);
    if (have) return have;
    try {
      const fn = compileTemplate(s);
      inline.set(s, fn);
      return fn;
    } catch (err) {
      onError(`does not compile: ${ejsErrorMessage(err).replace(/^line \d+: /, '')}`);
      return undefined;
    }
  };
  const sample = { ...emptyTemplateVars(), openid: 'o-sample', text: 'sample', now: '2026-01-01 09:00:00', amount: '1.00', send_after: '08:00' };

  if (!rulesFile && 'rules' in raw) for (const e of duplicateRuleIds(rawRuleIds(raw.rules))) errors.push(issueAt('rules', e.path, e.message));
  for (const section of actionSections(rulesFile, raw.rules)) {
    const { actions, specs } = actionSites(section.actions, section.path);
    for (const { action, path: p } of actions) {
      if (action.type === 'grant' && campaignNames !== undefined && !campaignNames.includes(action.campaign)) {
        errors.push(
          issueAt(
            'rules',
            [...p, 'grant'],
            `campaign "${action.campaign}" is not defined in ${CONFIG_FILES.campaigns.file}${didYouMean(action.campaign, campaignNames)} (${
              campaignNames.length > 0 ? `defined: ${campaignNames.join(', ')}` : 'no campaigns are defined'
            })`,
          ),
        );
      }
    }
    for (const site of specs) {
      const s = site.spec;
      const locals = { ...sample, campaign: site.campaign ?? '' };
      const inlineLocals = { vars: {}, ...locals };
      if (s.kind === 'template') {
        const fn = loaded.named.get(s.template);
        if (!fn) {
          if (!loaded.sources.has(s.template)) {
            const available = [...loaded.sources.keys()];
            errors.push(
              issueAt(
                'rules',
                [...site.path, 'template'],
                `template "${s.template}" not found in ${displayPath(path.join(viewsDir, 'templates'))}${didYouMean(s.template, available)} (${
                  available.length > 0 ? `available: ${available.join(', ')}` : 'no templates there'
                })`,
              ),
            );
          }
          continue;
        }
        const clash = Object.keys(s.vars ?? {}).filter((k) => BUILTIN_VAR_NAMES.has(k));
        if (clash.length > 0) {
          errors.push(
            issueAt(
              'rules',
              [...site.path, 'vars', clash[0]],
              `"${clash[0]}" is a built-in variable; choose another name (built-ins: ${[...BUILTIN_VAR_NAMES].join(', ')})`,
            ),
          );
          continue;
        }
        try {
          fn({ ...(s.vars ?? {}), vars: s.vars ?? {}, ...locals });
        } catch (err) {
          errors.push(issueAt('rules', [...site.path, 'template'], `template "${s.template}" fails with this rule's variables: ${ejsErrorMessage(err)}`));
        }
        continue;
      }
      for (const str of templateStringsOf(s)) {
        let failed = false;
        const fn = compileInline(str, (msg) => {
          failed = true;
          errors.push(issueAt('rules', site.path, msg));
        });
        if (!fn || failed) continue;
        try {
          fn(inlineLocals);
        } catch (err) {
          errors.push(issueAt('rules', site.path, `fails with the built-in variables: ${ejsErrorMessage(err).replace(/^line \d+: /, '')}`));
        }
      }
    }
  }
  // Grant reply fallbacks (campaign texts, defaults) are compiled now too.
  for (const t of Object.values(DEFAULT_GRANT_TEXTS)) compileInline(t, () => undefined);
  if (campaignsFile) {
    for (const [name, c] of Object.entries(campaignsFile.campaigns)) {
      const replies = ((c as { replies?: Record<string, unknown> }).replies ?? {}) as Record<string, unknown>;
      for (const [outcome, text] of Object.entries(replies)) {
        if (typeof text !== 'string') continue;
        const at: Path = ['campaigns', name, 'replies', outcome];
        const fn = compileInline(text, (msg) => errors.push(issueAt('campaigns', at, msg)));
        if (fn) {
          try {
            fn({ vars: {}, ...sample, campaign: name, outcome });
          } catch (err) {
            errors.push(issueAt('campaigns', at, `fails with the built-in variables: ${ejsErrorMessage(err).replace(/^line \d+: /, '')}`));
          }
        }
      }
    }
  }

  // 5. Campaigns against limits.
  const limitsFile = files.limits as ConfigFiles['limits'] | undefined;
  if (campaignsFile && limitsFile) {
    for (const i of checkCampaignsAgainstLimits(campaignsFile.campaigns, limitsFile)) errors.push(issueAt('campaigns', i.path, i.message));
  }
  // 5a. Cards against sub-merchants, card campaigns against cards.
  for (const i of checkCardsConfig(files as unknown as Parameters<typeof checkCardsConfig>[0])) errors.push(issueAt(i.file as ConfigFileKey, i.path, i.message));
  // 5b. Spend rules against campaigns and limits.
  const spendFile = files.spend as ConfigFiles['spend'] | undefined;
  if (spendFile && campaignsFile) for (const i of checkSpendRules(spendFile, campaignsFile.campaigns, limitsFile)) errors.push(issueAt('spend', i.path, i.message));

  // 6. Menu keys with no rule (warning): try each click key against the rules, windows ignored.
  const menuFile = files.menu as ConfigFiles['menu'] | undefined;
  if (menuFile && compiled) {
    for (const k of menuKeys(menuFile)) {
      if (k.type !== 'click') continue;
      const probe = {
        ToUserName: 'gh_probe',
        FromUserName: 'o-probe',
        CreateTime: 0,
        MsgType: 'event',
        Event: 'CLICK',
        EventKey: k.key,
      } as InboundMessage;
      const d = decide(probe, compiled.rules, 0, { ignoreWindows: true });
      if (d.actions.length === 0) warnings.push(issueAt('menu', k.path, `no rule answers CLICK "${k.key}" (button "${k.name}"); followers who tap it get no reply`));
    }
  }

  const ids = rawRuleIds(raw.rules);
  nameRules(errors, shown.rules, ids);
  nameRules(warnings, shown.rules, ids);

  if (errors.length > 0 || !compiled) {
    if (errors.length === 0) errors.push({ file: shown.rules ?? 'rules.yaml', path: '', message: 'rules could not be loaded' });
    return { ok: false, errors, warnings };
  }

  const ruleSources = new Map<string, { file: string; line?: number }>();
  for (const r of compiled.rules.list) ruleSources.set(r.id, { file: shown.rules!, line: lineOfs.rules?.(['rules', r.index]) });
  const spendSources = new Map<string, { file: string; line?: number }>();
  ((files.spend as ConfigFiles['spend'] | undefined)?.rules ?? []).forEach((r, i) => spendSources.set(r.id, { file: shown.spend!, line: lineOfs.spend?.(['rules', i]) }));

  const config: BotConfig = Object.freeze({
    version: hash.digest('hex').slice(0, 12),
    dir: absDir,
    files: deepFreeze(files as ConfigFiles),
    rules: compiled.rules,
    templates: { named: loaded.named, inline },
    ruleSources,
    spendSources,
  });
  return { ok: true, config, warnings };
}
