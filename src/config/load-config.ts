/**
 * Loads the whole operator config from a folder: reads each registered file defensively, validates it
 * with its schema, cross-checks the files against each other and against `views/templates`, compiles
 * the rules and templates, and returns one immutable `BotConfig` — or every error found, each naming
 * file, line and path. Used by the running bot (through `ConfigHolder`, which watches and reloads) and
 * by `check-config`.
 *
 * Each job is its own module, run here in order:
 * 1. `read-config-files.ts` — read, parse and validate each file;
 * 2. `load-templates.ts` — the named templates of `views/templates`;
 * 3. `compileRules` (`rules/compile-rules.ts`) — the rules, even when other files failed, to report
 *    as much as possible at once;
 * 4. `check-rule-references.ts` and `check-reply-templates.ts` over the actions of
 *    `rule-action-sites.ts` — campaigns, templates, inline EJS;
 * 5. `check-across-files.ts` — campaigns against limits, cards, spend rules;
 * 6. `check-menu-keys.ts` — menu keys with no rule (warnings);
 * 7. `name-rule-issues.ts` — rule ids on the issues, then `config-version.ts` assembles the config.
 *
 * @example
 * const r = loadConfig('config', { viewsDir: 'views' });
 * if (!r.ok) for (const e of r.errors) console.error(formatIssue(e));
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
import path from 'node:path';
import type { ConfigIssue } from '../lib/config-issue';
import { compileRules, type CompiledRules } from '../rules/compile-rules';
import type { BotConfig, LoadConfigOptions, LoadConfigResult } from './bot-config';
import { checkAcrossFiles } from './check-across-files';
import { checkMenuKeys } from './check-menu-keys';
import { checkReplyTemplates } from './check-reply-templates';
import { checkGrantCampaigns, checkRawRuleIds } from './check-rule-references';
import type { ConfigFiles } from './config-files';
import { assembleConfig, createConfigVersion } from './config-version';
import { loadTemplates } from './load-templates';
import { nameRules, rawRuleIds } from './name-rule-issues';
import { configFolderIssue, readConfigFiles, type IssueAt } from './read-config-files';
import { DEFAULT_YAML_LIMITS, type YamlLimits } from './read-yaml-file';
import { actionSections, actionSites, campaignNamesOf } from './rule-action-sites';

export type { BotConfig, LoadConfigOptions, LoadConfigResult };

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
  const warnings: ConfigIssue[] = [];
  const missing = configFolderIssue(absDir);
  if (missing) return { ok: false, errors: [missing], warnings };

  // 1. Each file: read, parse, validate. 2. Templates.
  const version = createConfigVersion();
  const read = readConfigFiles(absDir, limits, version);
  const { files, raw, shown, issueAt, errors } = read;
  const loaded = loadTemplates(viewsDir);
  errors.push(...loaded.issues);
  version.addTemplates(loaded.sources);

  // 3. Compile rules (even when other files failed, to report as much as possible at once).
  const rulesFile = files.rules as ConfigFiles['rules'] | undefined;
  const compiled = rulesFile ? compileRulesFile(rulesFile, shown.rules!, issueAt, errors, warnings) : undefined;

  // 4. Cross-checks of the rules' actions: campaigns, templates, inline EJS.
  const campaignsFile = files.campaigns as ConfigFiles['campaigns'] | undefined;
  const campaignNames = campaignNamesOf(campaignsFile, raw.campaigns, 'campaigns' in raw && raw.campaigns !== null);
  const templates = checkReplyTemplates(loaded, viewsDir, issueAt, errors);
  if (!rulesFile && 'rules' in raw) checkRawRuleIds(raw.rules, issueAt, errors);
  for (const section of actionSections(rulesFile, raw.rules)) {
    const { actions, specs } = actionSites(section.actions, section.path);
    checkGrantCampaigns(actions, campaignNames, issueAt, errors);
    for (const site of specs) templates.checkSpec(site);
  }
  templates.checkCampaignReplies(campaignsFile);

  // 5. Checks across files. 6. Menu keys with no rule (warning).
  checkAcrossFiles(files, issueAt, errors);
  const menuFile = files.menu as ConfigFiles['menu'] | undefined;
  if (menuFile && compiled) checkMenuKeys(menuFile, compiled, issueAt, warnings);

  // 7. Rule ids on the issues; then the config, when nothing failed.
  const ids = rawRuleIds(raw.rules);
  nameRules(errors, shown.rules, ids);
  nameRules(warnings, shown.rules, ids);

  if (errors.length > 0 || !compiled) {
    if (errors.length === 0) errors.push({ file: shown.rules ?? 'rules.yaml', path: '', message: 'rules could not be loaded' });
    return { ok: false, errors, warnings };
  }

  const ruleSources = new Map<string, { file: string; line?: number }>();
  for (const r of compiled.list) ruleSources.set(r.id, { file: shown.rules!, line: read.lineOfs.rules?.(['rules', r.index]) });
  const spendSources = new Map<string, { file: string; line?: number }>();
  ((files.spend as ConfigFiles['spend'] | undefined)?.rules ?? []).forEach((r, i) =>
    spendSources.set(r.id, { file: shown.spend!, line: read.lineOfs.spend?.(['rules', i]) }),
  );
  const config: BotConfig = assembleConfig({
    version,
    dir: absDir,
    files: files as ConfigFiles,
    rules: compiled,
    templates: { named: loaded.named, inline: templates.inline },
    ruleSources,
    spendSources,
  });
  return { ok: true, config, warnings };
}

/** Compiles the rules file; its errors and warnings (and "no rules at all") go to the lists. */
function compileRulesFile(rulesFile: ConfigFiles['rules'], file: string, issueAt: IssueAt, errors: ConfigIssue[], warnings: ConfigIssue[]): CompiledRules {
  const compiled = compileRules(rulesFile);
  for (const e of compiled.errors) errors.push(issueAt('rules', e.path, e.message));
  for (const w of compiled.warnings) warnings.push(issueAt('rules', w.path, w.message));
  if (rulesFile.rules.length === 0 && rulesFile.default.length === 0 && rulesFile.welcome.length === 0)
    warnings.push({ file, path: '', message: 'no rules, default or welcome: the bot will not answer anything' });
  return compiled.rules;
}
