/**
 * What the sandbox panel can do, given by the composition root in sandbox mode only (the console
 * never imports the stand-ins): play a follower through the real webhook (a request signed as WeChat
 * signs it), pay an order (a signed sandbox payment notification to the bot's notify endpoint), list
 * the stand-in's red packets and mark one received, or refund the unclaimed ones.
 *
 * @example const r = await sandbox.play({ kind: 'follow', scene: 'store-1' }, 'o-newcomer'); r.lines;
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
 */
import type { FollowerInput } from '../wechat/follower-message';

/** One red packet of the Pay stand-in. */
export interface SandboxPacket {
  billNo: string;
  openId: string;
  amountFen: number;
  /** SENT, RECEIVED, RFUND_ING, REFUND, … (gethbinfo's spelling). */
  status: string;
  /** Epoch ms it was sent. */
  sentAt: number;
}

export interface ConsoleSandbox {
  /** Sends the follower's action to the webhook; the reply as readable lines and the raw body. */
  play(input: FollowerInput, openid: string): Promise<{ lines: string[]; body: string }>;
  /** Sends one payment notification (no re-sends); whether the bot answered success. */
  pay(order: { openid: string; totalFen: number; attach?: string }): Promise<{ delivered: boolean; transactionId: string; message?: string }>;
  packets(): SandboxPacket[];
  /** SENT → RECEIVED; throws a RangeError for an unknown bill, an Error when it is not SENT. */
  receive(billNo: string): SandboxPacket;
  /** Refunds every SENT packet now; how many. */
  refundUnclaimed(): number;
}
