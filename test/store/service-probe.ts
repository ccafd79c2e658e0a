/**
 * Decides whether the Redis / PostgreSQL suites run. With `CI` set they always run (and fail loudly
 * when the service is down); elsewhere an unreachable service skips the suite with a visible message.
 *
 * @example describeService('RedisStore', REDIS_URL, 6379, () => { ... });
 */
import { spawnSync } from 'node:child_process';

/** True when a TCP connection to the URL's host:port opens within a second (checked synchronously). */
export function reachable(url: string, defaultPort: number): boolean {
  const u = new URL(url);
  const script = `
    const s = require('net').connect(${Number(u.port || defaultPort)}, ${JSON.stringify(u.hostname)});
    s.setTimeout(1000, () => process.exit(1));
    s.on('connect', () => process.exit(0));
    s.on('error', () => process.exit(1));`;
  return spawnSync(process.execPath, ['-e', script], { timeout: 3000 }).status === 0;
}

/** `describe` when the service should be tested, else `describe.skip` plus a console warning. */
export function describeService(name: string, url: string, defaultPort: number, body: () => void): void {
  if (process.env.CI || reachable(url, defaultPort)) {
    describe(name, body);
    return;
  }
  const u = new URL(url);
  console.warn(`SKIPPED ${name}: nothing listens on ${u.hostname}:${u.port || defaultPort} (set CI=1 to make this a failure)`);
  describe.skip(name, body);
}
