/**
 * Access tokens (`/cgi-bin/token`, `/cgi-bin/stable_token`) as WeChat issues and checks them:
 * appid/secret checks (and the IP whitelist), expiry, a new `/cgi-bin/token` token ends the previous
 * one after the overlap window, a stable token stays the same until 5 minutes before its expiry and
 * `force_refresh` (at most once per 30 s) ends it at once. {@link requireToken} is how every
 * authenticated endpoint checks `access_token`.
 *
 * @example const token = (await (await fetch(`${url}/cgi-bin/token?grant_type=client_credential&appid=${id}&secret=${s}`)).json()).access_token;
 * @see https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Get_access_token.html
 * @see https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/getStableAccessToken.html
 */
import { randomBytes } from 'node:crypto';
import { fail, type ApiRouteTable, type SandboxRequest } from './api-route';
import type { ApiState } from './api-state';

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{16,1024}$/;

/** How a token looks now: usable, expired, superseded/revoked, or never issued. */
export function tokenState(state: ApiState, token: string): 'ok' | 'expired' | 'not-latest' | 'unknown' {
  const t = state.tokens.get(token);
  if (!t) return 'unknown';
  const now = state.config.clock.now();
  if (t.revoked) return 'not-latest';
  if (now >= t.expiresAt) return 'expired';
  if (t.supersededAt !== undefined && now >= t.supersededAt + state.config.overlapSeconds * 1000) return 'not-latest';
  return 'ok';
}

/**
 * Checks the `access_token` of a request as WeChat does; throws SandboxApiError (41001/40014/40001/42001).
 *
 * @example requireToken(state, req);
 */
export function requireToken(state: ApiState, req: SandboxRequest): void {
  const token = req.query.get('access_token');
  if (token === null || token === '') fail(41001, 'access_token missing');
  if (!TOKEN_SHAPE.test(token as string)) fail(40014, 'invalid access_token');
  const s = tokenState(state, token as string);
  if (s === 'expired') fail(42001, 'access_token expired');
  if (s !== 'ok') fail(40001, 'invalid credential, access_token is invalid or not latest');
}

/** Ends the life of every token issued so far (calls with them get 42001). */
export function expireTokens(state: ApiState): void {
  const now = state.config.clock.now();
  for (const t of state.tokens.values()) t.expiresAt = Math.min(t.expiresAt, now);
  state.currentStable = undefined;
}

function checkCredentials(state: ApiState, id: string | null | undefined, secret: string | null | undefined, remoteAddress: string): void {
  const { appId, appSecret, ipWhitelist } = state.config;
  if (!id) fail(41002, 'appid missing');
  if (!secret) fail(41004, 'appsecret missing');
  if (id !== appId) fail(40013, 'invalid appid');
  if (secret !== appSecret) fail(40125, 'invalid appsecret');
  const ip = remoteAddress.replace(/^::ffff:/, '');
  if (ipWhitelist && !ipWhitelist.includes(ip)) fail(40164, `invalid ip ${ip} ipv6 ::ffff:${ip}, not in whitelist`);
}

function issueToken(state: ApiState, kind: 'token' | 'stable'): string {
  const now = state.config.clock.now();
  if (kind === 'token') {
    for (const t of state.tokens.values()) if (t.kind === 'token' && t.supersededAt === undefined) t.supersededAt = now;
  }
  const token = `SBX_${randomBytes(96).toString('base64url')}`;
  state.tokens.set(token, { kind, issuedAt: now, expiresAt: now + state.config.tokenTtlSeconds * 1000 });
  return token;
}

function expiresIn(state: ApiState, token: string): number {
  const t = state.tokens.get(token);
  return t ? Math.max(0, Math.floor((t.expiresAt - state.config.clock.now()) / 1000)) : 0;
}

/** `/cgi-bin/token` and `/cgi-bin/stable_token` (no `access_token` needed, of course). */
export const tokenRoutes: ApiRouteTable = [
  {
    method: 'GET',
    path: '/cgi-bin/token',
    auth: false,
    handle(req, state) {
      if (req.query.get('grant_type') !== 'client_credential') fail(40002, 'invalid grant_type');
      checkCredentials(state, req.query.get('appid'), req.query.get('secret'), req.remoteAddress);
      const token = issueToken(state, 'token');
      state.tokenFetches++;
      return { access_token: token, expires_in: state.config.tokenTtlSeconds };
    },
  },
  {
    method: 'POST',
    path: '/cgi-bin/stable_token',
    auth: false,
    handle(req, state) {
      const body = req.json();
      if (body.grant_type !== 'client_credential') fail(40002, 'invalid grant_type');
      checkCredentials(state, body.appid as string, body.secret as string, req.remoteAddress);
      const now = state.config.clock.now();
      if (body.force_refresh === true) {
        if (now - state.lastForceRefresh < 30_000) fail(45011, 'api minute-quota reach limit  mustslower  retry next minute');
        state.lastForceRefresh = now;
        if (state.currentStable) {
          const old = state.tokens.get(state.currentStable);
          if (old) old.revoked = true;
        }
        state.currentStable = issueToken(state, 'stable');
      } else if (!state.currentStable || tokenState(state, state.currentStable) !== 'ok' || expiresIn(state, state.currentStable) < 300) {
        // Normal mode: the same token until 5 minutes before expiry; the old one keeps its own expiry.
        state.currentStable = issueToken(state, 'stable');
      }
      state.tokenFetches++;
      return { access_token: state.currentStable, expires_in: expiresIn(state, state.currentStable) };
    },
  },
];
