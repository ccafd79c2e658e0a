/**
 * What the sandbox panel can do, given by the composition root in sandbox mode only (the console
 * never imports the stand-ins): play a follower through the real webhook (a request signed as WeChat
 * signs it), pay an order (a signed sandbox payment notification to the bot's notify endpoint), list
 * the stand-in's red packets and mark one received, or refund the unclaimed ones; and run the bot's
 * own outbox worker or reconciliation job once, so the loop shows at once instead of on their timers.
 *
 * @example const r = await sandbox.play({ kind: 'follow', scene: 'store-1' }, 'o-newcomer'); r.lines;
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
 */
import type { OutboxPass } from '../rewards/outbox-worker';
import type { ReconcileReport } from '../rewards/reconcile';
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
  /** One pass of the bot's own outbox worker over the due grants (what it did: processed, sent, failed, …). */
  sendDue(): Promise<SandboxSendPass>;
  /** One pass of the bot's own reconciliation job (gethbinfo per SENT packet); its report, or why it failed. */
  reconcile(): Promise<{ report: SandboxReconcileReport } | { error: unknown }>;
}

/** What one outbox pass did (the worker's own `OutboxPass`). */
export type SandboxSendPass = Omit<OutboxPass, 'rateLimited'>;

/** What one reconciliation run found (the job's own `ReconcileReport`). */
export type SandboxReconcileReport = ReconcileReport;
