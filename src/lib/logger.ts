/**
 * Structured logging (pino) with one child logger per module and redaction of every secret.
 *
 * @example const log = createLogger().child({ module: 'rules' }); log.info({ rule: 'hello' }, 'matched');
 */
import pino, { type Logger, type DestinationStream } from 'pino';

export type { Logger };

/** Field paths that are always censored, wherever they appear in a log object. */
export const REDACT_PATHS = [
  'secret',
  'appSecret',
  'appsecret',
  'token',
  'wechatToken',
  'access_token',
  'accessToken',
  'encodingAESKey',
  'aesKey',
  'payKey',
  'apiKey',
  'key',
  'sign',
  'passphrase',
  'pfx',
  'cert',
  'adminToken',
  'password',
  'authorization',
  '*.secret',
  '*.appSecret',
  '*.token',
  '*.access_token',
  '*.accessToken',
  '*.encodingAESKey',
  '*.payKey',
  '*.apiKey',
  '*.key',
  '*.sign',
  '*.passphrase',
  '*.pfx',
  '*.cert',
  '*.adminToken',
  '*.password',
  'req.headers.authorization',
  'config.params.access_token',
];

export interface LoggerOptions {
  level?: string;
  /** Where lines go (default stdout). Tests pass a stream to capture and assert on lines. */
  destination?: DestinationStream;
  /** Extra literal strings to scrub from every line (the configured secret values themselves). */
  secrets?: readonly string[];
}

/**
 * Builds the root logger. Besides path redaction, every configured secret value is scrubbed from the
 * serialized line, so a secret that slips into a message or an error text is still never written.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const secrets = (options.secrets ?? []).filter((s) => typeof s === 'string' && s.length >= 6);
  const level = options.level ?? process.env.LOG_LEVEL ?? 'info';
  const base = options.destination ?? pino.destination({ dest: 1, sync: false });
  const destination: DestinationStream =
    secrets.length === 0 ? base : { write: (line: string) => base.write(scrubSecrets(line, secrets)) };
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      // pino's default base: `pid` and `hostname` on every line, to tell instances and restarts apart.
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

/** Replaces every occurrence of each secret in `text` with `[redacted]`. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s && out.includes(s)) out = out.split(s).join('[redacted]');
  }
  return out;
}

/** A logger that drops everything (tests that don't look at logs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
