/**
 * The typed inbound message: one variant per WeChat message type and event.
 *
 * Wire names are kept verbatim (`ToUserName`, `MsgType`, `EventKey`) so a field can be looked up in
 * WeChat's documentation by name. Everything is a string except `CreateTime` (epoch seconds). `MsgId`
 * stays a string because it is a 64-bit integer.
 *
 * Parsed in one place only: `parseInbound()` in `parse-inbound.ts`, which also cleans WeChat's quirks
 * (event names in any case become the canonical spelling below; `qrscene_` is stripped from a follow's
 * `EventKey` into `Scene`).
 *
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
 */

// === Common header

export interface InboundHeader {
  /** Our account's original id (`gh_…`). */
  ToUserName: string;
  /** The follower's openid. */
  FromUserName: string;
  /** Epoch seconds. */
  CreateTime: number;
}

/** Fields present only when a user message quotes an article. */
interface ArticleRef {
  MsgDataId?: string;
  Idx?: string;
}

// === User messages (carry MsgId)

export interface TextMessage extends InboundHeader, ArticleRef {
  MsgType: 'text';
  MsgId: string;
  Content: string;
}
export interface ImageMessage extends InboundHeader, ArticleRef {
  MsgType: 'image';
  MsgId: string;
  PicUrl: string;
  MediaId: string;
}
export interface VoiceMessage extends InboundHeader, ArticleRef {
  MsgType: 'voice';
  MsgId: string;
  MediaId: string;
  Format: string;
  /** Speech recognition text, present only when recognition is enabled on the account. */
  Recognition?: string;
}
export interface VideoMessage extends InboundHeader, ArticleRef {
  MsgType: 'video';
  MsgId: string;
  MediaId: string;
  ThumbMediaId: string;
}
export interface ShortVideoMessage extends InboundHeader, ArticleRef {
  MsgType: 'shortvideo';
  MsgId: string;
  MediaId: string;
  ThumbMediaId: string;
}
export interface LocationMessage extends InboundHeader, ArticleRef {
  MsgType: 'location';
  MsgId: string;
  Location_X: string;
  Location_Y: string;
  Scale: string;
  Label: string;
}
export interface LinkMessage extends InboundHeader, ArticleRef {
  MsgType: 'link';
  MsgId: string;
  Title: string;
  Description: string;
  Url: string;
}
export interface MiniProgramPageMessage extends InboundHeader {
  MsgType: 'miniprogrampage';
  MsgId: string;
  Title: string;
  AppId: string;
  PagePath: string;
  ThumbUrl?: string;
  ThumbMediaId?: string;
}

// === Events (MsgType "event", keyed again by Event)

interface EventBase extends InboundHeader {
  MsgType: 'event';
}

/** Follow. `Scene` is `EventKey` without its `qrscene_` prefix when the follow came from a QR code. */
export interface SubscribeEvent extends EventBase {
  Event: 'subscribe';
  EventKey?: string;
  Ticket?: string;
  Scene?: string;
}
export interface UnsubscribeEvent extends EventBase {
  Event: 'unsubscribe';
}
/** A follower scanned a parametric QR code; `EventKey` is the scene without prefix. */
export interface ScanEvent extends EventBase {
  Event: 'SCAN';
  EventKey: string;
  Ticket?: string;
}
export interface LocationEvent extends EventBase {
  Event: 'LOCATION';
  Latitude: string;
  Longitude: string;
  Precision: string;
}
export interface ClickEvent extends EventBase {
  Event: 'CLICK';
  EventKey: string;
}
export interface ViewEvent extends EventBase {
  Event: 'VIEW';
  /** The URL of the button. */
  EventKey: string;
  MenuId?: string;
}
export interface ScanCodeEvent extends EventBase {
  Event: 'scancode_push' | 'scancode_waitmsg';
  EventKey: string;
  ScanCodeInfo: { ScanType: string; ScanResult: string };
}
export interface PicEvent extends EventBase {
  Event: 'pic_sysphoto' | 'pic_photo_or_album' | 'pic_weixin';
  EventKey: string;
  SendPicsInfo: { Count: string; PicList: { PicMd5Sum: string }[] };
}
export interface LocationSelectEvent extends EventBase {
  Event: 'location_select';
  EventKey: string;
  SendLocationInfo: { Location_X: string; Location_Y: string; Scale: string; Label: string; Poiname?: string };
}
export interface ViewMiniProgramEvent extends EventBase {
  Event: 'view_miniprogram';
  EventKey: string;
  MenuId?: string;
}
export interface MassSendJobFinishEvent extends EventBase {
  Event: 'MASSSENDJOBFINISH';
  MsgID: string;
  Status: string;
  TotalCount?: string;
  FilterCount?: string;
  SentCount?: string;
  ErrorCount?: string;
}
export interface TemplateSendJobFinishEvent extends EventBase {
  Event: 'TEMPLATESENDJOBFINISH';
  MsgID: string;
  Status: string;
}

