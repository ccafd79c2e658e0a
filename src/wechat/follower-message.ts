/**
 * The messages a follower's action makes WeChat send: a text, a menu click, a follow with or without
 * a QR scene, a scan, a location, or any event. `followerMessage` gives the typed message the parser
 * would produce (for `rules explain` and the console's rule tester); `followerXml` the XML WeChat
 * would POST (for `simulate` and the console's sandbox panel).
 *
 * @example followerXml({ kind: 'text', text: 'hello' }, { openid: 'o1', nowMs: Date.now() })
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
import type { InboundMessage } from './inbound';
import { buildXml } from './xml';

/** One follower action, as chosen on the command line or in the console. */
export type FollowerInput =
  | { kind: 'text'; text: string }
  | { kind: 'click'; key: string }
  | { kind: 'follow'; scene?: string }
  | { kind: 'scan'; scene: string }
  | { kind: 'location'; lat: string; lng: string }
  /** Any event by name, with an optional key (for `rules explain --event`). */
  | { kind: 'event'; event: string; key?: string };

/**
 * The `InboundMessage` the parser would produce for a follower action (used by `rules explain`).
 *
 * @example followerMessage({ kind: 'scan', scene: 'store-1' }, { openid: 'o1', nowMs: Date.now() })
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
 */
export function followerMessage(input: FollowerInput, o: { openid: string; to?: string; nowMs: number; msgId?: string }): InboundMessage {
  const header = { ToUserName: o.to ?? 'gh_simulator00', FromUserName: o.openid, CreateTime: Math.floor(o.nowMs / 1000) };
  const msgId = o.msgId ?? String(o.nowMs * 1000 + Math.floor(Math.random() * 1000));
  switch (input.kind) {
    case 'text':
      return { ...header, MsgType: 'text', MsgId: msgId, Content: input.text };
    case 'click':
      return { ...header, MsgType: 'event', Event: 'CLICK', EventKey: input.key };
    case 'follow':
      return input.scene !== undefined
        ? { ...header, MsgType: 'event', Event: 'subscribe', EventKey: `qrscene_${input.scene}`, Ticket: 'SIMULATED_TICKET', Scene: input.scene }
        : { ...header, MsgType: 'event', Event: 'subscribe' };
    case 'scan':
      return { ...header, MsgType: 'event', Event: 'SCAN', EventKey: input.scene, Ticket: 'SIMULATED_TICKET' };
    case 'location':
      return { ...header, MsgType: 'location', MsgId: msgId, Location_X: input.lat, Location_Y: input.lng, Scale: '15', Label: '' };
    case 'event':
      return {
        ...header,
        MsgType: 'event',
        Event: input.event,
        ...(input.key !== undefined ? { EventKey: input.key } : {}),
      } as unknown as InboundMessage;
  }
}

/**
 * The XML WeChat would POST for a follower action.
 *
 * @example followerXml({ kind: 'text', text: 'hello' }, { openid: 'o1', nowMs: Date.now() })
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export function followerXml(input: FollowerInput, o: { openid: string; to?: string; nowMs: number; msgId?: string }): string {
  const m = followerMessage(input, o) as unknown as Record<string, unknown>;
  const fields: Record<string, string | number | undefined> = {};
  for (const k of [
    'ToUserName',
    'FromUserName',
    'CreateTime',
    'MsgType',
    'Content',
    'MsgId',
    'Event',
    'EventKey',
    'Ticket',
    'Location_X',
    'Location_Y',
    'Scale',
    'Label',
  ]) {
    const v = m[k];
    if (typeof v === 'string' || typeof v === 'number') fields[k] = v;
  }
  return buildXml(fields);
}
