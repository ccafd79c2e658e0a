/**
 * Shared bits of the benchmark reports: a process's peak RSS, and a plain aligned table.
 */
import fs from 'node:fs';

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

/** Prints `lines` under `head`, each column padded to its widest cell. */
export function printTable(head: string[], lines: string[][]): void {
  const widths = head.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c].length)));
  const fmt = (cells: string[]) => cells.map((s, c) => s.padEnd(widths[c])).join('  ');
  console.log(fmt(head));
  for (const l of lines) console.log(fmt(l));
}
