/**
 * `wechat-bot simulate`: plays a follower against a running bot. Builds the XML WeChat would send (a
 * text, a menu click, a follow with or without a QR scene, a scan, a location), signs it with the
 * configured token (and encrypts it in safe mode), POSTs it, and prints the reply readably.
 *
 * @example npx wechat-bot simulate "hello"
 * @example npx wechat-bot simulate --follow store-42 --safe --url http://127.0.0.1:3000/wechat
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
import crypto from 'node:crypto';
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings';
import { computeSignature } from '../../wechat/signature';
import { createMessageCrypto } from '../../wechat/crypto';
import { buildXml, parseXml } from '../../wechat/xml';
import type { InboundMessage } from '../../wechat/inbound';
import { processIo, type CliIo } from './config';
import { runningSandbox } from '../context';

// === What the follower does

/** One follower action, as chosen on the command line. */
export type FollowerInput =
  | { kind: 'text'; text: string }
  | { kind: 'click'; key: string }
  | { kind: 'follow'; scene?: string }
  | { kind: 'scan'; scene: string }
  | { kind: 'location'; lat: string; lng: string }
  /** Any event by name, with an optional key (for `rules explain --event`). */
  | { kind: 'event'; event: string; key?: string };

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

// === Reading the reply

function text(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/**
 * Renders a passive reply (parsed XML fields, or `success`) as readable lines.
 *
 * @example describeReply(parseXml(body)) // ['reply: text', '  Hello!']
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
export function describeReply(fields: Record<string, unknown> | 'success' | ''): string[] {
  if (fields === 'success' || fields === '') return [`reply: none (the bot answered ${fields === '' ? 'an empty body' : '"success"'})`];
  const type = text(fields.MsgType);
  const indent = (s: string) => s.split('\n').map((l) => `  ${l}`);
  const sub = (name: string) => (fields[name] && typeof fields[name] === 'object' ? (fields[name] as Record<string, unknown>) : {});
  switch (type) {
    case 'text':
      return ['reply: text', ...indent(text(fields.Content))];
    case 'image':
    case 'voice': {
      const s = sub(type === 'image' ? 'Image' : 'Voice');
      return [`reply: ${type}`, `  media id: ${text(s.MediaId)}`];
    }
    case 'video': {
      const s = sub('Video');
      return [
        'reply: video',
        `  media id: ${text(s.MediaId)}`,
        ...(s.Title ? [`  title: ${text(s.Title)}`] : []),
        ...(s.Description ? [`  description: ${text(s.Description)}`] : []),
      ];
    }
    case 'music': {
      const s = sub('Music');
      return [
        'reply: music',
        ...(['Title', 'Description', 'MusicUrl', 'HQMusicUrl', 'ThumbMediaId'] as const)
          .filter((k) => s[k] !== undefined && s[k] !== '')
          .map((k) => `  ${k}: ${text(s[k])}`),
      ];
    }
    case 'news': {
      const items = sub('Articles').item;
      const list = (Array.isArray(items) ? items : items ? [items] : []) as Record<string, unknown>[];
      const out = [`reply: news (${list.length} article${list.length === 1 ? '' : 's'})`];
      list.forEach((a, i) => {
        out.push(`  ${i + 1}. ${text(a.Title)}`);
        if (a.Description) out.push(`     ${text(a.Description)}`);
        if (a.Url) out.push(`     link: ${text(a.Url)}`);
        if (a.PicUrl) out.push(`     picture: ${text(a.PicUrl)}`);
      });
      return out;
    }
    case 'transfer_customer_service': {
      const account = text(sub('TransInfo').KfAccount);
      return [`reply: transfer to customer service${account ? ` (agent ${account})` : ''}`];
    }
    default:
      return [`reply: ${type || 'unknown'}`, ...Object.entries(fields).map(([k, v]) => `  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)];
  }
}

// === Sending

export interface SimulateOptions {
  url: string;
  token: string;
  openid: string;
  /** Safe mode: encrypt the request and decrypt the reply. */
  safe?: { encodingAESKey: string; appId: string };
  nowMs?: number;
  /** Request timeout (default 10 s). */
  timeoutMs?: number;
}

