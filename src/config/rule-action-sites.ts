/**
 * The action lists of `rules.yaml` with their paths, and the reply specs inside them — from the parsed
 * file, or, when the file failed its schema, from whatever actions of the raw YAML still parse, so
 * campaign and template references are checked in the same run as the schema errors. Also the
 * campaign names of `campaigns.yaml`, read past its schema errors the same way.
 *
 * @example
 * for (const section of actionSections(files.rules, raw.rules)) {
 *   const { actions, specs } = actionSites(section.actions, section.path);
 * }
 */
import { GRANT_REPLY_KEYS, type Action, type ReplySpec } from '../rules/actions';
import { actionSchema } from '../rules/schema';
import type { ConfigFiles } from './config-files';
import type { Path } from './read-config-files';

/** A reply spec and where it is written. */
export interface SpecSite {
  spec: ReplySpec;
  path: Path;
  /** The grant's campaign, for grant reply variants. */
  campaign?: string;
}

/** A list of actions with its path in rules.yaml; holes where an action failed its schema. */
export interface ActionSection {
  actions: readonly Action[];
  path: Path;
}

function specSites(spec: ReplySpec, at: Path, out: SpecSite[], campaign?: string): void {
  out.push({ spec, path: at, campaign });
  if (spec.kind === 'random') spec.random.forEach((s, i) => specSites(s, [...at, 'random', i], out, campaign));
}

/**
 * Each action of a list with its path, and every reply spec inside them (`random:` members and a
 * grant's reply variants included).
 *
 * @example actionSites(rule.actions, ['rules', 0, 'actions']).specs[0].path // ['rules', 0, 'actions', 0, 'reply']
 */
export function actionSites(actions: readonly Action[], at: Path): { actions: { action: Action; path: Path }[]; specs: SpecSite[] } {
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

export function isRecord(v: unknown): v is Record<string, unknown> {
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
 * The action lists of a rules file (each rule's, `default`, `welcome`): from the parsed file, or
 * salvaged from the raw YAML when it failed its schema.
 *
 * @example actionSections(undefined, { welcome: [{ grant: 'welcome-packet' }] })
 */
export function actionSections(parsed: ConfigFiles['rules'] | undefined, raw: unknown): ActionSection[] {
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

/**
 * Campaign names of campaigns.yaml, also when the file failed its schema (the keys of `campaigns:`);
 * undefined when they cannot be known (then no grant's campaign is checked).
 *
 * @example campaignNamesOf(undefined, { campaigns: { 'welcome-packet': {} } }, true) // ['welcome-packet']
 */
export function campaignNamesOf(parsed: ConfigFiles['campaigns'] | undefined, raw: unknown, present: boolean): string[] | undefined {
  if (parsed) return Object.keys(parsed.campaigns);
  if (!present) return undefined;
  return isRecord(raw) && isRecord(raw.campaigns) ? Object.keys(raw.campaigns) : undefined;
}
