/**
 * The ledger page's search, read from the query string (the page, its JSON API and its CSV export
 * read it alike): follower (`openid`), bill number (`bill`), `campaign`, `state` (one or more
 * statuses, repeated or comma-separated), `from` / `to` (Beijing days, `YYYY-MM-DD`, both included),
 * `page` and `size`. Empty fields are absent (a submitted form sends them all). Anything else is
 * refused, each problem saying what, where and how to fix it — the caller answers 400 with them; the
 * values go to the ledger as bound parameters, never into SQL.
 *
 * @example
 * const q = parseLedgerQuery({ campaign: 'welcome', from: '2026-12-01', to: '2026-12-04', page: '2' });
 * if (!q.ok) ctx.status = 400; // q.problems: [{ field, value, message, fix }]
 */
import { shanghaiToEpoch } from '../lib/clock';
import { GRANT_STATUSES, type GrantFilter, type GrantStatus } from '../rewards/ledger';

/** One refused field of a search: what is wrong (`message`), where (`field`, the `value` given), how to fix it. */
export interface QueryProblem {
  field: string;
  value: string;
  message: string;
  fix: string;
}

/** A valid search: the ledger filter, the page asked for, and the fields as given (to refill the form). */
export interface LedgerQuery {
  filter: GrantFilter;
  page: number;
  size: number;
  /** The fields as given (trimmed), for the form and the CSV link. */
  fields: Record<string, string>;
}

export type ParsedLedgerQuery = ({ ok: true } & LedgerQuery) | { ok: false; problems: QueryProblem[]; fields: Record<string, string> };

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;
const MAX_PAGE = 100_000;
/** The longest date range a search may span (days). */
const MAX_RANGE_DAYS = 366;
const DAY_MS = 86_400_000;

/** The parameters the search reads; `lang` is the console's language switch. */
const KNOWN = new Set(['openid', 'bill', 'campaign', 'state', 'from', 'to', 'page', 'size', 'lang']);

type Raw = Record<string, string | string[] | undefined>;

/** A field's values, trimmed, empty ones dropped. */
function valuesOf(raw: Raw, name: string): string[] {
  const v = raw[name];
  return (Array.isArray(v) ? v : v === undefined ? [] : [v]).map((s) => s.trim()).filter((s) => s !== '');
}

/** Shortens a hostile value for an error message. */
const shown = (v: string) => (v.length > 60 ? `${v.slice(0, 60)}…` : v);

/** A Beijing day `YYYY-MM-DD` as the epoch ms of its 00:00, or undefined when it is no real day. */
export function beijingDayStart(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const utc = new Date(Date.UTC(y, mo - 1, d));
  if (utc.getUTCFullYear() !== y || utc.getUTCMonth() !== mo - 1 || utc.getUTCDate() !== d) return undefined;
  return shanghaiToEpoch(y, mo, d);
}

interface FieldRule {
  name: string;
  pattern: RegExp;
  message: string;
  fix: string;
}

const TEXT_FIELDS: FieldRule[] = [
  {
    name: 'openid',
    pattern: /^[A-Za-z0-9_-]{1,64}$/,
    message: 'is not an openid',
    fix: 'give the follower\'s whole openid: letters, digits, "-" and "_" only, at most 64 (e.g. oTest000000000000000000001)',
  },
  { name: 'bill', pattern: /^[0-9A-Za-z]{1,32}$/, message: 'is not a bill number', fix: 'give the whole mch_billno: 28 digits, or a CARD… reference of a card grant' },
  {
    name: 'campaign',
    pattern: /^[A-Za-z0-9_.:-]{1,64}$/,
    message: 'is not a campaign id',
    fix: 'give the campaign id as in campaigns.yaml: letters, digits, "-", "_", "." or ":", at most 64',
  },
];

/**
 * Parses and validates the query string of a ledger search.
 *
 * @example parseLedgerQuery(ctx.query)
 */
