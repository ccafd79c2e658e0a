/**
 * Reads one operator YAML file defensively and keeps source positions, so every later error can name
 * its line. Hostile input is refused before it can cost anything: a size cap (checked before reading),
 * a nesting-depth cap (checked on the raw text before parsing, then on the parsed tree), a cap on
 * alias expansion ("billion laughs"), unknown tags, duplicate keys, and prototype-pollution keys
 * (`__proto__`, `constructor`, `prototype`).
 *
 * @example const r = readYamlFile('/srv/bot/config/rules.yaml', 'config/rules.yaml');
 *   if (r.ok) console.log(r.data, r.lineOf(['rules', 0, 'id']));
 * @see https://eemeli.org/yaml/#options
 */
import fs from 'node:fs';
import YAML, { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, type Document, type Node } from 'yaml';
import { type ConfigIssue, formatPath } from '../lib/config-issue';

// === Limits

export interface YamlLimits {
  /** Largest file accepted, in bytes (default 1 MiB). */
  maxBytes: number;
  /** Deepest nesting of mappings/sequences accepted (default 32). */
  maxDepth: number;
  /** yaml's `maxAliasCount`: how much alias expansion is tolerated (default 100). */
  maxAliasCount: number;
}

export const DEFAULT_YAML_LIMITS: YamlLimits = { maxBytes: 1024 * 1024, maxDepth: 32, maxAliasCount: 100 };

/** Keys refused anywhere in a file: they would poison object prototypes in naive consumers. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export type YamlPath = readonly PropertyKey[];

export type ReadYamlResult =
  | {
      ok: true;
      /** The parsed data; `null` for an empty file. */
      data: unknown;
      /** The exact bytes read (for the config version hash). */
      text: string;
      /** 1-based line of the value (or key) at `path`; the nearest existing parent when absent. */
      lineOf(path: YamlPath): number | undefined;
    }
  | { ok: false; issues: ConfigIssue[] };

function formatLimit(n: number): string {
  return n % (1024 * 1024) === 0 ? `${n / 1024 / 1024} MiB` : n % 1024 === 0 ? `${n / 1024} KiB` : `${n} bytes`;
}

function tooLarge(size: number, max: number): string {
  return `file is ${size} bytes, larger than the ${formatLimit(max)} (${max} bytes) limit`;
}

/**
 * Scans raw text for flow-collection nesting (`[[[[…`) deeper than `maxDepth`, skipping comments and
 * quoted strings. Needed because the parser itself spends seconds on a megabyte of brackets before
 * giving up. Returns the 1-based line where the limit was crossed.
 */
function scanFlowDepth(text: string, maxDepth: number): number | undefined {
  let depth = 0;
  let line = 1;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') {
      line++;
      if (quote === "'" || quote === '"') continue; // multi-line quoted scalars are legal
      continue;
    }
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '#' && (i === 0 || /\s/.test(text[i - 1]))) {
      const nl = text.indexOf('\n', i);
      if (nl < 0) break;
      i = nl - 1;
    } else if (c === '"' || (c === "'" && (i === 0 || /[\s,[{:]/.test(text[i - 1])))) quote = c;
    else if (c === '[' || c === '{') {
      if (++depth > maxDepth) return line;
    } else if (c === ']' || c === '}') depth = Math.max(0, depth - 1);
  }
  return undefined;
}

function keyOf(node: unknown): string | undefined {
  if (isScalar(node)) return String(node.value);
  return undefined;
}

// === Syntax errors in the operator's words

/**
 * The column to show for a syntax error: yaml puts indentation errors at the start of the line, so
 * point at the first character after the (space) indentation instead, where the operator must look.
 */
function syntaxColumn(col: number | undefined, lineText: string): number | undefined {
  if (col === undefined) return undefined;
  const indent = /^ */.exec(lineText)![0].length;
  return col <= indent && indent < lineText.length ? indent + 1 : col;
}

/**
 * A plain hint for the usual YAML mistakes: a tab in the indentation, items that do not line up.
 *
 * @example yamlHint('TAB_AS_INDENT', 'Tabs are not allowed as indentation', '\t- id: a') // 'YAML indents with spaces only: …'
 * @see https://eemeli.org/yaml/#errors
 */
export function yamlHint(code: string, message: string, lineText: string): string | undefined {
  if (code === 'TAB_AS_INDENT' || /^ *\t/.test(lineText)) return 'YAML indents with spaces only: replace the tab at the start of this line with spaces';
  const flow = /^Flow (map|sequence)/.exec(message);
  if (flow) return `a ${flow[1] === 'map' ? '{' : '['} opened above is not closed: close it on the same line, or indent the lines that continue it`;
  if (code === 'BAD_INDENT') return 'check the indentation: keys of one mapping, and the "- " items of one list, must start in the same column (use spaces, 2 per level)';
  return undefined;
}

// === Reading

/**
 * Reads, checks and parses `absPath`. `file` is the name used in issues (e.g. `config/rules.yaml`).
 * The caller handles a missing file (ENOENT is reported as an issue here too, for direct callers).
 *
 * @example readYamlFile(path.join(dir, 'menu.yaml'), 'config/menu.yaml', { ...DEFAULT_YAML_LIMITS, maxBytes: 65536 })
 * @see https://eemeli.org/yaml/#parsing-yaml
 */
