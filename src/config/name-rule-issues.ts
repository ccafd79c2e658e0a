/**
 * Names each rule by its id as well as its index in the issues of `rules.yaml` (`ruleId`, which
 * `formatIssue` shows as `rules[2] (id "follow-from-store-qr").match.event`), so an operator finds
 * it without counting. The ids are read from the raw YAML, so this works for a file that failed its
 * schema too.
 *
 * @example nameRules(errors, 'config/rules.yaml', rawRuleIds(raw.rules));
 */
import type { ConfigIssue } from '../lib/config-issue';
import { isRecord } from './rule-action-sites';

/**
 * The ids of the raw rules (undefined where a rule has no string id).
 *
 * @example rawRuleIds({ rules: [{ id: 'hello' }, {}] }) // ['hello', undefined]
 */
export function rawRuleIds(raw: unknown): (string | undefined)[] {
  const rules = isRecord(raw) && Array.isArray(raw.rules) ? raw.rules : [];
  return rules.map((r) => (isRecord(r) && typeof r.id === 'string' ? r.id : undefined));
}

/**
 * Sets `ruleId` on each issue of `file` whose path starts at a rule with an id.
 *
 * @example nameRules([{ file, path: 'rules[0].match', message }], file, ['hello'])
 */
export function nameRules(issues: ConfigIssue[], file: string | undefined, ids: readonly (string | undefined)[]): void {
  for (const issue of issues) {
    if (issue.file !== file) continue;
    const m = /^rules\[(\d+)\]/.exec(issue.path);
    const id = m ? ids[Number(m[1])] : undefined;
    if (id !== undefined) issue.ruleId = id;
  }
}