export function parseLedgerQuery(raw: Raw): ParsedLedgerQuery {
  const problems: QueryProblem[] = [];
  const fields: Record<string, string> = {};
  const filter: GrantFilter = {};
  for (const name of Object.keys(raw))
    if (!KNOWN.has(name))
      problems.push({ field: name, value: '', message: 'is not a search field', fix: `use only ${[...KNOWN].filter((k) => k !== 'lang').join(', ')}` });
  const one = (name: string): string | undefined => {
    const vs = valuesOf(raw, name);
    if (vs.length > 1) problems.push({ field: name, value: vs.map(shown).join(', '), message: 'is given more than once', fix: `give ${name} once` });
    if (vs[0] !== undefined) fields[name] = vs[0];
    return vs[0];
  };
  for (const rule of TEXT_FIELDS) {
    const v = one(rule.name);
    if (v === undefined) continue;
    if (!rule.pattern.test(v)) problems.push({ field: rule.name, value: shown(v), message: rule.message, fix: rule.fix });
    else if (rule.name === 'openid') filter.openId = v;
    else if (rule.name === 'bill') filter.billNo = v;
    else filter.campaign = v;
  }
  const states = valuesOf(raw, 'state').flatMap((s) =>
    s
      .split(',')
      .map((x) => x.trim().toUpperCase())
      .filter((x) => x !== ''),
  );
  if (states.length > 0) {
    fields.state = states.join(',');
    const bad = states.filter((s) => !(GRANT_STATUSES as readonly string[]).includes(s));
    if (bad.length > 0) problems.push({ field: 'state', value: shown(bad.join(', ')), message: 'is not a grant state', fix: `use ${GRANT_STATUSES.join(', ')}` });
    else filter.statuses = [...new Set(states)] as GrantStatus[];
  }
  readDays(one, filter, problems);
  const page = readInt(one('page'), 'page', 1, MAX_PAGE, 1, problems);
  const size = readInt(one('size'), 'size', 1, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE, problems);
  return problems.length > 0 ? { ok: false, problems, fields } : { ok: true, filter, page, size, fields };
}

function readDays(one: (name: string) => string | undefined, filter: GrantFilter, problems: QueryProblem[]): void {
  const day = (name: 'from' | 'to') => {
    const v = one(name);
    if (v === undefined) return undefined;
    const start = beijingDayStart(v);
    if (start === undefined) problems.push({ field: name, value: shown(v), message: 'is not a day', fix: 'give a Beijing day as YYYY-MM-DD, e.g. 2026-12-04' });
    return start;
  };
  const from = day('from');
  const to = day('to');
  if (from !== undefined) filter.createdFrom = from;
  if (to !== undefined) filter.createdBefore = to + DAY_MS;
  if (from !== undefined && to !== undefined && from > to)
    problems.push({ field: 'to', value: '', message: 'is before from', fix: 'give a "to" day on or after the "from" day (both days are included)' });
  else if (from !== undefined && to !== undefined && (to - from) / DAY_MS >= MAX_RANGE_DAYS)
    problems.push({ field: 'to', value: '', message: `spans more than ${MAX_RANGE_DAYS} days`, fix: `search at most ${MAX_RANGE_DAYS} days at a time` });
}

function readInt(v: string | undefined, name: string, min: number, max: number, dflt: number, problems: QueryProblem[]): number {
  if (v === undefined) return dflt;
  if (!/^\d{1,7}$/.test(v) || Number(v) < min || Number(v) > max) {
    problems.push({ field: name, value: shown(v), message: `is not a whole number from ${min} to ${max}`, fix: `give ${name} as a number from ${min} to ${max}` });
    return dflt;
  }
  return Number(v);
}

/** The search's fields as a query string (for the pager and the CSV link), `overrides` applied. */
export function queryStringOf(fields: Record<string, string>, overrides: Record<string, string | undefined> = {}): string {
  const all = { ...fields, ...overrides };
  return new URLSearchParams(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '')).toString();
}
