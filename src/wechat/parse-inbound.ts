/**
 * Parsed XML → the typed `InboundMessage` union. The one place that cleans WeChat's quirks: event and
 * message names in any case become the canonical spelling, `qrscene_` is stripped into `Scene`,
 * `CreateTime` becomes a number, `PicList.item` becomes an array. Unknown types become `unknown`
 * variants and never throw.
 *
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
 */
import {
  EVENT_NAMES,
  MSG_TYPES,
  type EventName,
  type EventVariant,
  type InboundEvent,
  type InboundHeader,
  type InboundMessage,
  type UnknownEvent,
  type UnknownMessage,
  type UserMessage,
} from './inbound';
import { parseXml } from './xml';

// === Errors

/**
 * The packet is XML but not a WeChat message: a header field is missing or invalid
 * (`ToUserName`, `FromUserName`, `CreateTime` digits, `MsgType`), or a field that must be text is an
 * element. `field` names the culprit; the value is never echoed.
 *
 * @example try { parseInbound(fields) } catch (e) { if (e instanceof InvalidInboundError) ctx.throw(400) }
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export class InvalidInboundError extends Error {
  readonly field: string;
  constructor(field: string, problem: string) {
    super(`invalid inbound message: ${field} ${problem}`);
    this.name = 'InvalidInboundError';
    this.field = field;
  }
}

// === Field rules, checked against the union by the compiler

type Fields = Record<string, unknown>;
type HeaderKeys = keyof InboundHeader | 'MsgType' | 'Event';
type UserVariant<T extends UserMessage['MsgType']> = Extract<UserMessage, { MsgType: T }>;

/**
 * `'required'`: a string, `''` when absent; `'optional'`: a string or absent; a function: builds the
 * value from the whole packet (nested elements, derived fields).
 */
type Rule<V> = 'required' | 'optional' | ((fields: Fields, name: string) => V | undefined);
/** Every non-header field of a variant must have a rule: a new field breaks the build until handled. */
type Rules<T> = { [K in Exclude<keyof T, HeaderKeys>]-?: Rule<T[K]> };

const ARTICLE_REF = { MsgDataId: 'optional', Idx: 'optional' } as const;

const USER_MESSAGE_RULES: { [T in UserMessage['MsgType']]: Rules<UserVariant<T>> } = {
  text: { MsgId: 'required', Content: 'required', ...ARTICLE_REF },
  image: { MsgId: 'required', PicUrl: 'required', MediaId: 'required', ...ARTICLE_REF },
  voice: { MsgId: 'required', MediaId: 'required', Format: 'required', Recognition: 'optional', ...ARTICLE_REF },
  video: { MsgId: 'required', MediaId: 'required', ThumbMediaId: 'required', ...ARTICLE_REF },
  shortvideo: { MsgId: 'required', MediaId: 'required', ThumbMediaId: 'required', ...ARTICLE_REF },
  location: {
    MsgId: 'required',
    Location_X: 'required',
    Location_Y: 'required',
    Scale: 'required',
    Label: 'required',
    ...ARTICLE_REF,
  },
  link: { MsgId: 'required', Title: 'required', Description: 'required', Url: 'required', ...ARTICLE_REF },
  miniprogrampage: {
    MsgId: 'required',
    Title: 'required',
    AppId: 'required',
    PagePath: 'required',
    ThumbUrl: 'optional',
    ThumbMediaId: 'optional',
  },
};

const CARD_CODE = { CardId: 'required', UserCardCode: 'required' } as const;

