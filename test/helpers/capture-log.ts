/**
 * A real logger whose lines are kept, parsed, for assertions (`lines`), with an optional callback per
 * line so a test can await the next one instead of sleeping.
 */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/lib/logger';

export interface CapturedLog {
  log: Logger;
  /** Every line written, parsed from JSON (pino: `level` 30 info, 40 warn, 50 error; `msg`). */
  lines: Record<string, unknown>[];
  /** Resolves on the next line written. */
  nextLine(): Promise<void>;
}

export function captureLog(level = 'info'): CapturedLog {
  const lines: Record<string, unknown>[] = [];
  let onLine: (() => void) | undefined;
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      const resolve = onLine;
      onLine = undefined;
      resolve?.();
      cb();
    },
  });
  return { log: createLogger({ level, destination }), lines, nextLine: () => new Promise<void>((resolve) => (onLine = resolve)) };
}
