/**
 * The bot's HTTP listeners: start and stop a server for a Koa app (with timeouts that keep slow
 * clients from holding sockets), the URL a bound address is reachable at, and the start line that
 * names the addresses really bound.
 *
 * @example const server = await startServer(app, 0, '127.0.0.1'); reachableUrl(server.address() as AddressInfo);
 * @see https://nodejs.org/api/http.html#serverrequesttimeout
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import type { ConfigHolder } from '../config/config-holder';
import type { Logger } from '../lib/logger';
import type { CompositeStore } from '../store/create-store';
import type { WebhookState } from '../wechat/koa/state';

/** An HTTP server for `app`, listening on `port`/`host` (host undefined: every interface). */
export async function startServer(app: Koa<WebhookState>, port: number, host: string | undefined): Promise<http.Server> {
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- Koa's callback never rejects: it answers errors itself (ctx.onerror)
  const server = http.createServer(app.callback());
  // Slow or stalled clients must not hold sockets: WeChat itself gives up after 5 s.
  server.requestTimeout = 15_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

export async function stopServer(server: http.Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections?.();
  await closed;
  server.closeAllConnections?.();
}

/** `http://<address>:<port>` as bound (`[::]` / `0.0.0.0` = every interface). */
function boundUrl(a: AddressInfo): string {
  return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
}

/** A URL of the server reachable from this machine: loopback when it listens on every interface. */
export function reachableUrl(a: AddressInfo): string {
  return isWildcard(a) ? `http://127.0.0.1:${a.port}` : boundUrl(a);
}

/** True for the any-address binds (every interface). */
function isWildcard(a: AddressInfo): boolean {
  return a.address === '::' || a.address === '0.0.0.0';
}

/** The start line: the addresses really bound, so "listening on 127.0.0.1" is never said of `::`. */
export function logListening(log: Logger, info: { bound: AddressInfo; admin?: AddressInfo; store: CompositeStore; config: ConfigHolder; sandbox: boolean }): void {
  const { bound, admin, sandbox } = info;
  const where = (a: AddressInfo, path = '') => `${boundUrl(a)}${path}${isWildcard(a) ? ' (every interface)' : ''}`;
  const adminText = admin ? `; staff endpoints, detailed /healthz and /metrics on ${where(admin)}` : '';
  log.info(
    {
      address: bound.address,
      port: bound.port,
      ...(admin ? { adminAddress: admin.address, adminPort: admin.port } : {}),
      sandbox,
      store: info.store.driver,
      config: info.config.status().version,
    },
    `wechat-bot listening on ${where(bound, '/wechat')}${adminText}` + (sandbox ? ' (sandbox mode: try `npx wechat-bot simulate "hello"`)' : ''),
  );
}