// === Card (卡券) events

export interface CardCheckEvent extends EventBase {
  Event: 'card_pass_check' | 'card_not_pass_check';
  CardId: string;
  RefuseReason?: string;
}
export interface UserGetCardEvent extends EventBase {
  Event: 'user_get_card';
  CardId: string;
  UserCardCode: string;
  IsGiveByFriend?: string;
  FriendUserName?: string;
  OldUserCardCode?: string;
  OuterId?: string;
  OuterStr?: string;
  IsRestoreMemberCard?: string;
  IsRecommendByFriend?: string;
  UnionId?: string;
  SourceScene?: string;
}
export interface UserGiftingCardEvent extends EventBase {
  Event: 'user_gifting_card';
  CardId: string;
  UserCardCode: string;
  IsReturnBack?: string;
  FriendUserName?: string;
  IsChatRoom?: string;
}
export interface UserDelCardEvent extends EventBase {
  Event: 'user_del_card';
  CardId: string;
  UserCardCode: string;
}
export interface UserConsumeCardEvent extends EventBase {
  Event: 'user_consume_card';
  CardId: string;
  UserCardCode: string;
  ConsumeSource?: string;
  LocationName?: string;
  StaffOpenId?: string;
  VerifyCode?: string;
  RemarkAmount?: string;
  OuterStr?: string;
  OutTradeNo?: string;
  TransId?: string;
  LocationId?: string;
}
export interface UserPayFromPayCellEvent extends EventBase {
  Event: 'user_pay_from_pay_cell';
  CardId: string;
  UserCardCode: string;
  TransId?: string;
  LocationId?: string;
  Fee?: string;
  OriginalFee?: string;
}
export interface UserViewCardEvent extends EventBase {
  Event: 'user_view_card';
  CardId: string;
  UserCardCode: string;
  OuterStr?: string;
}
export interface UserEnterSessionFromCardEvent extends EventBase {
  Event: 'user_enter_session_from_card';
  CardId: string;
  UserCardCode: string;
}
export interface UpdateMemberCardEvent extends EventBase {
  Event: 'update_member_card';
  CardId: string;
  UserCardCode: string;
  ModifyBonus?: string;
  ModifyBalance?: string;
}
export interface CardSkuRemindEvent extends EventBase {
  Event: 'card_sku_remind';
  CardId: string;
  Detail?: string;
}
export interface CardPayOrderEvent extends EventBase {
  Event: 'card_pay_order';
  OrderId: string;
  Status?: string;
  CreateOrderTime?: string;
  PayFinishTime?: string;
  Desc?: string;
  FreeCoinCount?: string;
  PayCoinCount?: string;
  RefundFreeCoinCount?: string;
  RefundPayCoinCount?: string;
  OrderType?: string;
  Memo?: string;
  ReceiptInfo?: string;
}
export interface SubmitMemberCardUserInfoEvent extends EventBase {
  Event: 'submit_membercard_user_info';
  CardId: string;
  UserCardCode: string;
}
/** Result of a sub-merchant's review (developer-assisted coupon making). */
export interface CardMerchantCheckResultEvent extends EventBase {
  Event: 'card_merchant_check_result';
  MerchantId: string;
  /** "1" approved, "0" rejected. */
  IsPass: string;
  Reason?: string;
}

/** An event whose `Event` we do not know. Raw fields are kept; it never throws. */
export interface UnknownEvent extends EventBase {
  Event: 'unknown';
  /** The event name as WeChat sent it. */
  RawEvent: string;
  raw: Record<string, unknown>;
}

export type CardEvent =
  | CardCheckEvent
  | UserGetCardEvent
  | UserGiftingCardEvent
  | UserDelCardEvent
  | UserConsumeCardEvent
  | UserPayFromPayCellEvent
  | UserViewCardEvent
  | UserEnterSessionFromCardEvent
  | UpdateMemberCardEvent
  | CardSkuRemindEvent
  | CardPayOrderEvent
  | SubmitMemberCardUserInfoEvent
  | CardMerchantCheckResultEvent;

export type InboundEvent =
  | SubscribeEvent
  | UnsubscribeEvent
  | ScanEvent
  | LocationEvent
  | ClickEvent
  | ViewEvent
  | ScanCodeEvent
  | PicEvent
  | LocationSelectEvent
  | ViewMiniProgramEvent
  | MassSendJobFinishEvent
  | TemplateSendJobFinishEvent
  | CardEvent
  | UnknownEvent;

/** A message whose `MsgType` we do not know. */
export interface UnknownMessage extends InboundHeader {
  MsgType: 'unknown';
  RawMsgType: string;
  MsgId?: string;
  raw: Record<string, unknown>;
}

