/**
 * A console page that fails (here: the ledger throws) answers 500 with a short page naming the request
 * id — never the error's message or stack — with the console's security headers, and logs the error
 * with that request id. The JSON API answers `{ ok: false, message }` the same way.
 */
import request from 'supertest';
import { fixedClock } from '../../src/lib/clock';
import { createLogger } from '../../src/lib/logger';
import { startConsoleTestBot, type ConsoleSessionCookies, type ConsoleTestBot } from './console-bot';

const SECRET_DETAIL = 'connect ECONNREFUSED db-internal.example:5432 password=hunter2';

describe('console error pages', () => {
  let cb: ConsoleTestBot;
  let s: ConsoleSessionCookies;
  const lines: Record<string, unknown>[] = [];
  beforeAll(async () => {
    const log = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });
    cb = await startConsoleTestBot({ clock: fixedClock(Date.parse('2026-12-04T04:30:00Z')), log });
    s = await cb.login();
    cb.bot.ledger.findGrants = () => Promise.reject(new Error(SECRET_DETAIL));
  });
  afterAll(() => cb.close());

  it.each([
    ['/console/ledger', 'text/html'],
    ['/console/api/ledger/grants', 'application/json'],
  ])('GET %s answers 500 without the error, with the request id and the security headers', async (path, type) => {
    const res = await request(cb.app).get(path).set('cookie', s.cookie);
    expect(res.status).toBe(500);
    expect(res.headers['content-type']).toContain(type);
    expect(res.text).not.toContain('ECONNREFUSED');
    expect(res.text).not.toContain('hunter2');
    expect(res.text).not.toMatch(/at .*\.ts:\d+/);
    const reqId = res.headers['x-request-id'] as string;
    expect(res.text).toContain(reqId);
    expect(res.headers['cache-control']).toContain('no-store');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toBeDefined();
    expect(lines).toEqual(expect.arrayContaining([expect.objectContaining({ level: 50, reqId })]));
  });
});
