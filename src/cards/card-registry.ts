/**
 * What the bot knows about its cards and sub-merchants, kept in the shared `KeyValueStore` (so every
 * instance and the CLI see the same): for each card name of cards.yaml its `card_id`, review status and
 * refusal reason, the definition last synced (to compute `card/update` and `modifystock`), and its
 * landing page; for each sub-merchant name its `merchant_id`, review status and reason. Reverse keys map
 * a `card_id` / `merchant_id` from an event back to the config name.
 *
 * Updates are read-modify-write under a short store lock ({@link withKvLock}), so a review event and a
 * `cards sync` running at the same moment don't lose each other's change.
 *
 * @example
 * const registry = createCardRegistry({ kv: store.kv });
 * await registry.updateCard('coffee-cash', (r) => ({ ...r, status: 'CARD_STATUS_VERIFY_OK' }));
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Create_a_Coupon_Voucher_or_Card.html
 */
import { randomBytes } from 'node:crypto';
import type { KeyValueStore } from '../store/ports';
import type { CardDefinition } from './card-schema';

// === Records

/** Review status of a card as the bot tracks it (`NOT_CREATED` before card/create). */
export type CardReviewStatus = 'NOT_CREATED' | 'CARD_STATUS_NOT_VERIFY' | 'CARD_STATUS_VERIFY_OK' | 'CARD_STATUS_VERIFY_FAIL' | 'CARD_STATUS_DELETE';

/** One card's state. */
export interface CardRecord {
  name: string;
  cardId?: string;
  status: CardReviewStatus;
  refuseReason?: string;
  /** The definition as last created/updated on WeChat. */
  synced?: CardDefinition;
  /** Epoch ms of the last sync / review event. */
  updatedAt: number;
  /** Landing page made for the card (delivery `landing_page`). */
  landingPage?: { url: string; pageId: number };
}

/** Review status of a sub-merchant (`NOT_SUBMITTED` before card/submerchant/submit). */
export type SubMerchantReviewStatus = 'NOT_SUBMITTED' | 'CHECKING' | 'APPROVED' | 'REJECTED' | 'EXPIRED';

/** One sub-merchant's state. */
export interface SubMerchantRecord {
  name: string;
  merchantId?: number;
  status: SubMerchantReviewStatus;
  reason?: string;
  updatedAt: number;
}

/** The registry port. */
export interface CardRegistry {
  getCard(name: string): Promise<CardRecord>;
  /** Atomically rewrites a card's record (creating it as NOT_CREATED first). */
  updateCard(name: string, fn: (r: CardRecord) => CardRecord): Promise<CardRecord>;
  /** The config name of a `card_id`, if the bot made it. */
  nameOfCardId(cardId: string): Promise<string | undefined>;
  getSubMerchant(name: string): Promise<SubMerchantRecord>;
  updateSubMerchant(name: string, fn: (r: SubMerchantRecord) => SubMerchantRecord): Promise<SubMerchantRecord>;
  nameOfMerchantId(merchantId: number): Promise<string | undefined>;
}

// === Lock

/**
 * Runs `fn` while holding a short lock in the store (`setIfAbsent` with a TTL, released with
 * `deleteIfEquals`), retrying every `pollMs` for up to `waitMs`. The TTL frees the lock of a crashed
 * holder.
 *
 * @example await withKvLock(kv, 'cards:lock:x', () => readModifyWrite());
 * @see https://redis.io/docs/latest/develop/use/patterns/distributed-locks/
 */
export async function withKvLock<T>(
  kv: KeyValueStore,
  key: string,
  fn: () => Promise<T>,
  opts: { ttlSeconds?: number; waitMs?: number; pollMs?: number } = {},
): Promise<T> {
  const ttl = opts.ttlSeconds ?? 10;
  const deadline = Date.now() + (opts.waitMs ?? 15_000);
  const token = randomBytes(8).toString('hex');
  for (;;) {
    if (await kv.setIfAbsent(key, token, ttl)) break;
    if (Date.now() > deadline) throw new Error(`cards: timed out waiting for the store lock ${key}`);
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 5));
  }
  try {
    return await fn();
  } finally {
    await kv.deleteIfEquals(key, token).catch(() => false);
  }
}

/** Reads a JSON value, undefined when absent or not JSON. */
export async function readJson<T>(kv: KeyValueStore, key: string): Promise<T | undefined> {
  const raw = await kv.get(key);
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return undefined;
  }
}

// === Factory

/** Options of {@link createCardRegistry}. */
export interface CardRegistryOptions {
  kv: KeyValueStore;
  /** Epoch ms (default Date.now). */
  now?: () => number;
}

/**
 * Builds the registry over a key-value store.
 *
 * @example const registry = createCardRegistry({ kv: store.kv });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Create_a_Coupon_Voucher_or_Card.html
 */
export function createCardRegistry(options: CardRegistryOptions): CardRegistry {
  const kv = options?.kv;
  if (!kv || typeof kv.setIfAbsent !== 'function') throw new TypeError('createCardRegistry: kv must be a KeyValueStore');
  const now = options.now ?? Date.now;
  const cardKey = (name: string) => `cards:card:${name}`;
  const subKey = (name: string) => `cards:merchant:${name}`;

  async function getCard(name: string): Promise<CardRecord> {
    return (await readJson<CardRecord>(kv, cardKey(name))) ?? { name, status: 'NOT_CREATED', updatedAt: 0 };
  }
  async function getSubMerchant(name: string): Promise<SubMerchantRecord> {
    return (await readJson<SubMerchantRecord>(kv, subKey(name))) ?? { name, status: 'NOT_SUBMITTED', updatedAt: 0 };
  }

  return {
    getCard,
    async updateCard(name, fn) {
      return withKvLock(kv, `${cardKey(name)}:lock`, async () => {
        const next = { ...fn(await getCard(name)), name, updatedAt: now() };
        await kv.set(cardKey(name), JSON.stringify(next));
        if (next.cardId) await kv.set(`cards:cardid:${next.cardId}`, name);
        return next;
      });
    },
    async nameOfCardId(cardId) {
      return kv.get(`cards:cardid:${cardId}`);
    },
    getSubMerchant,
    async updateSubMerchant(name, fn) {
      return withKvLock(kv, `${subKey(name)}:lock`, async () => {
        const next = { ...fn(await getSubMerchant(name)), name, updatedAt: now() };
        await kv.set(subKey(name), JSON.stringify(next));
        if (next.merchantId !== undefined) await kv.set(`cards:merchantid:${next.merchantId}`, name);
        return next;
      });
    },
    async nameOfMerchantId(merchantId) {
      return kv.get(`cards:merchantid:${merchantId}`);
    },
  };
}
