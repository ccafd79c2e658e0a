/**
 * Loads the operator's named reply templates: every `views/templates/<name>.ejs`, compiled once per
 * config load. A template that does not compile is a config error naming the file and line.
 *
 * @example const { sources, issues } = loadTemplates('views');
 * @see https://ejs.co/#docs
 */
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import ejs from 'ejs';
import type { ConfigIssue } from '../lib/config-issue';
import { compileTemplate, type TemplateFn } from '../reply/build-reply';
import { NAME_PATTERN } from '../lib/schema-helpers';

/** Largest template file accepted. */
export const MAX_TEMPLATE_BYTES = 64 * 1024;
/** Most template files read from one folder. */
export const MAX_TEMPLATES = 1000;

/**
 * Turns an EJS error into one line: `line N: what` (EJS errors carry a code excerpt we drop).
 *
 * @example ejsErrorMessage(err) // 'line 3: nope is not defined'
 * @see https://ejs.co/#docs
 */
export function ejsErrorMessage(err: unknown): string {
  const e = err as Error;
  const text = String(e?.message ?? err);
  const lineMatch = /^[^\n]*:(\d+)\n/.exec(text);
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  let what = lines.length > 0 ? lines[lines.length - 1] : text;
  if (/while compiling ejs/.test(text)) what = (/^(.*?) while compiling ejs/m.exec(text)?.[1] ?? what).replace(/ in \S+$/, '');
  const kind = e?.name && e.name !== 'Error' ? `${e.name}: ` : '';
  return `${lineMatch ? `line ${lineMatch[1]}: ` : ''}${kind}${what}`;
}

/**
 * The template line of a syntax error EJS reports without one (a JavaScript syntax error inside a
 * tag): the generated code is parsed again, without running it, and the error's line is mapped back
 * through the `__line = N` markers EJS writes before each template line's code.
 *
 * @example ejsSyntaxErrorLine('Hello\n<%= if ( %>') // 2
 * @see https://ejs.co/#docs
 */
export function ejsSyntaxErrorLine(source: string): number | undefined {
  let generated: string;
  try {
    const t = new (ejs as unknown as { Template: new (text: string, o: object) => { generateSource(): void; source: string } }).Template(source, {
      compileDebug: true,
    });
    t.generateSource();
    generated = t.source;
  } catch {
    return undefined;
  }
  try {
    new vm.Script(`(function () {${generated}\n})`, { filename: 'template' });
    return undefined;
  } catch (err) {
    const at = /^template:(\d+)/.exec(String((err as Error).stack ?? ''));
    if (!at) return undefined;
    const before = generated.split('\n').slice(0, Number(at[1]));
    for (let i = before.length - 1; i >= 0; i--) {
      const m = /__line = (\d+)/.exec(before[i]);
      if (m) return Number(m[1]);
    }
    return 1;
  }
}

/** Display form of a path: relative to the working directory when inside it. */
export function displayPath(abs: string): string {
  const rel = path.relative(process.cwd(), abs);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : abs;
}

/**
 * Reads and compiles `<viewsDir>/templates/*.ejs`. A missing folder means no templates.
 *
 * @example loadTemplates('/srv/bot/views').named.get('help')
 * @see https://ejs.co/#docs
 */
export function loadTemplates(viewsDir: string): {
  named: Map<string, TemplateFn>;
  /** name → source, for hashing into the config version. */
  sources: Map<string, string>;
  issues: ConfigIssue[];
} {
  const dir = path.join(viewsDir, 'templates');
  const named = new Map<string, TemplateFn>();
  const sources = new Map<string, string>();
  const issues: ConfigIssue[] = [];
  let entries: string[];
  try {
    entries = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.ejs'))
      .sort();
  } catch {
    return { named, sources, issues };
  }
  if (entries.length > MAX_TEMPLATES) {
    issues.push({ file: displayPath(dir), path: '', message: `has ${entries.length} templates; at most ${MAX_TEMPLATES} allowed` });
    return { named, sources, issues };
  }
  for (const f of entries) {
    const abs = path.join(dir, f);
    const file = displayPath(abs);
    const name = f.slice(0, -'.ejs'.length);
    if (!NAME_PATTERN.test(name)) {
      issues.push({ file, path: '', message: `"${name}" is not a valid template name (letters, digits, "_", "-", "." — up to 64)` });
      continue;
    }
    let source: string;
    try {
      const st = fs.statSync(abs);
      if (!st.isFile()) continue;
      if (st.size > MAX_TEMPLATE_BYTES) {
        issues.push({ file, path: '', message: `file is ${st.size} bytes, larger than the ${MAX_TEMPLATE_BYTES} byte limit` });
        continue;
      }
      source = fs.readFileSync(abs, 'utf8');
    } catch (err) {
      issues.push({ file, path: '', message: `cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})` });
      continue;
    }
    sources.set(name, source);
    try {
      named.set(name, compileTemplate(source, name));
    } catch (err) {
      const msg = ejsErrorMessage(err);
      const line = /^line (\d+): /.exec(msg);
      issues.push({
        file,
        line: line ? Number(line[1]) : ejsSyntaxErrorLine(source),
        path: '',
        message: `does not compile: ${msg.replace(/^line \d+: /, '')}`,
      });
    }
  }
  return { named, sources, issues };
}
