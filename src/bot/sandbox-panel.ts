/**
 * The sandbox panel's powers (`console/console-sandbox.ts`), built over the stand-ins of a sandbox-mode
 * bot: a follower is played through the bot's own webhook with `simulate` (the request signed, and in
 * safe mode encrypted, as WeChat does), an order is paid with one signed v2 payment notification to
 * the bot's notify endpoint, and the packets are the Pay stand-in's (received / refunded there, as
 * `wechat-bot sandbox receive | refund-unclaimed` do through the control server); "send due grants
 * now" and "reconcile now" run the bot's own outbox worker pass and reconciliation pass once.
 *
 * @example const panel = createSandboxPanel({ settings, pay: sandbox.pay, origin: () => 'http://127.0.0.1:3000', clock, sendDue: () => worker.runOnce(), reconcile: () => runReconcilePass(deps) });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
 */
import type { Settings } from '../config/settings';
import type { ConsoleSandbox, SandboxPacket, SandboxSendPass } from '../console/console-sandbox';
import type { Clock } from '../lib/clock';
import { simulate } from '../sandbox/play-follower';
import { buildV2Notification, sandboxTransactionId, sendPayNotification } from '../sandbox/pay-notifier';
import type { PaySandbox } from '../sandbox/pay-server';
import type { SandboxPayment } from '../sandbox/pay-state';

export interface SandboxPanelDeps {
  settings: Pick<Settings, 'wechat' | 'pay' | 'payNotifyPath'>;
  pay: PaySandbox;
  /** The bot's own origin (`http://127.0.0.1:PORT`) once it listens. */
  origin: () => string | undefined;
  clock: Clock;
  /** One pass of the bot's outbox worker (`worker.runOnce`). */
  sendDue: () => Promise<SandboxSendPass>;
  /** One pass of the bot's reconciliation job (`runReconcilePass` with the job's own deps). */
  reconcile: ConsoleSandbox['reconcile'];
}

function packetOf(p: SandboxPayment): SandboxPacket {
  return { billNo: p.billNo, openId: p.openId, amountFen: p.amountFen, status: p.status, sentAt: p.sentAt };
}

function originOf(deps: SandboxPanelDeps): string {
  const origin = deps.origin();
  if (!origin) throw new Error('the bot is not listening yet: start it with listen() before playing a follower');
  return origin;
}

/**
 * Builds the panel's powers for a sandbox-mode bot.
 *
 * @example await createSandboxPanel(deps).play({ kind: 'text', text: 'hello' }, 'o-newcomer')
 */
export function createSandboxPanel(deps: SandboxPanelDeps): ConsoleSandbox {
  const { settings, pay, clock } = deps;
  return {
    async play(input, openid) {
      const { wechat } = settings;
      const safe = wechat.safeModeOnly && wechat.encodingAESKey ? { encodingAESKey: wechat.encodingAESKey, appId: wechat.appId } : undefined;
      const r = await simulate(input, { url: `${originOf(deps)}/wechat`, token: wechat.token, openid, nowMs: clock.now(), ...(safe ? { safe } : {}) });
      return { lines: r.lines, body: r.body };
    },
    async pay(order) {
      const key = settings.pay.key;
      const mchId = settings.pay.mchId;
      if (!key || !mchId) throw new Error('no sandbox merchant (WECHAT_MCH_ID, WECHAT_PAY_KEY)');
      const now = clock.now();
      const transactionId = sandboxTransactionId(now);
      const xml = buildV2Notification(
        {
          appId: settings.wechat.appId,
          mchId,
          openId: order.openid,
          totalFen: order.totalFen,
          transactionId,
          outTradeNo: `console${now}`,
          attach: order.attach,
          paidAt: now,
        },
        key,
      );
      const r = await sendPayNotification({ url: `${originOf(deps)}${settings.payNotifyPath}`, protocol: 'v2', build: () => ({ body: xml }), schedule: [] });
      const last = r.attempts[r.attempts.length - 1];
      return { delivered: r.delivered, transactionId, ...(last?.message ? { message: last.message } : {}) };
    },
    packets: () => [...pay.payments.values()].map(packetOf).sort((a, b) => b.sentAt - a.sentAt),
    receive(billNo) {
      const p = pay.payments.get(billNo);
      if (!p) throw new RangeError(`no red packet with bill number ${billNo} in this sandbox`);
      pay.receive(billNo);
      return packetOf(p);
    },
    refundUnclaimed: () => pay.refundUnclaimed(0).length,
    async sendDue() {
      const { processed, sent, failed, held, retried } = await deps.sendDue();
      return { processed, sent, failed, held, retried };
    },
    reconcile: () => deps.reconcile(),
  };
}
