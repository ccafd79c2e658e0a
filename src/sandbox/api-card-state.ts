/**
 * The card (卡券) and sub-merchant part of the API sandbox's state: cards in review or approved, the
 * codes followers hold, sub-merchants, the test whitelist, card QR tickets and landing pages, the
 * events pushed to the bot's webhook and the per-day statistics `datacube/getcardcardinfo` reports.
 *
 * @example const cards = createCardState({ autoApprove: true }); cards.cards.get(cardId)?.status;
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Create_a_Coupon_Voucher_or_Card.html
 */
import type { MessageCrypto } from '../wechat/crypto';

// === Public types

/**
 * The bot's webhook as the sandbox pushes to it: plain mode, or with `crypto` safe mode (the body
 * encrypted, `encrypt_type=aes` and `msg_signature` added), as WeChat pushes in the account's mode.
 */
export interface SandboxWebhook {
  url: string;
  token: string;
  crypto?: Pick<MessageCrypto, 'encrypt'>;
}

/** Options of the card sandbox (`startApiSandbox({ cards })`). */
export interface CardSandboxOptions {
  /** Where events are POSTed (signed with `token`). Settable later with `setWebhook`. */
  webhook?: SandboxWebhook;
  /** The account's original id, sent as ToUserName (default gh_sandbox0000). */
  accountId?: string;
  /** Approve every card and sub-merchant at once (the CLI's in-process sandbox). */
  autoApprove?: boolean;
}

/** WeChat's review of a card or a sub-merchant: where it stands and, once refused, why. */
export interface SandboxReview<Status extends string> {
  status: Status;
  /** Why the review refused it (the RefuseReason / Reason of the event pushed). */
  reason?: string;
}

/** A card as the sandbox holds it. */
export interface SandboxCard extends SandboxReview<'CARD_STATUS_NOT_VERIFY' | 'CARD_STATUS_VERIFY_FAIL' | 'CARD_STATUS_VERIFY_OK' | 'CARD_STATUS_DELETE'> {
  cardId: string;
  type: string;
  /** The `card` object as created (updated by card/update). */
  card: Record<string, unknown>;
  /** Remaining stock. */
  quantity: number;
  totalQuantity: number;
  merchantId?: number;
  /** MEMBER_CARD: the one-click activation form as `card/membercard/activateuserform/set` gave it. */
  activateForm?: { required_form?: SandboxFormPart; optional_form?: SandboxFormPart };
  /** Quick pay (`card/paycell/set`). */
  payCell?: boolean;
  /** Self redemption (`card/selfconsumecell/set`). */
  selfConsumeCell?: { isOpen: boolean; needVerifyCod: boolean; needRemarkAmount: boolean };
}

/** One part of a member card's activation form, WeChat-shaped. */
export interface SandboxFormPart {
  can_modify?: boolean;
  common_field_id_list: string[];
  custom_field_list: string[];
}

/** One code a follower holds (or held). */
export interface SandboxCode {
  code: string;
  cardId: string;
  openId: string;
  status: 'NORMAL' | 'CONSUMED' | 'GIFTING' | 'DELETE';
  receivedAt: number;
  outerStr?: string;
}

/** A sub-merchant as the sandbox holds it. */
export interface SandboxMerchant extends SandboxReview<'CHECKING' | 'APPROVED' | 'REJECTED' | 'EXPIRED'> {
  merchantId: number;
  info: Record<string, unknown>;
  createTime: number;
  updateTime: number;
}

/** One answer of a member card's activation form, WeChat-shaped. */
export interface SandboxFormAnswer {
  name: string;
  value?: string;
  value_list?: string[];
}

/** A member card code as WeChat keeps it: the submitted form and, once activated, the member's figures. */
export interface SandboxMember {
  code: string;
  cardId: string;
  commonFields: SandboxFormAnswer[];
  customFields: SandboxFormAnswer[];
  membershipNumber?: string;
  /** How many times membercard/activate succeeded for the code. */
  activations: number;
  bonus: number;
  /** Fen. */
  balance: number;
  /** Every points change `membercard/updateuser` made, as WeChat's points history would show it. */
  bonusRecords?: { at: number; bonus: number; change: number; record: string }[];
}

/** An event the sandbox pushed (or tried to push) to the webhook. */
export interface EmittedEvent {
  fields: Record<string, string | number>;
  xml: string;
  /** HTTP status of the webhook's answer (undefined when not delivered or no webhook). */
  status?: number;
  body?: string;
}

// === State

/** Receive / verify / given counters of one card on one Beijing day (for datacube). */
export interface CardDayStats {
  receive: number;
  receiveUsers: Set<string>;
  verify: number;
  verifyUsers: Set<string>;
  given: number;
  givenUsers: Set<string>;
}

/** Everything the card endpoints and the follower's side of cards read and change. */
export interface CardState {
  webhook?: SandboxWebhook;
  readonly accountId: string;
  readonly autoApprove: boolean;
  readonly cards: Map<string, SandboxCard>;
  readonly codes: Map<string, SandboxCode>;
  readonly merchants: Map<number, SandboxMerchant>;
  readonly whitelist: Set<string>;
  readonly emitted: EmittedEvent[];
  readonly qrTickets: Map<string, { cardId: string; outerStr?: string }>;
  readonly landingPages: Map<string, { cardIds: string[] }>;
  /** encrypt_code → code (card/code/decrypt). */
  readonly encrypted: Map<string, string>;
  /** By `cardId|yyyy-mm-dd` (Beijing). */
  readonly stats: Map<string, CardDayStats>;
  /** Member cards: what each code's holder submitted and WeChat's member record, by code (`api-member-routes.ts`). */
  readonly members: Map<string, SandboxMember>;
  /** activate_ticket → the code whose form it reads (`membercard/activatetempinfo/get`). */
  readonly activateTickets: Map<string, string>;
  nextMerchantId: number;
  /** The last CreateTime pushed (they never repeat). */
  lastCreateTime: number;
}

/**
 * An empty card state.
 *
 * @example const cards = createCardState({ accountId: 'gh_sandbox0000' });
 */
export function createCardState(options: CardSandboxOptions = {}): CardState {
  return {
    webhook: options.webhook,
    accountId: options.accountId ?? 'gh_sandbox0000',
    autoApprove: options.autoApprove === true,
    cards: new Map(),
    codes: new Map(),
    merchants: new Map(),
    whitelist: new Set(),
    emitted: [],
    qrTickets: new Map(),
    landingPages: new Map(),
    encrypted: new Map(),
    stats: new Map(),
    members: new Map(),
    activateTickets: new Map(),
    nextMerchantId: 100001,
    lastCreateTime: 0,
  };
}
