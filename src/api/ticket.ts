/**
 * JS-API tickets: `ticket/getticket?type=wx_card` (card ticket, used to sign card-adding JS-SDK calls)
 * and `type=jsapi`. Cached in the store with their expiry (7200 s, refreshed 5 min early) and fetched
 * at most once at a time per process; WeChat limits how often they may be fetched.
 *
 * @example const ticket = await api.ticket.getCardTicket();
 * @see https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/JS-SDK.html#54
 */
import type { Clock } from '../lib/clock';
import type { KeyValueStore } from '../store/ports';
import type { ApiRequest } from './request';

/** `type` of `ticket/getticket`. */
export type TicketType = 'wx_card' | 'jsapi';

/**
 * `api.ticket`.
 * @see https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/JS-SDK.html#54
 */
export interface TicketApi {
  /** The card ticket (`type=wx_card`), from the store or fetched. */
  getCardTicket(): Promise<string>;
  /** A ticket of either type. */
  getTicket(type: TicketType): Promise<string>;
}

/** Store key of a cached ticket. */
export function ticketKey(appId: string, type: TicketType): string {
  return `wechat:ticket:${type}:${appId}`;
}

/** Refresh this many seconds before WeChat's expiry. */
const EARLY_SECONDS = 300;

/**
 * Builds `api.ticket`.
 * @see https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/JS-SDK.html#54
 */
export function createTicketApi(options: { request: ApiRequest; store: KeyValueStore; appId: string; clock: Clock }): TicketApi {
  const { request, store, appId, clock } = options;
  const inFlight = new Map<TicketType, Promise<string>>();

  async function fetchAndStore(type: TicketType): Promise<string> {
    const res = await request<{ ticket?: string; expires_in?: number }>('GET', '/cgi-bin/ticket/getticket', { query: { type } });
    if (typeof res.ticket !== 'string' || typeof res.expires_in !== 'number') throw new TypeError('getticket: no ticket in the response');
    const expiresAt = clock.now() + res.expires_in * 1000;
    await store.set(ticketKey(appId, type), JSON.stringify({ ticket: res.ticket, expiresAt }), Math.max(1, res.expires_in));
    return res.ticket;
  }

  async function getTicket(type: TicketType): Promise<string> {
    if (type !== 'wx_card' && type !== 'jsapi') throw new TypeError(`getTicket: unknown type ${String(type)}`);
    const raw = await store.get(ticketKey(appId, type));
    if (raw !== undefined) {
      try {
        const v = JSON.parse(raw) as { ticket?: unknown; expiresAt?: unknown };
        if (typeof v.ticket === 'string' && typeof v.expiresAt === 'number' && v.expiresAt - EARLY_SECONDS * 1000 > clock.now()) return v.ticket;
      } catch {
        /* refetch */
      }
    }
    let p = inFlight.get(type);
    if (!p) {
      p = fetchAndStore(type).finally(() => inFlight.delete(type));
      inFlight.set(type, p);
    }
    return p;
  }

  return { getTicket, getCardTicket: () => getTicket('wx_card') };
}
