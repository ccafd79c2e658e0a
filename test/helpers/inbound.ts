/**
 * Builders of inbound XML packets, shaped like WeChat's (CDATA text, bare CreateTime and MsgId), for tests.
 * Every call is a distinct message by default (fresh MsgId / CreateTime); to simulate a WeChat retry,
 * send the SAME string again.
 *
 * @example
 * const xml = textXml({ content: 'hello' });
 * const follow = subscribeXml('campaign_1');   // EventKey qrscene_campaign_1 + Ticket
 * const click = clickXml('MENU_HELP', { from: 'o_user2' });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
import { cdata } from '../../src/wechat/xml';

/** Default follower openid and our account id in built packets. */
export const DEFAULT_FROM = 'oFollowerTest0001';
export const DEFAULT_TO = 'gh_testaccount01';
/** First default CreateTime; each call without one gets the next second. */
export const BASE_CREATE_TIME = 1714000000;

let sequence = 0;
function next(): number {
  sequence += 1;
  return sequence;
}

export interface TextXmlOptions {
  content: string;
  from?: string;
  to?: string;
  /** 64-bit id as a string; default a fresh one. */
  msgId?: string;
  /** Epoch seconds; default a fresh one. */
  createTime?: number;
}

/** A user text message. */
export function textXml(opts: TextXmlOptions): string {
  const n = next();
  return packet({
    to: opts.to,
    from: opts.from,
    createTime: opts.createTime ?? BASE_CREATE_TIME + n,
    msgType: 'text',
    body: `<Content>${cdata(opts.content)}</Content><MsgId>${opts.msgId ?? String(7_000_000_000_000_000_000n + BigInt(n))}</MsgId>`,
  });
}

export interface EventXmlOptions {
  /** The `Event` as WeChat spells it (`subscribe`, `CLICK`, `user_get_card`, …). */
  event: string;
  eventKey?: string;
  from?: string;
  to?: string;
  /** Epoch seconds; default a fresh one. */
  createTime?: number;
  /** More flat fields, e.g. `{ CardId: 'p1', UserCardCode: '123' }`; strings in CDATA, numbers bare. */
  extra?: Record<string, string | number>;
}

/** Any event. */
export function eventXml(opts: EventXmlOptions): string {
  const n = next();
  let body = `<Event>${cdata(opts.event)}</Event>`;
  if (opts.eventKey !== undefined) body += `<EventKey>${cdata(opts.eventKey)}</EventKey>`;
  for (const [name, value] of Object.entries(opts.extra ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new TypeError(`eventXml: bad element name ${name}`);
    body += `<${name}>${typeof value === 'number' ? String(value) : cdata(value)}</${name}>`;
  }
  return packet({ to: opts.to, from: opts.from, createTime: opts.createTime ?? BASE_CREATE_TIME + n, msgType: 'event', body });
}

/** A follow; with a scene, a follow through a parametric QR code (`qrscene_<scene>` + Ticket). */
export function subscribeXml(scene?: string, opts: Omit<EventXmlOptions, 'event' | 'eventKey'> = {}): string {
  if (scene === undefined) return eventXml({ ...opts, event: 'subscribe' });
  return eventXml({ ...opts, event: 'subscribe', eventKey: `qrscene_${scene}`, extra: { Ticket: `TICKET_${scene}`, ...opts.extra } });
}

/** A custom-menu click on the button with `key`. */
export function clickXml(key: string, opts: Omit<EventXmlOptions, 'event' | 'eventKey'> = {}): string {
  return eventXml({ ...opts, event: 'CLICK', eventKey: key });
}

function packet(p: { to?: string; from?: string; createTime: number; msgType: string; body: string }): string {
  return (
    `<xml><ToUserName>${cdata(p.to ?? DEFAULT_TO)}</ToUserName><FromUserName>${cdata(p.from ?? DEFAULT_FROM)}</FromUserName>` +
    `<CreateTime>${p.createTime}</CreateTime><MsgType>${cdata(p.msgType)}</MsgType>${p.body}</xml>`
  );
}