const EVENT_RULES: { [E in Exclude<EventName, 'unknown'>]: Rules<EventVariant<E>> } = {
  subscribe: { EventKey: 'optional', Ticket: 'optional', Scene: qrScene },
  unsubscribe: {},
  SCAN: { EventKey: 'required', Ticket: 'optional' },
  LOCATION: { Latitude: 'required', Longitude: 'required', Precision: 'required' },
  CLICK: { EventKey: 'required' },
  VIEW: { EventKey: 'required', MenuId: 'optional' },
  scancode_push: { EventKey: 'required', ScanCodeInfo: scanCodeInfo },
  scancode_waitmsg: { EventKey: 'required', ScanCodeInfo: scanCodeInfo },
  pic_sysphoto: { EventKey: 'required', SendPicsInfo: sendPicsInfo },
  pic_photo_or_album: { EventKey: 'required', SendPicsInfo: sendPicsInfo },
  pic_weixin: { EventKey: 'required', SendPicsInfo: sendPicsInfo },
  location_select: { EventKey: 'required', SendLocationInfo: sendLocationInfo },
  view_miniprogram: { EventKey: 'required', MenuId: 'optional' },
  MASSSENDJOBFINISH: {
    MsgID: 'required',
    Status: 'required',
    TotalCount: 'optional',
    FilterCount: 'optional',
    SentCount: 'optional',
    ErrorCount: 'optional',
  },
  TEMPLATESENDJOBFINISH: { MsgID: 'required', Status: 'required' },
  card_pass_check: { CardId: 'required', RefuseReason: 'optional' },
  card_not_pass_check: { CardId: 'required', RefuseReason: 'optional' },
  user_get_card: {
    ...CARD_CODE,
    IsGiveByFriend: 'optional',
    FriendUserName: 'optional',
    OldUserCardCode: 'optional',
    OuterId: 'optional',
    OuterStr: 'optional',
    IsRestoreMemberCard: 'optional',
    IsRecommendByFriend: 'optional',
    UnionId: 'optional',
    SourceScene: 'optional',
  },
  user_gifting_card: { ...CARD_CODE, IsReturnBack: 'optional', FriendUserName: 'optional', IsChatRoom: 'optional' },
  user_del_card: { ...CARD_CODE },
  user_consume_card: {
    ...CARD_CODE,
    ConsumeSource: 'optional',
    LocationName: 'optional',
    StaffOpenId: 'optional',
    VerifyCode: 'optional',
    RemarkAmount: 'optional',
    OuterStr: 'optional',
    OutTradeNo: 'optional',
    TransId: 'optional',
    LocationId: 'optional',
  },
  user_pay_from_pay_cell: {
    ...CARD_CODE,
    TransId: 'optional',
    LocationId: 'optional',
    Fee: 'optional',
    OriginalFee: 'optional',
  },
  user_view_card: { ...CARD_CODE, OuterStr: 'optional' },
  user_enter_session_from_card: { ...CARD_CODE },
  update_member_card: { ...CARD_CODE, ModifyBonus: 'optional', ModifyBalance: 'optional' },
  card_sku_remind: { CardId: 'required', Detail: 'optional' },
  card_pay_order: {
    OrderId: 'required',
    Status: 'optional',
    CreateOrderTime: 'optional',
    PayFinishTime: 'optional',
    Desc: 'optional',
    FreeCoinCount: 'optional',
    PayCoinCount: 'optional',
    RefundFreeCoinCount: 'optional',
    RefundPayCoinCount: 'optional',
    OrderType: 'optional',
    Memo: 'optional',
    ReceiptInfo: 'optional',
  },
  submit_membercard_user_info: { ...CARD_CODE },
  card_merchant_check_result: { MerchantId: 'required', IsPass: 'required', Reason: 'optional' },
};

/** Every event whose variant carries an `EventKey` (a QR scene, a menu button's key, a VIEW button's URL or page path), in EVENT_NAMES order. */
export const KEYED_EVENTS: readonly EventName[] = (Object.keys(EVENT_RULES) as (keyof typeof EVENT_RULES)[]).filter((e) => 'EventKey' in EVENT_RULES[e]);

/** Lower-case name → canonical spelling (WeChat mixes `CLICK` and `scancode_push`). */
const CANONICAL_MSG_TYPES = canonicalNames(Object.keys(USER_MESSAGE_RULES).concat('event'));
const CANONICAL_EVENTS = canonicalNames(Object.keys(EVENT_RULES));

