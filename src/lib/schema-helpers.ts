/**
 * Small zod building blocks shared by every config schema, and the error map that turns zod's issues
 * into operator messages: what was expected, what was found, which values are allowed.
 *
 * @example const s = strictObject({ id: z.string() }); s.safeParse(data, { error: configErrorMap });
 * @see https://zod.dev/error-customization
 */
import { z } from 'zod';
import type { ConfigIssue } from './config-issue';
import { formatPath } from './config-issue';
import { linearRegexProblem, type LinearRegexFlags } from './linear-regex';
import { didYouMean } from './closest-name';
import { yuanToFen } from './money';

// === Describing values

/** A short, safe rendering of a value for an error message (strings quoted, long values cut). */
export function showValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
  map: 'a mapping',
};

// === Error map

/**
 * The error map used for every config parse: zod issue → operator message. Schema-level messages
 * (given with `{ error }` / refinements) take precedence over this one.
 *
 * @example rulesFileSchema.safeParse(data, { error: configErrorMap })
 * @see https://zod.dev/error-customization#per-parse-error-customization
 */
export const configErrorMap: z.core.$ZodErrorMap = (iss) => {
  const input = iss.input;
  switch (iss.code) {
    case 'invalid_type': {
      const expected = TYPE_NAMES[iss.expected] ?? iss.expected;
      if (input === undefined) return `is required (expected ${expected})`;
      return `expected ${expected}, got ${showValue(input)}`;
    }
    case 'invalid_value': {
      const values = iss.values.map((v) => String(v));
      if (values.length === 1) return `expected ${values[0]}, got ${showValue(input)}`;
      const hint = typeof input === 'string' ? didYouMean(input, values) : '';
      return `${showValue(input)} is not one of ${values.join(', ')}${hint}`;
    }
    case 'too_big': {
      const max = String(iss.maximum);
      if (iss.origin === 'array') return `has ${Array.isArray(input) ? input.length : '?'} items; at most ${max} allowed`;
      if (iss.origin === 'string') return `is ${typeof input === 'string' ? input.length : '?'} characters long; at most ${max} allowed`;
      return `${showValue(input)} is more than the maximum ${max}`;
    }
    case 'too_small': {
      const min = String(iss.minimum);
      if (iss.origin === 'array') return `has ${Array.isArray(input) ? input.length : '?'} items; at least ${min} required`;
      if (iss.origin === 'string') return Number(iss.minimum) === 1 ? 'must not be empty' : `must be at least ${min} characters long`;
      return `${showValue(input)} is less than the minimum ${min}`;
    }
    case 'invalid_format':
      return `${showValue(input)} is not a valid ${iss.format === 'regex' ? 'value' : iss.format}`;
    case 'unrecognized_keys':
      return `unknown key${iss.keys.length > 1 ? 's' : ''} ${iss.keys.map((k) => `"${k}"`).join(', ')}`;
    case 'invalid_union':
      return `${showValue(input)} does not match any allowed form`;
    default:
      return undefined;
  }
};

// === Building blocks

/**
 * `z.strictObject` whose unknown-key message lists the allowed keys.
 *
 * @example strictObject({ id: z.string(), actions: z.array(action) })
 * @see https://zod.dev/api#zstrictobject
 */
export function strictObject<S extends z.core.$ZodLooseShape>(shape: S) {
  const names = Object.keys(shape);
  const allowed = names.join(', ');
  return z.strictObject(shape, {
    error: (iss) =>
      iss.code === 'unrecognized_keys'
        ? `unknown key${iss.keys.length > 1 ? 's' : ''} ${iss.keys.map((k) => `"${k}"`).join(', ')}${didYouMean(iss.keys[0] ?? '', names)}; allowed keys: ${allowed}`
        : undefined,
  });
}

/**
 * Parses `value` with `schema` inside a transform, forwarding any issues (paths stay relative to the
 * current position). Returns `z.NEVER` on failure.
 *
 * @example z.unknown().transform((v, ctx) => forward(z.string(), v, ctx))
 * @see https://zod.dev/api#transforms
 */
