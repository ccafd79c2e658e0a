/**
 * The HTTP side of the API sandbox: reads a body (413 past 1 MiB), applies the injected faults (a held
 * request, a reset connection, HTTP 502/503, a −1 "system busy"), finds the route by method and path
 * (43001/43002 for the wrong method, 404 for no route), checks `access_token` for authenticated routes,
 * parses JSON bodies as WeChat does (44002 empty, 40033 `\uXXXX` escapes, 47001 not an object), and
 * answers JSON, adding WeChat's ` rid: …` suffix to errors. Every answered request is recorded in
 * `state.calls` (paths only, never tokens).
 *
 * @example const http = await listenApiSandbox({ state, faults, routes, host: '127.0.0.1', port: 0 }); … await http.close();
 * @see https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { FaultKind, Faults } from './api-faults';
import { fail, SandboxApiError, type ApiMethod, type SandboxRequest } from './api-route';
import { remember, type ApiState } from './api-state';
import { requireToken } from './api-token-routes';

/** A `\uXXXX` escape of a non-ASCII character: WeChat answers 40033. */
const NON_ASCII_ESCAPE = /\\u(?:00[89a-fA-F][0-9a-fA-F]|0[1-9a-fA-F][0-9a-fA-F]{2}|[1-9a-fA-F][0-9a-fA-F]{3})/;
const MAX_BODY_BYTES = 1024 * 1024;

/** One endpoint as the server calls it (a table route bound to the state, or a route added by a test). */
export interface BoundRoute {
  handle(req: SandboxRequest): Record<string, unknown> | Promise<Record<string, unknown>>;
  auth: boolean;
}

/** The routes by `METHOD /path`. */
export type RouteMap = Map<string, BoundRoute>;

/** The key of a route in a {@link RouteMap}. */
export function routeKey(method: ApiMethod | string, path: string): string {
  return `${method} ${path}`;
}

/** What {@link listenApiSandbox} needs. */
export interface ApiHttpOptions {
  state: ApiState;
  faults: Faults;
  routes: RouteMap;
  host: string;
  port: number;
}

/** A listening sandbox server. */
export interface ApiHttpServer {
  readonly url: string;
  close(): Promise<void>;
}

/** The JSON body of a request, refused as WeChat refuses bad bodies. */
function parseJsonBody(rawBody: string): Record<string, unknown> {
  if (rawBody.trim() === '') fail(44002, 'empty post data');
  if (NON_ASCII_ESCAPE.test(rawBody)) fail(40033, 'invalid charset. please check your request, if include \\uxxxx will create fail!');
  let v: unknown;
  try {
    v = JSON.parse(rawBody);
  } catch {
    fail(47001, 'data format error');
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(47001, 'data format error');
  return v as Record<string, unknown>;
}

function answer(res: http.ServerResponse, status: number, body: Record<string, unknown> | string): void {
  if (res.writableEnded || res.destroyed) return;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; encoding=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

/**
 * Starts the server on loopback; resolves once it listens.
 *
 * @example const { url, close } = await listenApiSandbox({ state, faults, routes, host: '127.0.0.1', port: 0 });
 */
export async function listenApiSandbox(options: ApiHttpOptions): Promise<ApiHttpServer> {
  const { state, faults, routes } = options;
  const held = new Set<http.ServerResponse>();
  const timers = new Set<NodeJS.Timeout>();
  let ridCounter = 0;
  const rid = () => `${(0x66000000 + ++ridCounter).toString(16)}-${randomBytes(4).toString('hex')}-${randomBytes(4).toString('hex')}`;

  function later(ms: number, fn: () => void): void {
    if (ms <= 0) return fn();
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  }

  /** Applies a fault to the request, if one was drawn; true when the request is dealt with. */
  function applyFault(req: http.IncomingMessage, res: http.ServerResponse, method: string, path: string, delayMs: number, fault: FaultKind | undefined): boolean {
    if (fault === undefined || fault === 'lost') return false;
    remember(state, state.calls, { method, path, fault, ...(fault === 'error' ? { errcode: -1 } : {}) });
    if (fault === 'reset') {
      later(delayMs, () => req.socket.destroy());
    } else if (fault === 'timeout') {
      held.add(res);
      res.on('close', () => held.delete(res));
    } else if (fault === 'http5xx') {
      const status = faults.applied.http5xx % 2 === 0 ? 502 : 503;
      later(delayMs, () => answer(res, status, status === 502 ? 'Bad Gateway' : 'Service Unavailable'));
    } else {
      later(delayMs, () => answer(res, 200, { errcode: -1, errmsg: `system error rid: ${rid()}` }));
    }
    return true;
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, rawBody: string): Promise<void> {
    const parsed = new URL(req.url ?? '/', 'http://sandbox');
    const path = parsed.pathname;
    const method = (req.method ?? 'GET').toUpperCase();
    const delayMs = faults.latency(path);
    const fault = faults.pick(path);
    if (applyFault(req, res, method, path, delayMs, fault)) return;

    let body: Record<string, unknown>;
    let errcode = 0;
    const r = routes.get(routeKey(method, path));
    const other = routes.get(routeKey(method === 'GET' ? 'POST' : 'GET', path));
    try {
      if (!r) {
        if (other) fail(method === 'GET' ? 43002 : 43001, method === 'GET' ? 'require POST method' : 'require GET method');
        remember(state, state.calls, { method, path, errcode: 404 });
        later(delayMs, () => answer(res, 404, 'Not Found'));
        return;
      }
      const sreq: SandboxRequest = {
        method,
        path,
        query: parsed.searchParams,
        rawBody,
        remoteAddress: req.socket.remoteAddress ?? '127.0.0.1',
        json: () => parseJsonBody(rawBody),
      };
      if (r.auth) requireToken(state, sreq);
      const out = await r.handle(sreq);
      body = out;
      if (typeof out.errcode === 'number') errcode = out.errcode;
    } catch (err) {
      if (!(err instanceof SandboxApiError)) {
        remember(state, state.calls, { method, path, fault: 'handler-crash' });
        later(delayMs, () => answer(res, 500, 'Internal Server Error'));
        return;
      }
      errcode = err.errcode;
      body = { errcode: err.errcode, errmsg: `${err.errmsg} rid: ${rid()}` };
    }
    if (fault === 'lost') {
      // Applied, then the answer is lost: the caller sees a reset connection.
      remember(state, state.calls, { method, path, errcode, fault });
      later(delayMs, () => req.socket.destroy());
      return;
    }
    remember(state, state.calls, { method, path, errcode });
    later(delayMs, () => answer(res, 200, body));
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        answer(res, 413, 'Payload Too Large');
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) return;
      handle(req, res, Buffer.concat(chunks).toString('utf8')).catch(() => answer(res, 500, 'Internal Server Error'));
    });
  });
  server.keepAliveTimeout = 1000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`,
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const res of held) res.destroy();
      held.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
