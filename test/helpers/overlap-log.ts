/**
 * Proof that the processes of a multi-process race really ran at the same time. Each child appends
 * `start <id>` before its racing work and `end <id>` after it to one shared file (O_APPEND: the file's
 * line order is the order the marks happened in, across processes), and waits at a barrier in the
 * middle of its work until every child has started; the parent then checks that every start comes
 * before the first end, i.e. all the racing intervals overlap.
 *
 * @example
 * // child:  mark(log, 'start', id); …half the work…; await barrier(log, 'start', n); …rest…; mark(log, 'end', id);
 * // parent: expectOverlapped(log, n);
 */
import fs from 'node:fs';

/** Appends one mark (a single small O_APPEND write: atomic and ordered between processes). */
export function mark(file: string, event: 'start' | 'end', id: string): void {
  fs.appendFileSync(file, `${event} ${id}\n`);
}

function marks(file: string): { event: string; id: string }[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [event, id] = line.split(' ');
      return { event, id };
    });
}

/** Waits until `count` processes have marked `event` (bounded: fails after `maxPolls` polls of 2 ms). */
export async function barrier(file: string, event: 'start' | 'end', count: number, maxPolls = 10_000): Promise<void> {
  for (let poll = 0; poll < maxPolls; poll++) {
    if (marks(file).filter((m) => m.event === event).length >= count) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`overlap barrier: fewer than ${count} processes marked ${event} in ${file}`);
}

/**
 * The parent's check: `count` distinct processes marked start and end, and every start precedes the
 * first end (so at that moment all of them were inside their racing work).
 */
export function expectOverlapped(file: string, count: number): void {
  const all = marks(file);
  const starts = all.filter((m) => m.event === 'start');
  const ends = all.filter((m) => m.event === 'end');
  expect(new Set(starts.map((m) => m.id)).size).toBe(count);
  expect(new Set(ends.map((m) => m.id)).size).toBe(count);
  const lastStart = all.map((m) => m.event).lastIndexOf('start');
  const firstEnd = all.findIndex((m) => m.event === 'end');
  expect(lastStart).toBeLessThan(firstEnd);
}
