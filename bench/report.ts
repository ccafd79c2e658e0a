/**
 * Shared bits of the benchmark reports: a process's peak RSS, and a plain aligned table.
 */
import fs from 'node:fs';
import path from 'node:path';

/**
 * The Node flags of `npm run start:prod` (`node <flags> dist/app.js` in package.json), so a bench
 * server runs with the same V8 settings as the bot in production.
 */
export function productionNodeFlags(root: string): string[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  const words = (pkg.scripts?.['start:prod'] ?? '').split(/\s+/).filter(Boolean);
  return words[0] === 'node' ? words.slice(1).filter((w) => w.startsWith('--')) : [];
}

/**
 * Deletes `dir` (a bench server's config and SQLite files) when this process exits, however it exits
 * short of a crash: a bench run makes one per server, tens of MB each, and they would pile up in the
 * temp folder.
 */
export function removeOnExit(dir: string): void {
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
}

/** Peak resident memory (VmHWM) of a process in MB, or NaN when it can't be read. */
export function peakRssMb(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    return m ? Math.round(Number(m[1]) / 1024) : NaN;
  } catch {
    return NaN;
  }
}

/**
 * CPU time a process has used so far (user + system, all threads), in microseconds, or NaN when it
 * can't be read (not Linux). Read before and after a run, it gives the server's CPU per request, a
 * steadier figure than req/s on a machine whose other load comes and goes.
 */
export function cpuMicros(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1_000_000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}
/** USER_HZ: 100 on every Linux that Node supports. */
const CLOCK_TICKS_PER_SECOND = 100;

/** Prints `lines` under `head`, each column padded to its widest cell. */
export function printTable(head: string[], lines: string[][]): void {
  const widths = head.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c].length)));
  const fmt = (cells: string[]) => cells.map((s, c) => s.padEnd(widths[c])).join('  ');
  console.log(fmt(head));
  for (const l of lines) console.log(fmt(l));
}

/** The common columns of a throughput row; `rss` is shown as given (one figure, or one per process). */
export interface ThroughputFigures {
  name: string;
  reqPerSec: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  /** The ratio to show, when the caller has a better one than req/s over the baseline's (a median). */
  ratio?: number;
}

/**
 * Prints throughput rows against a baseline: req/s, the ratio (the row's own `ratio`, else req/s over
 * the baseline's), p50, p99, any `extra` columns, peak RSS, errors, non-2xx.
 */
export function printThroughput<F extends ThroughputFigures>(
  rows: F[],
  baseline: F,
  rssHead: string,
  rss: (row: F) => string,
  extra: { head: string; cell: (row: F) => string }[] = [],
): void {
  printTable(
    ['case', 'req/s', 'x baseline', 'p50 ms', 'p99 ms', ...extra.map((e) => e.head), rssHead, 'errors', 'non-2xx'],
    rows.map((r) => [
      r.name,
      String(r.reqPerSec),
      (r.ratio ?? r.reqPerSec / baseline.reqPerSec).toFixed(2),
      String(r.p50),
      String(r.p99),
      ...extra.map((e) => e.cell(r)),
      rss(r),
      String(r.errors),
      String(r.non2xx),
    ]),
  );
}