/**
 * What to tell an operator when no bot answered at `target`: the URL tried, why, and how to start one.
 *
 * @example unreachableMessage('http://127.0.0.1:3000/wechat', econnrefused) // 'no bot answers at http://127.0.0.1:3000/wechat (connection refused): …'
 */
export function unreachableMessage(target: string, err: unknown): string {
  const cause = (err as { cause?: { code?: unknown } } | null)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : (err as { name?: unknown } | null)?.name;
  const why =
    code === 'ECONNREFUSED'
      ? 'connection refused'
      : code === 'TimeoutError'
        ? 'no answer in time'
        : code === 'ENOTFOUND'
          ? 'unknown host'
          : typeof code === 'string'
            ? code
            : err instanceof Error
              ? err.message
              : String(err);
  return `no bot answers at ${target} (${why}): start it with \`npm start\` in the project folder (it listens on PORT, default 3000), or name its webhook with --url`;
}

/**
 * Sends one follower action to the bot and returns the HTTP status and readable reply lines.
 * Throws when the bot cannot be reached or answers with an error status.
 *
 * @example await simulate({ kind: 'text', text: 'hello' }, { url: 'http://127.0.0.1:3000/wechat', token, openid: 'o-sim' })
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
 */
export async function simulate(input: FollowerInput, o: SimulateOptions): Promise<{ status: number; lines: string[]; body: string }> {
  const nowMs = o.nowMs ?? Date.now();
  const timestamp = String(Math.floor(nowMs / 1000));
  const nonce = crypto.randomBytes(8).toString('hex');
  const xml = followerXml(input, { openid: o.openid, nowMs });
  const url = new URL(o.url);
  url.searchParams.set('signature', computeSignature(o.token, timestamp, nonce));
  url.searchParams.set('timestamp', timestamp);
  url.searchParams.set('nonce', nonce);
  url.searchParams.set('openid', o.openid);
  let body = xml;
  const mc = o.safe ? createMessageCrypto({ encodingAESKey: o.safe.encodingAESKey, appId: o.safe.appId }) : undefined;
  if (mc) {
    const encrypt = mc.encrypt(xml);
    url.searchParams.set('encrypt_type', 'aes');
    url.searchParams.set('msg_signature', computeSignature(o.token, timestamp, nonce, encrypt));
    body = buildXml({ ToUserName: 'gh_simulator00', Encrypt: encrypt });
  }
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'text/xml; charset=utf-8' },
      body,
      signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
    });
  } catch (err) {
    throw new Error(unreachableMessage(o.url, err));
  }
  const answer = await res.text();
  if (res.status !== 200) throw new Error(`the bot answered HTTP ${res.status}: ${answer.slice(0, 200)}`);
  const trimmed = answer.trim();
  if (trimmed === 'success' || trimmed === '') return { status: res.status, lines: describeReply(trimmed as 'success' | ''), body: answer };
  let fields = parseXml(answer);
  if (mc && typeof fields.Encrypt === 'string') {
    const expected = computeSignature(o.token, text(fields.TimeStamp), text(fields.Nonce), fields.Encrypt);
    if (expected !== fields.MsgSignature) throw new Error('the encrypted reply has a bad MsgSignature');
    const inner = mc.decrypt(fields.Encrypt).xml;
    fields = parseXml(inner);
    return { status: res.status, lines: ['(safe mode: reply decrypted, signature checked)', ...describeReply(fields)], body: inner };
  }
  return { status: res.status, lines: describeReply(fields), body: answer };
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
    .action(async (textArg: string | undefined, opts: FollowerOptions & { url?: string; safe?: boolean; openid: string }) => {
      const input = followerInput(textArg, opts);
      const settings = loadSettings(process.env);
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
    });
}
