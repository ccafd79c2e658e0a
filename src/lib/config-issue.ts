/**
 * One problem found in the operator config: which file, which line, which path inside the file, and
 * what is wrong (what was expected, which values are allowed). Errors refuse the config; warnings
 * are reported and the config is still used.
 *
 * @example formatIssue({ file: 'config/rules.yaml', line: 14, path: 'rules[3].match.event', message: '"subscrib" is not one of subscribe, …' })
 *   // 'config/rules.yaml:14 rules[3].match.event: "subscrib" is not one of subscribe, …'
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */

export interface ConfigIssue {
  /** The file as shown to the operator (relative to the working directory when inside it). */
  file: string;
  /** 1-based line in the file, when the problem has a place. */
  line?: number;
  /** 1-based column, when known (YAML syntax errors). */
  column?: number;
  /** The id of the rule the path starts in (`rules[N]`), shown next to its index. */
  ruleId?: string;
  /** The path inside the file, e.g. `rules[3].match.event`; empty for the whole file. */
  path: string;
  message: string;
}

/**
 * Formats an issue as one line: `file:line[:column] path: message`, the rule's id next to its index
 * (`rules[2] (id "follow-from-store-qr").match.event`).
 *
 * @example formatIssue({ file: 'config/menu.yaml', line: 2, path: 'button', message: 'at most 3 buttons' })
 * @see https://github.com/probot/probot/blob/master/src/context.ts
 */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}${issue.column === undefined ? '' : `:${issue.column}`}`;
  const path = issue.ruleId === undefined ? issue.path : issue.path.replace(/^rules\[\d+\]/, (at) => `${at} (id ${JSON.stringify(issue.ruleId)})`);
  return path ? `${where} ${path}: ${issue.message}` : `${where}: ${issue.message}`;
}

/**
 * Thrown when the config cannot be used at all (the first load failed). Carries every issue; the
 * `file`/`path` of the first one are copied for callers that only look at one.
 *
 * @example try { createConfigHolder({ dir, viewsDir, log }) } catch (e) { if (e instanceof ConfigError) console.error(e.message) }
 * @see https://github.com/grammyjs/grammY/blob/main/src/core/error.ts
 */
export class ConfigError extends Error {
  readonly file: string;
  readonly path: string;
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(`invalid config (${issues.length} error${issues.length === 1 ? '' : 's'}):\n` + issues.map((i) => `  ${formatIssue(i)}`).join('\n'));
    this.name = 'ConfigError';
    this.file = issues[0]?.file ?? '';
    this.path = issues[0]?.path ?? '';
  }
}

/**
 * Formats a path of keys and indexes as the operator reads it: `rules[3].match.event`.
 *
 * @example formatPath(['rules', 3, 'match', 'event']) // 'rules[3].match.event'
 * @see https://zod.dev/error-formatting
 */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else {
      const s = String(seg);
      out += /^[A-Za-z_$][\w$-]*$/.test(s) ? (out ? `.${s}` : s) : `[${JSON.stringify(s)}]`;
    }
  }
  return out;
}
