/**
 * Decides whether the Redis / PostgreSQL suites run. With `CI` set they always run (and fail loudly
 * when the service is down); elsewhere an unreachable service skips the suite with a visible message.
 *
 * @example describeService('RedisStore', [[REDIS_URL, 6379]], () => { ... });
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

/**
 * `describe` when the services should be tested, else `describe.skip` plus a console warning naming
 * what is missing. `services` lists `[url, defaultPort]` pairs that must all be reachable.
 */
export function describeService(name: string, services: Array<[url: string, defaultPort: number]>, body: () => void): void {
  if (process.env.CI) {
    describe(name, body);
    return;
  }
  const missing = services.filter(([url, port]) => !reachable(url, port)).map(([url, port]) => `${new URL(url).hostname}:${new URL(url).port || port}`);
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  console.warn(`SKIPPED ${name}: nothing listens on ${missing.join(', ')} (set CI=1 to make this a failure)`);
  describe.skip(name, body);
}
