/**
 * Sandbox mode of the bot (no WeChat credentials set): the in-process stand-ins of WeChat's API and
 * Pay servers and the control server, and the discovery file (`data/sandbox.json`) through which the
 * CLI finds them while the bot runs.
 *
 * @example
 * const sandbox = await startBotSandbox(settings, { clock, log, keepBills: true });
 * apiBase = sandbox.api.url; … await sandbox.close();
 * @see https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Get_access_token.html
 */
import type { Settings } from '../config/settings';
import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import { startApiSandbox, type ApiSandbox } from '../sandbox/api-server';
import { startSandboxControl, type SandboxControl } from '../sandbox/control-server';
import { startPaySandbox, type PaySandbox } from '../sandbox/pay-server';
import { removeSandboxInfo, sandboxInfoFile, sandboxStateFile, writeSandboxInfo } from '../sandbox/sandbox-info';

/** The stand-ins a sandbox-mode bot runs. */
export interface BotSandbox {
  readonly api: ApiSandbox;
  readonly pay: PaySandbox;
  readonly control: SandboxControl;
}

/**
 * Starts the three stand-ins. With `keepBills` (the bot's own store under data/), the Pay stand-in
 * keeps its bills beside the ledger, so a restart changes nothing: reconciliation still finds every
 * bill it paid. Fails (closing what it started) when one cannot start.
 *
 * @example await startBotSandbox(settings, { clock, log, keepBills: !options.store })
 */
export async function startBotSandbox(
  settings: Pick<Settings, 'wechat' | 'pay' | 'dataDir'>,
  o: { clock: Clock; log: Logger; keepBills: boolean },
): Promise<BotSandbox & { close(): Promise<void> }> {
  const started: { close(): Promise<void> }[] = [];
  const close = async () => {
    for (const s of started.reverse()) await s.close().catch(() => undefined);
  };
  try {
    // Playground: cards pass review at once, so a newcomer sees a card reward arrive.
    const api = await startApiSandbox({ appId: settings.wechat.appId, appSecret: settings.wechat.appSecret, clock: o.clock, cards: { autoApprove: true } });
    started.push(api);
    const stateFile = o.keepBills ? sandboxStateFile(settings.dataDir) : undefined;
    const pay = await startPaySandbox({ mchId: settings.pay.mchId, key: settings.pay.key, appIds: [settings.wechat.appId], clock: o.clock, log: o.log, stateFile });
    started.push(pay);
    const control = await startSandboxControl({ pay, cards: api.cards });
    started.push(control);
    o.log.info({ api: api.url, pay: pay.url }, 'sandbox mode: no WeChat credentials set, using the built-in stand-in servers');
    return { api, pay, control, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Where a running bot in sandbox mode writes the URLs of its stand-in servers, for the CLI. */
export function sandboxInfoPath(settings: Pick<Settings, 'dataDir'>): string {
  return sandboxInfoFile(settings.dataDir);
}

/** Writes the discovery file; a failure is ignored (discovery is a convenience; the bot runs without it). */
export function writeBotSandboxInfo(settings: Pick<Settings, 'dataDir'>, sandbox: BotSandbox, webhook: string): void {
  try {
    const { api, pay, control } = sandbox;
    writeSandboxInfo(sandboxInfoPath(settings), { pid: process.pid, api: api.url, pay: pay.url, webhook, control: control.url, token: control.token });
  } catch {
    // Discovery is a convenience; the bot runs without it.
  }
}

/** Removes the discovery file of this bot. */
export function removeBotSandboxInfo(settings: Pick<Settings, 'dataDir'>): void {
  removeSandboxInfo(sandboxInfoPath(settings));
}