export function forward<T extends z.ZodType>(schema: T, value: unknown, ctx: z.RefinementCtx, prefix: PropertyKey[] = []): z.output<T> {
  const r = schema.safeParse(value, { error: configErrorMap });
  if (r.success) return r.data;
  for (const iss of r.error.issues) ctx.addIssue({ ...(iss as z.core.$ZodIssue), path: [...prefix, ...iss.path] } as never);
  return z.NEVER;
}

/**
 * Accepts one value or a list of them and always yields a list (an empty list is refused).
 *
 * @example oneOrMany(z.string()).parse('a') // ['a']
 * @see https://zod.dev/api#transforms
 */
export function oneOrMany<T extends z.ZodType>(item: T) {
  const list = z.array(item).min(1);
  return z.unknown().transform((v, ctx): z.output<T>[] => (Array.isArray(v) ? forward(list, v, ctx) : [forward(item, v, ctx)]));
}

/**
 * A list whose length limits are reported together with its items' errors (zod skips length checks
 * once an item failed), with a message in the operator's words.
 *
 * @example listOf(button, { max: 3, what: 'buttons', limitNote: 'WeChat allows' })
 * @see https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Creating_Custom-Defined_Menu.html
 */
export function listOf<T extends z.ZodType>(item: T, o: { min?: number; max?: number; what: string; limitNote?: string }) {
  const list = z.array(item);
  return z.unknown().transform((v, ctx): z.output<T>[] => {
    if (Array.isArray(v)) {
      const note = o.limitNote ? `${o.limitNote} ` : '';
      if (o.max !== undefined && v.length > o.max) ctx.addIssue({ code: 'custom', message: `has ${v.length} ${o.what}; ${note}at most ${o.max}` });
      if (o.min !== undefined && v.length < o.min) ctx.addIssue({ code: 'custom', message: `has ${v.length} ${o.what}; ${note}at least ${o.min}` });
    }
    return forward(list, v, ctx);
  });
}

/** ` — did you mean "x"?` for the first of `found` that is a near miss of one of `names`. */
function nearKey(found: readonly string[], names: readonly string[]): string {
  for (const k of found) {
    const hint = didYouMean(k, names);
    if (hint) return hint;
  }
  return '';
}

/**
 * A mapping that must contain exactly one of `keys` (the key names the variant, like
 * `{ reply: … }` vs `{ grant: … }`); the matching schema then parses the whole mapping.
 * Strings are handed to `fromString` when given.
 *
 * @example keyedUnion('action', { reply: replyAction, grant: grantAction })
 * @see https://zod.dev/api#discriminated-unions
 */
export function keyedUnion<R>(
  what: string,
  variants: Record<string, (value: Record<string, unknown>, ctx: z.RefinementCtx) => R>,
  fromString?: (value: string, ctx: z.RefinementCtx) => R,
) {
  const names = Object.keys(variants);
  return z.unknown().transform((v, ctx): R => {
    if (typeof v === 'string' && fromString) return fromString(v, ctx);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      ctx.addIssue({
        code: 'custom',
        message: `expected ${what}${fromString ? ' (a string or a mapping' : ' (a mapping'} with one of the keys ${names.join(', ')}), got ${showValue(v)}`,
      });
      return z.NEVER;
    }
    const present = names.filter((n) => Object.prototype.hasOwnProperty.call(v, n));
    if (present.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message:
          present.length === 0
            ? `${what} needs exactly one of the keys ${names.join(', ')} (found ${
                Object.keys(v)
                  .map((k) => `"${k}"`)
                  .join(', ') || 'no keys'
              })${nearKey(Object.keys(v), names)}`
            : `${what} has several of the keys ${present.join(', ')}; use one per ${what}`,
      });
      return z.NEVER;
    }
    return variants[present[0]](v as Record<string, unknown>, ctx);
  });
}

/**
 * A non-empty string of at most `max` UTF-8 bytes (WeChat counts bytes, so one Chinese character is 3).
 *
 * @example byteString(16, 'a top-level button name')
 * @see https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Creating_Custom-Defined_Menu.html
 */
