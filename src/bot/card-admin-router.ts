/**
 * The staff endpoint for redeeming card codes. It is a staff route: mount it only behind the admin
 * bearer guard (`BOT_ADMIN_TOKEN`), which `createWebhook` puts in front of its staff routers (rate
 * limit, lockout, audit line; see `src/wechat/koa/staff-auth.ts`):
 * `createWebhook({ …, adminToken, auth, staffRouters: [createCardAdminRouter({ cards })] })`.
 *
 *   POST /admin/cards/consume   JSON `{ "code": "…", "card": "cafe-gift"?, "encrypted": false? }`
 *     200 `{ ok: true, code, cardId, cardName, openId }`
 *     409 `{ ok: false, code, reason, message }`  (already_used, wrong_card, not_found, expired, …)
 *     400 bad body · 502 WeChat unreachable · from the guard: 401 missing/wrong token
 *     (`WWW-Authenticate: Bearer`), 429 locked out (`Retry-After`)
 *
 * @example
 * curl -H "Authorization: Bearer $BOT_ADMIN_TOKEN" -d '{"code":"110201201245","card":"cafe-gift"}' \
 *   -H 'Content-Type: application/json' http://localhost:3000/admin/cards/consume
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Redeeming_a_coupon_voucher_or_card.html
 */
import { Router } from '@koa/router';
import type { Cards } from '../cards/cards';
import { CardsError } from '../cards/cards';

/** Options of {@link createCardAdminRouter}. */
export interface CardAdminRouterOptions {
  cards: Pick<Cards, 'consume'>;
  /** Path prefix (default `/admin/cards`). */
  prefix?: string;
  /** Largest JSON body accepted (default 4 KiB). */
  maxBodyBytes?: number;
}

async function readJsonBody(req: NodeJS.ReadableStream, max: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    size += b.length;
    if (size > max) throw new RangeError('body too large');
    chunks.push(b);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

/**
 * Builds the staff router (no guard of its own: `createWebhook` mounts it behind the admin guard).
 *
 * @example createWebhook({ …, adminToken, auth: { counters: store.counters, kv: store.kv }, staffRouters: [createCardAdminRouter({ cards })] });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Redeeming_a_coupon_voucher_or_card.html
 */
export function createCardAdminRouter(options: CardAdminRouterOptions): Router {
  if (!options || typeof options.cards?.consume !== 'function') throw new TypeError('createCardAdminRouter: cards is required');
  const { cards } = options;
  const max = options.maxBodyBytes ?? 4096;
  const router = new Router({ prefix: options.prefix ?? '/admin/cards' });

  router.post('/consume', async function consumeCode(ctx) {
    let body: unknown;
    try {
      // An upstream body parser may have read the body already.
      const parsed = (ctx.request as { body?: unknown }).body;
      body = parsed !== undefined ? parsed : await readJsonBody(ctx.req, max);
    } catch {
      ctx.status = 400;
      ctx.body = { ok: false, message: `the body must be JSON of at most ${max} bytes: { "code": "…", "card": "…" }` };
      return;
    }
    const b = (body ?? {}) as { code?: unknown; card?: unknown; encrypted?: unknown };
    if (typeof b.code !== 'string' || b.code.trim() === '' || b.code.length > 512 || (b.card !== undefined && typeof b.card !== 'string')) {
      ctx.status = 400;
      ctx.body = { ok: false, message: 'give "code" (string) and optionally "card" (a card name of cards.yaml)' };
      return;
    }
    try {
      const r = await cards.consume(b.code, { card: b.card as string | undefined, encrypted: b.encrypted === true ? true : undefined });
      ctx.status = r.ok ? 200 : r.reason === 'error' ? 502 : 409;
      ctx.body = r;
    } catch (err) {
      if (err instanceof CardsError) {
        ctx.status = 400;
        ctx.body = { ok: false, message: err.message };
        return;
      }
      throw err;
    }
  });
  return router;
}
