/**
 * `wechat-bot simulate`: plays a follower against a running bot. Builds the XML WeChat would send (a
 * text, a menu click, a follow with or without a QR scene, a scan, a location), signs it with the
 * configured token (and encrypts it in safe mode), POSTs it, and prints the reply readably.
 *
 * @example npx wechat-bot simulate "hello"
 * @example npx wechat-bot simulate --follow store-42 --safe --url http://127.0.0.1:3000/wechat
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings';
import type { FollowerInput } from '../../wechat/follower-message';
import { simulate } from '../../sandbox/play-follower';
import { processIo, type CliIo } from './config';
import { runningSandbox } from '../context';
import { formFieldsOf, runSandboxActivate } from './sandbox-control';

// === What the follower does

export { followerMessage, followerXml, type FollowerInput } from '../../wechat/follower-message';
export { describeReply, simulate, unreachableMessage, type SimulateOptions } from '../../sandbox/play-follower';

export interface FollowerOptions {
  click?: string;
  follow?: string | boolean;
  scan?: string;
  location?: string;
  event?: string;
  key?: string;
}

/**
 * Turns the positional text and the options into one `FollowerInput`; throws a usage error when none
 * or several are given.
 *
 * @example followerInput(undefined, { click: 'MENU_HELP' }) // { kind: 'click', key: 'MENU_HELP' }
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
 */
export function followerInput(text: string | undefined, o: FollowerOptions): FollowerInput {
  const chosen: FollowerInput[] = [];
  if (text !== undefined) chosen.push({ kind: 'text', text });
  if (o.click !== undefined) chosen.push({ kind: 'click', key: o.click });
  if (o.follow !== undefined && o.follow !== false) chosen.push({ kind: 'follow', ...(typeof o.follow === 'string' ? { scene: o.follow } : {}) });
  if (o.scan !== undefined) chosen.push({ kind: 'scan', scene: o.scan });
  if (o.location !== undefined) {
    const m = /^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$/.exec(o.location);
    if (!m) throw new Error(`--location "${o.location}" must be LAT,LNG (e.g. 31.2304,121.4737)`);
    chosen.push({ kind: 'location', lat: m[1], lng: m[2] });
  }
  if (o.event !== undefined) chosen.push({ kind: 'event', event: o.event, ...(o.key !== undefined ? { key: o.key } : {}) });
  if (chosen.length !== 1)
    throw new Error(
      chosen.length === 0
        ? 'say what the follower does: "text", --click KEY, --follow [scene], --scan SCENE, --location LAT,LNG'
        : 'give only one of "text", --click, --follow, --scan, --location, --event',
    );
  return chosen[0];
}

/**
 * Registers `simulate`.
 *
 * @example register(program)
 * @see https://github.com/tj/commander.js
 */
export function register(program: Command, io: CliIo = processIo): void {
  program
    .command('simulate')
    .description('play a follower against a running bot with properly signed requests and print the reply')
    .argument('[text]', 'a text message to send')
    .option('--click <key>', 'tap the menu button with this key')
    .option('--follow [scene]', 'follow the account (optionally from the QR code of a scene)')
    .option('--scan <scene>', 'scan a QR code with this scene (already following)')
    .option('--location <lat,lng>', 'send a location')
    .option('--url <url>', 'the webhook URL (default: the bot started by `npm start` here, else http://127.0.0.1:$PORT/wechat)')
    .option('--safe', 'safe mode: encrypt with WECHAT_ENCODING_AES_KEY / WECHAT_APPID (the default when WECHAT_SAFE_MODE_ONLY is on)')
    .option('--openid <openid>', 'the follower openid', 'o-simulated-follower')
    .option('--activate <cardId>', "the sandbox's follower adds this member card and submits its activation form (with --field)")
    .option('--code <code>', 'with --activate: a code the follower already holds')
    .option('--field <name=value>', 'with --activate: one answer of the form (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .action(
      async (
        textArg: string | undefined,
        opts: FollowerOptions & { url?: string; safe?: boolean; openid: string; activate?: string; code?: string; field: string[] },
      ) => {
        const settings = loadSettings(process.env);
        if (opts.activate !== undefined) {
          const fields = formFieldsOf(opts.field);
          process.exitCode = await runSandboxActivate({ openid: opts.openid, cardId: opts.activate, ...(opts.code ? { code: opts.code } : {}), fields }, io, {
            dataDir: settings.dataDir,
          });
          return;
        }
        const input = followerInput(textArg, opts);
        if (opts.safe && !settings.wechat.encodingAESKey) throw new Error('--safe needs WECHAT_ENCODING_AES_KEY (43 characters)');
        // A bot that requires safe mode refuses plain requests: play WeChat in the account's mode.
        const safe = opts.safe === true || settings.wechat.safeModeOnly;
        const r = await simulate(input, {
          url: opts.url ?? runningSandbox(settings)?.webhook ?? `http://127.0.0.1:${settings.port}/wechat`,
          token: settings.wechat.token,
          openid: opts.openid,
          ...(safe ? { safe: { encodingAESKey: settings.wechat.encodingAESKey!, appId: settings.wechat.appId } } : {}),
        });
        for (const line of r.lines) io.out(line);
      },
    );
}
