/**
 * Test helper: compiles a rules.yaml body (a string) the way the loader does, throwing with every
 * issue when it does not validate, so table tests can state their rules inline.
 */
import { parseYamlText } from '../../src/config/read-yaml-file';
import { configErrorMap, zodToIssues } from '../../src/lib/schema-helpers';
import { formatIssue, formatPath } from '../../src/lib/config-issue';
import { rulesFileSchema } from '../../src/rules/schema';
import { compileRules, type CompiledRules, type RuleIssue } from '../../src/rules/compile-rules';

export function compileYaml(text: string): { rules: CompiledRules; errors: RuleIssue[]; warnings: RuleIssue[] } {
  const read = parseYamlText(text, 'rules.yaml');
  if (!read.ok) throw new Error(read.issues.map(formatIssue).join('\n'));
  const parsed = rulesFileSchema.safeParse(read.data, { error: configErrorMap });
  if (!parsed.success) throw new Error(zodToIssues(parsed.error, 'rules.yaml', read.lineOf, read.data).map(formatIssue).join('\n'));
  return compileRules(parsed.data);
}

export function rulesFrom(text: string): CompiledRules {
  const r = compileYaml(text);
  if (r.errors.length > 0) throw new Error(r.errors.map((e) => `${e.path.join('.')}: ${e.message}`).join('\n'));
  return r.rules;
}

/** The schema issues of a rules.yaml body, formatted (empty when it validates). */
export function schemaIssues(text: string): string[] {
  const read = parseYamlText(text, 'rules.yaml');
  if (!read.ok) return read.issues.map(formatIssue);
  const parsed = rulesFileSchema.safeParse(read.data, { error: configErrorMap });
  if (parsed.success) {
    const c = compileRules(parsed.data);
    return c.errors.map((e) => formatIssue({ file: 'rules.yaml', line: read.lineOf(e.path), path: formatPath(e.path), message: e.message }));
  }
  return zodToIssues(parsed.error, 'rules.yaml', read.lineOf, read.data).map(formatIssue);
}