export function byteString(max: number, what = 'value') {
  return z
    .string()
    .min(1)
    .superRefine((s, ctx) => {
      const n = Buffer.byteLength(s, 'utf8');
      if (n > max) ctx.addIssue({ code: 'custom', message: `${what} is ${n} bytes; at most ${max} bytes allowed (a Chinese character is 3 bytes)` });
    });
}

/**
 * An operator pattern: JavaScript regular-expression syntax that runs on the linear-time engine
 * (`src/lib/linear-regex.ts`). A pattern JavaScript cannot read gets JavaScript's reason; one the
 * linear-time engine cannot run (backreferences, lookahead, lookbehind, …) gets that reason and what
 * to write instead. So no follower's text can make a rule take more than linear time.
 *
 * @example regexString().parse('^hi (\\w+)$'); regexString('u').parse('^\\p{Script=Han}+$')
 * @see https://github.com/google/re2/wiki/Syntax
 */
export function regexString(flags: LinearRegexFlags = '') {
  return z
    .string()
    .min(1)
    .superRefine((s, ctx) => {
      const problem = linearRegexProblem(s, flags);
      if (problem) ctx.addIssue({ code: 'custom', message: `${showValue(s)} ${problem}` });
    });
}

/**
 * A yuan amount in YAML (a number or a string, at most 2 decimals) → fen; `example` is shown in the
 * message for anything else.
 *
 * @example yuanAmount('1.88').parse('1.5') // 150
 */
export function yuanAmount(example: string) {
  return z.union([z.number(), z.string()]).transform((v, ctx) => {
    const fen = yuanToFen(v);
    if (fen === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${v}" is not an amount in yuan with at most 2 decimals (e.g. ${example})` });
      return z.NEVER;
    }
    return fen;
  });
}

/** Names in config (rule ids, templates, campaigns, cards, sub-merchants): letters, digits, `_`, `-`, `.`; 1–64 characters. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * A config file that is one mapping of named entries, `{ <key>: { <name>: <entry> } }`: an empty file
 * or key means none, every name must match {@link NAME_PATTERN}, and `toEntry` turns each parsed entry
 * into what the file's users get.
 *
 * @example namedEntriesFile('cards', cardEntrySchema, 'card', (name, c) => ({ name, ...c }))
 */
export function namedEntriesFile<K extends string, E extends z.ZodType, T>(key: K, entry: E, what: string, toEntry: (name: string, parsed: z.output<E>) => T) {
  return z.preprocess(
    (v) => (v === null || v === undefined ? { [key]: {} } : v),
    z
      .object({ [key]: z.preprocess((v) => v ?? {}, z.record(z.string(), entry)) })
      .strict()
      .superRefine((f, ctx) => {
        for (const name of Object.keys(f[key]))
          if (!NAME_PATTERN.test(name))
            ctx.addIssue({ code: 'custom', path: [key, name], message: `"${name}" is not a ${what} name (letters, digits, "-", "_", "." — at most 64)` });
      })
      .transform(
        (f) => ({ [key]: Object.fromEntries(Object.entries(f[key]).map(([name, parsed]) => [name, toEntry(name, parsed)])) }) as { [P in K]: Record<string, T> },
      ),
  );
}

// === Turning zod errors into config issues

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = data;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg as string];
  }
  return v;
}

/**
 * Converts a zod error on a parsed file into config issues with file, line and path. An unknown key
 * is reported at the key itself.
 *
 * @example zodToIssues(result.error, 'config/rules.yaml', read.lineOf)
 * @see https://zod.dev/basics#handling-errors
 */
export function zodToIssues(error: z.ZodError, file: string, lineOf: (path: readonly PropertyKey[]) => number | undefined, data?: unknown): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const iss of error.issues) {
    const path = iss.code === 'unrecognized_keys' && iss.keys.length > 0 ? [...iss.path, iss.keys[0]] : iss.path;
    let message = iss.message;
    // Unions: zod reports "invalid_union"; name what the input was when the map could not.
    if (iss.code === 'invalid_union' && message === 'Invalid input') message = `${showValue(valueAt(data, iss.path))} does not match any allowed form`;
    const issue: ConfigIssue = { file, line: lineOf(path), path: formatPath(path), message };
    const key = `${issue.path}\u0000${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(issue);
  }
  return out;
}
