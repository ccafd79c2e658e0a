/**
 * Checks and compiles the reply templates a config uses, before the config can go live: each named
 * template a rule's reply asks for exists in `views/templates`, its `vars` do not shadow a built-in
 * variable, and it renders with the rule's variables and sample built-ins; every inline EJS string
 * (in rules.yaml replies, the grant reply defaults and campaigns.yaml reply texts) compiles and
 * renders with the built-ins. The inline strings are compiled once here and kept for the handler.
 *
 * @example
 * const templates = checkReplyTemplates(loadTemplates(viewsDir), viewsDir, read.issueAt, errors);
 * for (const site of specs) templates.checkSpec(site);
 * templates.checkCampaignReplies(files.campaigns);
 * @see https://ejs.co/#docs
 */
import path from 'node:path';
import type { ConfigIssue } from '../lib/config-issue';
import { didYouMean } from '../lib/closest-name';
import { BUILTIN_VAR_NAMES, compileTemplate, emptyTemplateVars, hasTags, templateStringsOf, type TemplateFn } from '../reply/build-reply';
import { DEFAULT_GRANT_TEXTS } from '../rules/actions';
import type { ConfigFiles } from './config-files';
import { displayPath, ejsErrorMessage } from './load-templates';
import type { IssueAt, Path } from './read-config-files';
import type { SpecSite } from './rule-action-sites';

/** The named templates as `loadTemplates` found them. */
export interface NamedTemplates {
  named: ReadonlyMap<string, TemplateFn>;
  sources: ReadonlyMap<string, string>;
}

/** What {@link checkReplyTemplates} returns: the checks, and what they compiled. */
export interface ReplyTemplateCheck {
  /** Checks one reply spec of rules.yaml (its named template, or its inline EJS strings). */
  checkSpec(site: SpecSite): void;
  /** Compiles the grant reply defaults and the reply texts of campaigns.yaml. */
  checkCampaignReplies(campaigns: ConfigFiles['campaigns'] | undefined): void;
  /** Every inline EJS string compiled so far, by its source. */
  readonly inline: Map<string, TemplateFn>;
}

/** Built-in variables with sample values, to render each template once at load (fresh per load: a template may change them). */
function sampleVars() {
  return { ...emptyTemplateVars(), openid: 'o-sample', text: 'sample', now: '2026-01-01 09:00:00', amount: '1.00', send_after: '08:00' };
}

/** An EJS error without its `line N: ` prefix (an inline string is one YAML value). */
function inlineError(err: unknown): string {
  return ejsErrorMessage(err).replace(/^line \d+: /, '');
}

/**
 * The template checks of one config load; problems are pushed to `errors`.
 *
 * @example checkReplyTemplates({ named, sources }, 'views', issueAt, errors).checkSpec({ spec, path: ['default', 0, 'reply'] })
 */
export function checkReplyTemplates(templates: NamedTemplates, viewsDir: string, issueAt: IssueAt, errors: ConfigIssue[]): ReplyTemplateCheck {
  const inline = new Map<string, TemplateFn>();
  const SAMPLE = sampleVars();

  function compileInline(s: string, onError: (msg: string) => void): TemplateFn | undefined {
    if (!hasTags(s)) return undefined;
    const have = inline.get(s);
    if (have) return have;
    try {
      const fn = compileTemplate(s);
      inline.set(s, fn);
      return fn;
    } catch (err) {
      onError(`does not compile: ${inlineError(err)}`);
      return undefined;
    }
  }

  function checkNamed(site: SpecSite, s: Extract<SpecSite['spec'], { kind: 'template' }>, locals: Record<string, unknown>): void {
    const fn = templates.named.get(s.template);
    if (!fn) {
      if (!templates.sources.has(s.template)) {
        const available = [...templates.sources.keys()];
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
      return;
    }
    const clash = Object.keys(s.vars ?? {}).filter((k) => BUILTIN_VAR_NAMES.has(k));
    if (clash.length > 0) {
      errors.push(
        issueAt('rules', [...site.path, 'vars', clash[0]], `"${clash[0]}" is a built-in variable; choose another name (built-ins: ${[...BUILTIN_VAR_NAMES].join(', ')})`),
      );
      return;
    }
    try {
      fn({ ...(s.vars ?? {}), vars: s.vars ?? {}, ...locals });
    } catch (err) {
      errors.push(issueAt('rules', [...site.path, 'template'], `template "${s.template}" fails with this rule's variables: ${ejsErrorMessage(err)}`));
    }
  }

  function checkSpec(site: SpecSite): void {
    const s = site.spec;
    const locals = { ...SAMPLE, campaign: site.campaign ?? '' };
    if (s.kind === 'template') return checkNamed(site, s, locals);
    const inlineLocals = { vars: {}, ...locals };
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
        errors.push(issueAt('rules', site.path, `fails with the built-in variables: ${inlineError(err)}`));
      }
    }
  }

  function checkCampaignReplies(campaignsFile: ConfigFiles['campaigns'] | undefined): void {
    // Grant reply fallbacks (campaign texts, defaults) are compiled now too.
    for (const t of Object.values(DEFAULT_GRANT_TEXTS)) compileInline(t, () => undefined);
    if (!campaignsFile) return;
    for (const [name, c] of Object.entries(campaignsFile.campaigns)) {
      const replies = ((c as { replies?: Record<string, unknown> }).replies ?? {}) as Record<string, unknown>;
      for (const [outcome, text] of Object.entries(replies)) {
        if (typeof text !== 'string') continue;
        const at: Path = ['campaigns', name, 'replies', outcome];
        const fn = compileInline(text, (msg) => errors.push(issueAt('campaigns', at, msg)));
        if (!fn) continue;
        try {
          fn({ vars: {}, ...SAMPLE, campaign: name, outcome });
        } catch (err) {
          errors.push(issueAt('campaigns', at, `fails with the built-in variables: ${inlineError(err)}`));
        }
      }
    }
  }

  return { checkSpec, checkCampaignReplies, inline };
}
