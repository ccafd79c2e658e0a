/**
 * Test harness: an API sandbox on loopback, a memory store, a token provider and a client wired to it,
 * and a captured log (every pino line as a string).
 */
import { Writable } from 'node:stream';
import { createApiClient, type ApiClient, type ApiClientOptions } from '../../../src/api/client';
import { createTokenProvider, type TokenProvider, type TokenProviderOptions } from '../../../src/api/access-token';
import type { Clock } from '../../../src/lib/clock';
import { createLogger, type Logger } from '../../../src/lib/logger';
import { createMemoryStore } from '../../../src/store/memory';
import type { Store } from '../../../src/store/ports';
import { startApiSandbox, type ApiSandbox, type ApiSandboxOptions } from '../../../src/sandbox/api-server';

export interface CapturedLog {
  lines: string[];
  logger: Logger;
  text(): string;
}

/** A pino logger at trace level whose lines are kept in memory. */
export function captureLog(): CapturedLog {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  // pino accepts any object with write(); createLogger's DestinationStream type is structural.
  const logger = createLogger({ level: 'trace', destination: { write: (s: string) => destination.write(s) } });
  return { lines, logger, text: () => lines.join('') };
}

export interface Harness {
  sandbox: ApiSandbox;
  store: Store;
  tokens: TokenProvider;
  api: ApiClient;
  log: CapturedLog;
  close(): Promise<void>;
}

export async function startHarness(
  o: {
    clock?: Clock;
    sandbox?: ApiSandboxOptions;
    tokens?: Partial<TokenProviderOptions>;
    client?: Partial<ApiClientOptions>;
  } = {},
): Promise<Harness> {
  const sandbox = await startApiSandbox({ clock: o.clock, ...o.sandbox });
  const store = createMemoryStore({ clock: o.clock });
  const log = captureLog();
  const tokens = createTokenProvider({
    appId: sandbox.credentials.appId,
    appSecret: sandbox.credentials.appSecret,
    baseUrl: sandbox.url,
    store: store.kv,
    clock: o.clock,
    log: log.logger,
    ...o.tokens,
  });
  const api = createApiClient({ baseUrl: sandbox.url, tokens, log: log.logger, store: store.kv, clock: o.clock, busyRetryDelayMs: 5, ...o.client });
  return {
    sandbox,
    store,
    tokens,
    api,
    log,
    close: () => sandbox.close(),
  };
}

/** Runs `fn` and returns what it threw (fails the test if it did not throw). */
export async function caught(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to throw');
}