// Compile-time guard: the rule tables cover exactly the names inbound.ts lists.
const _msgTypesCovered: Record<Exclude<keyof typeof MSG_TYPES, 'unknown' | 'event'>, unknown> = USER_MESSAGE_RULES;
const _eventsCovered: Record<Exclude<keyof typeof EVENT_NAMES, 'unknown'>, unknown> = EVENT_RULES;
void _msgTypesCovered;
void _eventsCovered;

// === Parsing

/**
 * Maps the fields of a parsed packet (`parseXml()` output) to an `InboundMessage`.
 * Throws `InvalidInboundError` for a missing/invalid header or an element where text is expected;
 * never throws for an unknown `MsgType` or `Event` (they become `unknown` variants with the raw fields).
 *
 * @example
 * const m = parseInbound(parseXml(body));
 * if (isEventOf(m, 'CLICK')) console.log(m.EventKey);
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
 */
export function parseInbound(fields: Record<string, unknown>): InboundMessage {
  if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) {
    throw new InvalidInboundError('packet', 'is not an object');
  }
  const header = readHeader(fields);
  const rawMsgType = readString(fields, 'MsgType');
  if (rawMsgType === undefined || rawMsgType.trim() === '') throw new InvalidInboundError('MsgType', 'is missing');
  const msgType = canonical(CANONICAL_MSG_TYPES, rawMsgType);

  if (msgType === undefined) {
    const msgId = readString(fields, 'MsgId');
    const unknown: UnknownMessage = { ...header, MsgType: 'unknown', RawMsgType: rawMsgType, raw: { ...fields } };
    if (msgId !== undefined) unknown.MsgId = msgId;
    return unknown;
  }

  if (msgType !== 'event') {
    const rules = USER_MESSAGE_RULES[msgType as UserMessage['MsgType']] as Record<string, Rule<unknown>>;
    const out: Fields = { ToUserName: header.ToUserName, FromUserName: header.FromUserName, CreateTime: header.CreateTime, MsgType: msgType };
    return applyRules(fields, rules, out) as unknown as UserMessage;
  }

  const rawEvent = readString(fields, 'Event') ?? '';
  const event = canonical(CANONICAL_EVENTS, rawEvent);
  if (event === undefined) {
    const unknown: UnknownEvent = {
      ...header,
      MsgType: 'event',
      Event: 'unknown',
      RawEvent: rawEvent,
      raw: { ...fields },
    };
    return unknown;
  }
  const rules = EVENT_RULES[event as Exclude<EventName, 'unknown'>] as Record<string, Rule<unknown>>;
  const out: Fields = {
    ToUserName: header.ToUserName,
    FromUserName: header.FromUserName,
    CreateTime: header.CreateTime,
    MsgType: 'event',
    Event: event,
  };
  return applyRules(fields, rules, out) as unknown as InboundEvent;
}

/**
 * Parses a decrypted (or plain) XML body straight into an `InboundMessage`:
 * `parseInbound(parseXml(text))`. Throws `MalformedXmlError` or `InvalidInboundError`.
 *
 * @example const message = parseInboundXml(ctx.request.rawBody);
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export function parseInboundXml(text: string): InboundMessage {
  return parseInbound(parseXml(text));
}

function readHeader(fields: Fields): InboundHeader {
  const ToUserName = readString(fields, 'ToUserName');
  if (!ToUserName) throw new InvalidInboundError('ToUserName', 'is missing');
  const FromUserName = readString(fields, 'FromUserName');
  if (!FromUserName) throw new InvalidInboundError('FromUserName', 'is missing');
  const createTime = readString(fields, 'CreateTime');
  if (createTime === undefined) throw new InvalidInboundError('CreateTime', 'is missing');
  const digits = createTime.trim();
  if (!/^\d{1,15}$/.test(digits)) throw new InvalidInboundError('CreateTime', 'must be epoch seconds in digits');
  return { ToUserName, FromUserName, CreateTime: Number(digits) };
}

/** Each rule table's names and rules, listed once (this runs for every message). */
const RULE_ENTRIES = new WeakMap<Record<string, Rule<unknown>>, { names: string[]; rules: Rule<unknown>[] }>();