export type UserMessage = TextMessage | ImageMessage | VoiceMessage | VideoMessage | ShortVideoMessage | LocationMessage | LinkMessage | MiniProgramPageMessage;

export type InboundMessage = UserMessage | InboundEvent | UnknownMessage;

export type MsgType = InboundMessage['MsgType'];
export type EventName = InboundEvent['Event'];

/** Every message type, canonical spelling. `satisfies` makes a new variant break the build until listed. */
export const MSG_TYPES = {
  text: true,
  image: true,
  voice: true,
  video: true,
  shortvideo: true,
  location: true,
  link: true,
  miniprogrampage: true,
  event: true,
  unknown: true,
} as const satisfies Record<MsgType, true>;

/** Every event name, canonical spelling (WeChat's own, which mixes cases). */
export const EVENT_NAMES = {
  subscribe: true,
  unsubscribe: true,
  SCAN: true,
  LOCATION: true,
  CLICK: true,
  VIEW: true,
  scancode_push: true,
  scancode_waitmsg: true,
  pic_sysphoto: true,
  pic_photo_or_album: true,
  pic_weixin: true,
  location_select: true,
  view_miniprogram: true,
  MASSSENDJOBFINISH: true,
  TEMPLATESENDJOBFINISH: true,
  card_pass_check: true,
  card_not_pass_check: true,
  user_get_card: true,
  user_gifting_card: true,
  user_del_card: true,
  user_consume_card: true,
  user_pay_from_pay_cell: true,
  user_view_card: true,
  user_enter_session_from_card: true,
  update_member_card: true,
  card_sku_remind: true,
  card_pay_order: true,
  submit_membercard_user_info: true,
  card_merchant_check_result: true,
  unknown: true,
} as const satisfies Record<EventName, true>;

/**
 * The events a custom-menu button with a `key` pushes, with that key as `EventKey`. The button's
 * `type` is the event's name in lower case (a `click` button pushes `CLICK`).
 * @see https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Custom_Menu_Push_Events.html
 */
export const MENU_KEY_EVENTS = [
  'CLICK',
  'scancode_push',
  'scancode_waitmsg',
  'pic_sysphoto',
  'pic_photo_or_album',
  'pic_weixin',
  'location_select',
] as const satisfies readonly EventName[];

export const CARD_EVENT_NAMES: readonly CardEvent['Event'][] = [
  'card_pass_check',
  'card_not_pass_check',
  'user_get_card',
  'user_gifting_card',
  'user_del_card',
  'user_consume_card',
  'user_pay_from_pay_cell',
  'user_view_card',
  'user_enter_session_from_card',
  'update_member_card',
  'card_sku_remind',
  'card_pay_order',
  'submit_membercard_user_info',
  'card_merchant_check_result',
];

// === Predicates (narrowing)

export function isEvent(m: InboundMessage): m is InboundEvent {
  return m.MsgType === 'event';
}

/** The event variant(s) whose `Event` is E (distributive, so shared interfaces narrow too). */
export type EventVariant<E> = InboundEvent extends infer V ? (V extends { Event: infer N } ? (E extends N ? V : never) : never) : never;

export function isEventOf<E extends InboundEvent['Event']>(m: InboundMessage, event: E): m is EventVariant<E> & InboundMessage {
  return m.MsgType === 'event' && m.Event === event;
}

export function isCardEvent(m: InboundMessage): m is CardEvent {
  return m.MsgType === 'event' && (CARD_EVENT_NAMES as readonly string[]).includes(m.Event);
}

/**
 * The de-duplication key of a message: `MsgId` for user messages; for events
 * FromUserName + CreateTime + Event + EventKey, plus UserCardCode for card events (a follower who adds
 * several cards at once sends several user_get_card events with one CreateTime, each real).
 *
 * @example dedupeKey(text) === 'msg:1234567890123456'
 */
export function dedupeKey(m: InboundMessage): string {
  if (m.MsgType !== 'event') {
    if (m.MsgId) return `msg:${m.MsgId}`;
    return `raw:${m.FromUserName}:${m.CreateTime}:${m.MsgType}`;
  }
  const anyM = (m.Event === 'unknown' ? { ...m.raw, ...m } : m) as unknown as Record<string, unknown>;
  const eventName = m.Event === 'unknown' ? m.RawEvent : m.Event;
  const parts = [m.FromUserName, String(m.CreateTime), eventName];
  const key = typeof anyM.EventKey === 'string' ? anyM.EventKey : '';
  parts.push(key);
  if (typeof anyM.UserCardCode === 'string') parts.push(anyM.UserCardCode);
  if (typeof anyM.MsgID === 'string') parts.push(anyM.MsgID);
  return `evt:${parts.map((p) => p.replace(/\|/g, '||')).join('|')}`;
}
