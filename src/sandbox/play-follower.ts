/**
 * Plays WeChat pushing a follower's action to a bot: builds the XML (`wechat/follower-message.ts`),
 * signs it with the token (and encrypts it in safe mode) exactly as WeChat does, POSTs it to the
 * webhook, and reads the passive reply back as readable lines. Used by `wechat-bot simulate` and by
 * the console's sandbox panel, so both go through the real webhook path.
 *
 * @example await simulate({ kind: 'text', text: 'hello' }, { url: 'http://127.0.0.1:3000/wechat', token, openid: 'o-sim' })
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
 */
import crypto from 'node:crypto';
import { computeSignature } from '../wechat/signature';
import { createMessageCrypto } from '../wechat/crypto';
import { buildXml, parseXml } from '../wechat/xml';
import { followerXml, type FollowerInput } from '../wechat/follower-message';

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