export function readYamlFile(absPath: string, file: string, limits: YamlLimits = DEFAULT_YAML_LIMITS): ReadYamlResult {
  const fail = (message: string, line?: number): ReadYamlResult => ({ ok: false, issues: [{ file, line, path: '', message }] });
  let stat: fs.Stats;
  try {
    stat = fs.statSync(absPath);
  } catch (err) {
    return fail(`cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (!stat.isFile()) return fail('is not a regular file');
  if (stat.size > limits.maxBytes) return fail(tooLarge(stat.size, limits.maxBytes));
  let text: string;
  try {
    const buf = fs.readFileSync(absPath);
    if (buf.length > limits.maxBytes) return fail(tooLarge(buf.length, limits.maxBytes));
    text = buf.toString('utf8');
  } catch (err) {
    return fail(`cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return parseYamlText(text, file, limits);
}

/**
 * Parses YAML text with the same checks as {@link readYamlFile} (minus the file size, which is
 * checked on the text length instead).
 *
 * @example parseYamlText('rules: []', 'config/rules.yaml')
 * @see https://eemeli.org/yaml/#documents
 */
export function parseYamlText(text: string, file: string, limits: YamlLimits = DEFAULT_YAML_LIMITS): ReadYamlResult {
  const fail = (message: string, line?: number): ReadYamlResult => ({ ok: false, issues: [{ file, line, path: '', message }] });
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxBytes) return fail(tooLarge(bytes, limits.maxBytes));
  const deepLine = scanFlowDepth(text, limits.maxDepth);
  if (deepLine !== undefined) return fail(`nesting is deeper than ${limits.maxDepth} levels`, deepLine);

  const lineCounter = new LineCounter();
  let doc: Document.Parsed;
  try {
    doc = YAML.parseDocument(text, { lineCounter, version: '1.2', merge: false, uniqueKeys: true, prettyErrors: true });
  } catch (err) {
    return fail(`YAML could not be parsed: ${(err as Error).message}`);
  }
  const issues: ConfigIssue[] = [];
  const lines = doc.errors.length + doc.warnings.length > 0 ? text.split(/\r?\n/) : [];
  for (const e of [...doc.errors, ...doc.warnings]) {
    const line = e.linePos?.[0]?.line;
    const lineText = line === undefined ? '' : (lines[line - 1] ?? '');
    const column = syntaxColumn(e.linePos?.[0]?.col, lineText);
    const msg = e.message.split(/ at line \d+, column \d+/)[0].split('\n')[0];
    const hint = yamlHint(e.code, msg, lineText);
    issues.push({ file, line, column, path: '', message: `YAML ${doc.errors.includes(e) ? 'syntax error' : 'error'}: ${msg}${hint ? `; ${hint}` : ''}` });
  }
  if (issues.length > 0) return { ok: false, issues };

  const lineAt = (offset: number | undefined) => (offset === undefined ? undefined : lineCounter.linePos(offset).line);

  // Walk the tree without recursion (a deep tree must not blow the stack): depth and forbidden keys.
  const stack: { node: unknown; depth: number; path: PropertyKey[] }[] = [{ node: doc.contents, depth: 0, path: [] }];
  while (stack.length > 0) {
    const { node, depth, path } = stack.pop()!;
    if (isMap(node) || isSeq(node)) {
      if (depth + 1 > limits.maxDepth) return fail(`nesting is deeper than ${limits.maxDepth} levels`, lineAt((node as Node).range?.[0]));
      if (isMap(node)) {
        for (const pair of node.items) {
          const key = keyOf(pair.key);
          if (key !== undefined && FORBIDDEN_KEYS.has(key)) {
            issues.push({
              file,
              line: lineAt((pair.key as Node).range?.[0]),
              path: formatPath([...path, key]),
              message: `key "${key}" is not allowed`,
            });
          }
          if (!isScalar(pair.key) && pair.key !== null) {
            issues.push({ file, line: lineAt((pair.key as Node).range?.[0]), path: formatPath(path), message: 'keys must be plain strings' });
          }
          stack.push({ node: pair.value, depth: depth + 1, path: [...path, key ?? '?'] });
        }
      } else {
        node.items.forEach((item, i) => stack.push({ node: item, depth: depth + 1, path: [...path, i] }));
      }
    } else if (isPair(node)) {
      stack.push({ node: node.value, depth, path });
    }
  }
  if (issues.length > 0) return { ok: false, issues: issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)) };

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: limits.maxAliasCount });
  } catch (err) {
    if (err instanceof ReferenceError && /alias/i.test(err.message))
      return fail(`too many alias expansions (more than ${limits.maxAliasCount}); anchors and aliases are limited to stop expansion attacks`);
    return fail(`YAML could not be converted: ${(err as Error).message}`);
  }

  function lineOf(p: YamlPath): number | undefined {
    let node: unknown = doc.contents;
    let line = lineAt((node as Node | null)?.range?.[0]);
    for (const seg of p) {
      if (isAlias(node)) break;
      if (isMap(node)) {
        const pair = node.items.find((it) => keyOf(it.key) === String(seg));
        if (!pair) break;
        line = lineAt((pair.key as Node).range?.[0]) ?? line;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg];
        if (item === undefined) break;
        line = lineAt((item as Node).range?.[0]) ?? line;
        node = item;
      } else break;
    }
    return line;
  }
  return { ok: true, data, text, lineOf };
}
