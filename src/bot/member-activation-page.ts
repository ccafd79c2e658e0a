/**
 * The jump-style member-card activation page (跳转型一键激活), a PUBLIC route of the bot's app. After
 * the follower submits the activation form, WeChat sends their browser to the card's
 * `wx_activate_after_submit_url` (set it to this page) with `card_id`, `encrypt_code`, `openid` and
 * `activate_ticket` in the query. The page activates the card ({@link Cards.activateFromJump}: decrypt,
 * owner check, `activatetempinfo/get`, `membercard/activate` under the per-code lock) and answers a
 * small HTML page.
 *
 *   GET /cards/member/activate?card_id=…&encrypt_code=…&openid=…&activate_ticket=…
 *     200 activated (a reload says "already activated": never a second activation)
 *     422 a required field is missing (named) · 400 a parameter is missing or malformed (named)
 *     404 not a one-click member card of ours, or the link does not check out · 502 try again
 *     429 too many requests from this client address (`Retry-After`)
 *
 * Every parameter is hostile: length and charset limits, one value each; the page is escaped, has no
 * script, and is sent with a CSP that forbids any, `Referrer-Policy: no-referrer` (the URL carries the
 * ticket) and `Cache-Control: no-store`.
 *
 * @example createWebhook({ …, routers: [createMemberActivationPage({ cards, counters: store.counters, trustedProxies })] })
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Membership_Cards/Create_a_membership_card.html
 */
import { Router } from '@koa/router';
import type { Context } from 'koa';
import type { Cards, JumpActivationResult } from '../cards/cards';
import { fieldLabel } from '../cards/member-activation';
import { addressBucket, clientAddress, type TrustedProxies } from '../lib/client-address';
import type { CounterStore } from '../store/ports';

/** Options of {@link createMemberActivationPage}. */
export interface MemberActivationPageOptions {
  cards: Pick<Cards, 'activateFromJump'>;
  counters: CounterStore;
  trustedProxies?: TrustedProxies;
  /** Path of the page (default `/cards/member/activate`). */
  path?: string;
  /** Requests per client address per window (default 20 per 60 s). */
  limit?: { requests: number; windowSeconds: number };
}

/** The query parameters and what each may look like. */
const PARAMS = {
  card_id: /^[A-Za-z0-9_-]{1,64}$/,
  encrypt_code: /^[A-Za-z0-9+/=_-]{1,512}$/,
  openid: /^[A-Za-z0-9_-]{1,128}$/,
  activate_ticket: /^[A-Za-z0-9+/=_-]{1,512}$/,
} as const;

type ParamName = keyof typeof PARAMS;

/** Longest query string read at all. */
const MAX_QUERY = 4096;

const CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * Escapes text for HTML content and attribute values.
 *
 * @example escapeHtml('<b>') // '&lt;b&gt;'
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The query read as the four parameters, or the message saying which one is wrong. */
export function readActivationQuery(querystring: string): { ok: true; value: Record<ParamName, string> } | { ok: false; message: string } {
  if (querystring.length > MAX_QUERY) return { ok: false, message: `the link is too long (at most ${MAX_QUERY} characters)` };
  const q = new URLSearchParams(querystring);
  const value = {} as Record<ParamName, string>;
  for (const name of Object.keys(PARAMS) as ParamName[]) {
    const all = q.getAll(name);
    if (all.length === 0 || all[0] === '') return { ok: false, message: `the link has no ${name}: open the card in WeChat and submit the form again` };
    if (all.length > 1) return { ok: false, message: `the link has ${name} more than once` };
    if (!PARAMS[name].test(all[0]!)) return { ok: false, message: `the link's ${name} is malformed` };
    value[name] = all[0]!;
  }
  return { ok: true, value };
}

function page(ctx: Context, status: number, title: string, text: string): void {
  ctx.status = status;
  ctx.set('Content-Security-Policy', CSP);
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('Cache-Control', 'no-store');
  ctx.type = 'text/html; charset=utf-8';
  ctx.body =
    `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<title>${escapeHtml(title)}</title></head><body style="font-family:sans-serif;margin:2em">` +
    `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></body></html>\n`;
}

function answer(ctx: Context, r: JumpActivationResult): void {
  switch (r.outcome) {
    case 'activated':
    case 'already-active':
      return page(ctx, 200, '会员卡已激活 · Card activated', `会员号 Membership number: ${r.member.membershipNumber}`);
    case 'missing-fields':
      return page(ctx, 422, '会员卡未激活 · Not activated', `请填写 Please fill in: ${r.missing.map(fieldLabel).join('、')}`);
    case 'not-a-member-card':
    case 'invalid-link':
      return page(ctx, 404, '无法激活 · Cannot activate', '这不是可激活的会员卡链接 This is not a valid activation link of our member card.');
    default:
      return page(
        ctx,
        502,
        '请稍后重试 · Try again',
        '暂时无法激活：请稍后刷新本页，或在微信中重新提交开卡资料 The card could not be activated now: reload this page later, or submit the form again in WeChat.',
      );
  }
}

/**
 * Builds the public router of the activation page (mount it in `createWebhook`'s `routers`).
 *
 * @example createMemberActivationPage({ cards, counters: store.counters, trustedProxies: settings.trustedProxies })
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Membership_Cards/Create_a_membership_card.html
 */
export function createMemberActivationPage(options: MemberActivationPageOptions): Router {
  if (!options || typeof options.cards?.activateFromJump !== 'function') throw new TypeError('createMemberActivationPage: cards is required');
  if (typeof options.counters?.incrementWithin !== 'function') throw new TypeError('createMemberActivationPage: counters is required');
  const { cards, counters, trustedProxies } = options;
  const limit = options.limit ?? { requests: 20, windowSeconds: 60 };
  const router = new Router();
  router.get(options.path ?? '/cards/member/activate', async function memberActivationPage(ctx) {
    const bucket = addressBucket(clientAddress(ctx.req, trustedProxies));
    const counted = await counters.incrementWithin(`cards:activate-page:${bucket}`, 1, limit.requests, limit.windowSeconds);
    if (!counted.allowed) {
      ctx.set('Retry-After', String(limit.windowSeconds));
      return page(ctx, 429, '请稍后重试 · Too many requests', '请求过于频繁，请稍后再试 Too many requests from your address: try again in a minute.');
    }
    const q = readActivationQuery(ctx.querystring);
    if (!q.ok) return page(ctx, 400, '链接无效 · Bad link', q.message);
    const { card_id: cardId, encrypt_code: encryptCode, openid: openId, activate_ticket: activateTicket } = q.value;
    answer(ctx, await cards.activateFromJump({ cardId, encryptCode, openId, activateTicket }));
  });
  return router;
}