/** Reads each field of `rules` from `fields` into `out` (no spreading: this runs for every message). */
function applyRules(fields: Fields, table: Record<string, Rule<unknown>>, out: Fields): Fields {
  let entries = RULE_ENTRIES.get(table);
  if (!entries) RULE_ENTRIES.set(table, (entries = { names: Object.keys(table), rules: Object.values(table) }));
  const { names, rules } = entries;
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    const rule = rules[i];
    const value = rule === 'required' ? (readString(fields, name) ?? '') : rule === 'optional' ? readString(fields, name) : rule(fields, name);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** A text field: the string, `undefined` when absent, `InvalidInboundError` when it is an element. */
function readString(fields: Fields, name: string, path = name): string | undefined {
  if (!Object.prototype.hasOwnProperty.call(fields, name)) return undefined;
  const value = fields[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    throw new InvalidInboundError(path, Array.isArray(value) ? 'must appear once' : 'must be text, not an element');
  }
  return value;
}

/** A nested element: its fields, `{}` when absent or empty, `InvalidInboundError` when it is text. */
function readObject(fields: Fields, name: string, path = name): Fields {
  if (!Object.prototype.hasOwnProperty.call(fields, name)) return {};
  const value = fields[name];
  if (value === undefined || value === '') return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidInboundError(path, Array.isArray(value) ? 'must appear once' : 'must be an element, not text');
  }
  return value as Fields;
}

// === Quirks

/** A follow through a parametric QR code: `EventKey` `qrscene_123` → `Scene` `123`. */
function qrScene(fields: Fields): string | undefined {
  const key = readString(fields, 'EventKey');
  return key !== undefined && key.startsWith('qrscene_') ? key.slice('qrscene_'.length) : undefined;
}

function scanCodeInfo(fields: Fields, name: string): { ScanType: string; ScanResult: string } {
  const info = readObject(fields, name);
  return {
    ScanType: readString(info, 'ScanType', `${name}.ScanType`) ?? '',
    ScanResult: readString(info, 'ScanResult', `${name}.ScanResult`) ?? '',
  };
}

function sendPicsInfo(fields: Fields, name: string): { Count: string; PicList: { PicMd5Sum: string }[] } {
  const info = readObject(fields, name);
  const list = readObject(info, 'PicList', `${name}.PicList`);
  const rawItems = list.item === undefined ? [] : Array.isArray(list.item) ? list.item : [list.item];
  const PicList = rawItems.map((item: unknown, index) => {
    const path = `${name}.PicList.item[${index}]`;
    if (item === '') return { PicMd5Sum: '' };
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw new InvalidInboundError(path, 'must be an element, not text');
    }
    return { PicMd5Sum: readString(item as Fields, 'PicMd5Sum', `${path}.PicMd5Sum`) ?? '' };
  });
  return { Count: readString(info, 'Count', `${name}.Count`) ?? String(PicList.length), PicList };
}

function sendLocationInfo(fields: Fields, name: string): { Location_X: string; Location_Y: string; Scale: string; Label: string; Poiname?: string } {
  const info = readObject(fields, name);
  const result: { Location_X: string; Location_Y: string; Scale: string; Label: string; Poiname?: string } = {
    Location_X: readString(info, 'Location_X', `${name}.Location_X`) ?? '',
    Location_Y: readString(info, 'Location_Y', `${name}.Location_Y`) ?? '',
    Scale: readString(info, 'Scale', `${name}.Scale`) ?? '',
    Label: readString(info, 'Label', `${name}.Label`) ?? '',
  };
  const poiname = readString(info, 'Poiname', `${name}.Poiname`);
  if (poiname !== undefined) result.Poiname = poiname;
  return result;
}

/** Lower-case name → canonical name, and each canonical name → itself (the spelling WeChat sends). */
function canonicalNames(names: string[]): Map<string, string> {
  return new Map(names.flatMap((name) => [[name.toLowerCase(), name] as const, [name, name] as const]));
}

/** The canonical spelling of `raw` in any case and with spaces around it, or undefined. */
function canonical(names: Map<string, string>, raw: string): string | undefined {
  return names.get(raw) ?? names.get(raw.trim().toLowerCase());
}
