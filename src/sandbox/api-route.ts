/**
 * The shape of the API sandbox's route tables: what a handler sees of a request, how it answers with
 * WeChat's `{ errcode, errmsg }`, and the table entry every area module (`api-*-routes.ts`) exports.
 * A leaf of the sandbox: the areas and the server depend on it, it depends on none of them.
 *
 * @example
 * export const ticketRoutes: ApiRouteTable = [{ method: 'GET', path: '/cgi-bin/ticket/getticket', handle: (req, state) => ({ ...SANDBOX_OK }) }];
 * @see https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html
 */
import type { ApiState } from './api-state';

/** A request as seen by a sandbox route handler. */
export interface SandboxRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  rawBody: string;
  /** The JSON body; throws the 47001/40033/44002 answers WeChat gives to bad bodies. */
  json(): Record<string, unknown>;
  remoteAddress: string;
}

/** Throw from a route handler to answer `{ errcode, errmsg }`. */
export class SandboxApiError extends Error {
  override readonly name = 'SandboxApiError';
  constructor(
    readonly errcode: number,
    readonly errmsg: string,
  ) {
    super(`${errcode} ${errmsg}`);
  }
}

/** WeChat's plain success answer. */
export const SANDBOX_OK: Readonly<Record<string, unknown>> = Object.freeze({ errcode: 0, errmsg: 'ok' });

/**
 * Answers WeChat's error `{ errcode, errmsg }` (the server adds the ` rid: …` suffix).
 *
 * @example if (!openId) fail(41009, 'missing openid');
 */
export function fail(errcode: number, errmsg: string): never {
  throw new SandboxApiError(errcode, errmsg);
}

/**
 * The page a `batchget` body asks for: where it starts (`startField`, default 0) and how many
 * (`sizeField`, an integer 1–`max`; otherwise WeChat's 40053 `invalid <sizeField>`).
 *
 * @example const { start, size } = batchPage(req.json(), 'offset', 'count', 50);
 */
export function batchPage(body: Record<string, unknown>, startField: string, sizeField: string, max: number): { start: number; size: number } {
  const start = Number(body[startField] ?? 0);
  const size = Number(body[sizeField] ?? 0);
  if (!Number.isInteger(size) || size < 1 || size > max) fail(40053, `invalid ${sizeField}`);
  return { start, size };
}

/** The HTTP methods of WeChat's official-account API. */
export type ApiMethod = 'GET' | 'POST';

/** One endpoint: its handler answers JSON (sent as is) or throws SandboxApiError. */
export interface ApiRoute {
  method: ApiMethod;
  path: string;
  /** Checks `access_token` first (default true). */
  auth?: boolean;
  handle(req: SandboxRequest, state: ApiState): Record<string, unknown> | Promise<Record<string, unknown>>;
}

/** The endpoints of one WeChat area. */
export type ApiRouteTable = readonly ApiRoute[];
