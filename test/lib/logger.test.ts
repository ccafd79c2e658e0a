import { hostname } from 'node:os';
import { createLogger, redactNested } from '../../src/lib/logger';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ level: 'debug', destination: { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) } });
  return { log, lines };
}

describe('createLogger', () => {
  it('puts pid and hostname on every line, children included', () => {
    const { log, lines } = capture();
    log.info('root');
    log.child({ module: 'rules' }).warn({ a: 1 }, 'child');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).toMatchObject({ pid: process.pid, hostname: hostname() });
  });

  it('censors secret fields at the top and one level down, without touching the caller’s objects', () => {
    const { log, lines } = capture();
    const api = { token: 'tok-secret', url: 'https://api' };
    const err = Object.assign(new Error('boom'), { key: 'k-secret' });
    log.info({ token: 'top-secret', api, err, list: [{ token: 'in-array' }], req: { headers: { authorization: 'Bearer x' } } }, 'm');
    expect(lines[0]).toMatchObject({
      token: '[redacted]',
      api: { token: '[redacted]', url: 'https://api' },
      err: { type: 'Error', message: 'boom', key: '[redacted]' },
      req: { headers: { authorization: '[redacted]' } },
    });
    expect(api.token).toBe('tok-secret');
    expect(err.key).toBe('k-secret');
  });
});

describe('redactNested', () => {
  it('returns the same object when nothing is secret (no copy on the hot path)', () => {
    const obj = { reqId: 'a-1', method: 'POST', nested: { url: 'u' } };
    expect(redactNested(obj)).toBe(obj);
  });
});
