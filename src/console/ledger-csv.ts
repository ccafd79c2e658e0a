/**
 * The ledger's CSV export: UTF-8 with a byte-order mark (so Excel opens Chinese text right), a header
 * row, one row per grant of the search, oldest first, streamed page by page from the ledger (keyset
 * paging: a large export never sits in memory). Every cell is quoted, and a cell a spreadsheet would
 * read as a formula (starting with `=`, `+`, `-`, `@`, a tab, a carriage return or a line feed — also
 * after leading spaces, and in their full-width forms `＝＋－＠`, which spreadsheets in Chinese and
 * Japanese locales read as the ASCII ones) gets a leading `'` (OWASP's CSV-injection advice). Amounts are yuan with two decimals, times Beijing time with the zone.
 *
 * @example ctx.body = Readable.from(ledgerCsv(ledger, filter));
 * @see https://owasp.org/www-community/attacks/CSV_Injection
 */
import { beijingTime } from '../lib/clock';
import { fenToYuan } from '../lib/money';
import type { GrantFilter, LedgerGrant, LedgerReports } from '../rewards/ledger';

/** The byte-order mark that starts the file. */
export const BOM = '\uFEFF';

/** Rows read from the ledger per query. */
const CHUNK = 500;

const COLUMNS: readonly [string, (g: LedgerGrant) => string | number | null][] = [
  ['id', (g) => g.id],
  ['bill_no', (g) => g.billNo],
  ['campaign', (g) => g.campaign],
  ['kind', (g) => g.kind],
  ['openid', (g) => g.openId],
  ['amount_yuan', (g) => fenToYuan(g.amountFen)],
  ['status', (g) => g.status],
  ['outcome', (g) => g.outcome],
  ['reason', (g) => g.reason],
  ['attempts', (g) => g.attempts],
  ['created_at', (g) => beijingTime(g.createdAt)],
  ['sent_at', (g) => (g.sentAt === null ? null : beijingTime(g.sentAt))],
  ['settled_at', (g) => (g.settledAt === null ? null : beijingTime(g.settledAt))],
  ['last_error', (g) => g.lastError],
];

/** A start a spreadsheet may run as a formula (see the file's comment). */
const FORMULA_START = /^[\t\r\n]|^[ \u3000]*[=+\-@\uFF1D\uFF0B\uFF0D\uFF20]/;

/**
 * One CSV cell: quoted, inner quotes doubled, a formula-looking start defused with `'`.
 *
 * @example csvCell('=1+1') // "\"'=1+1\""
 */
export function csvCell(value: string | number | null): string {
  const text = value === null ? '' : String(value);
  const safe = FORMULA_START.test(text) ? `'${text}` : text;
  return `"${safe.replace(/"/g, '""')}"`;
}

/** One CSV line (CRLF, as RFC 4180 writes it). */
const line = (cells: readonly (string | number | null)[]): string => `${cells.map(csvCell).join(',')}\r\n`;

/**
 * The CSV of every grant matching `filter`, as chunks of text (the BOM and header first).
 *
 * @example for await (const chunk of ledgerCsv(ledger, { campaign: 'welcome' })) out.write(chunk);
 */
export async function* ledgerCsv(ledger: Pick<LedgerReports, 'findGrants'>, filter: GrantFilter): AsyncGenerator<string> {
  yield BOM + line(COLUMNS.map(([name]) => name));
  let afterId: number | undefined;
  for (;;) {
    const rows = await ledger.findGrants(filter, { limit: CHUNK, order: 'oldest', ...(afterId === undefined ? {} : { afterId }) });
    if (rows.length === 0) return;
    yield rows.map((g) => line(COLUMNS.map(([, cell]) => cell(g)))).join('');
    afterId = rows[rows.length - 1]!.id;
    if (rows.length < CHUNK) return;
  }
}

/** The export's file name, dated by the Beijing day: `ledger-20261204.csv`. */
export function csvFileName(now: number): string {
  return `ledger-${beijingTime(now).slice(0, 10).replace(/-/g, '')}.csv`;
}
