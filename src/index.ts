/**
 * The public entry of the package (`import { … } from 'wechat-bot'`): the webhook middleware to mount
 * in any Koa app, what it needs (a reply renderer, a store for dedupe and request bindings, a logger,
 * the safe-mode crypto), the official-account API and WeChat Pay clients, and the config loader.
 * Everything else under src/ is internal and may change.
 *
 * @example
 * const store = await createStore({ driver: 'memory', sqlitePath: '' });
 * app.use(createWebhookMiddleware({ token, renderer: createReplyRenderer({ viewsDir: packageViewsDir() }),
 *   handler: (m) => ({ type: 'text', content: 'hi' }), dedupe: store.dedupe, bindings: store.bindings, log: createLogger() }));
 * @see https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
 */

import { createApiClient as createApiClientOn, type ApiClient, type ApiClientOptions as InternalApiClientOptions } from './api/client';
import { createMemoryStore } from './store/memory';
import type { KeyValueStore } from './store/ports';

// === The webhook
export { createWebhookMiddleware, createWebhookRouter, type WebhookOptions, type MessageHandler, type Delivery } from './wechat/koa/create-webhook';
export type { WebhookState } from './wechat/koa/state';
export type { InboundMessage } from './wechat/inbound';
export { createMessageCrypto, type MessageCrypto, type MessageCryptoOptions } from './wechat/crypto';
export { createReplyRenderer, type ReplyRenderer, type ReplyRendererOptions } from './reply/render-reply';
export type { Reply } from './reply/reply';
export { packageViewsDir } from './lib/package-views-dir';
export { createLogger, silentLogger, type Logger, type LoggerOptions } from './lib/logger';

// === The store
export { createStore, type CreateStoreOptions, type CompositeStore } from './store/create-store';

// === The WeChat API and WeChat Pay clients
export type { ApiClient } from './api/client';
export { createTokenProvider, type TokenProvider, type TokenProviderOptions } from './api/access-token';
export { WeChatApiError, WeChatHttpError } from './api/errors';
export { createPayClient, type PayClient, type PayClientOptions } from './pay/client';
export { PayError, PayHttpError, PayConfigError } from './pay/errors';

// === The config loader
export { loadConfig, type BotConfig, type LoadConfigOptions, type LoadConfigResult } from './config/load-config';

// === The one helper of the entry: the API client with a default ticket cache

/** Options of {@link createApiClient}: those of the internal client, with `store` optional. */
export interface ApiClientOptions extends Omit<InternalApiClientOptions, 'store'> {
  /** Where tickets (JS-API card ticket) are cached; default an in-process store. Pass the shared `store.kv` of {@link createStore}. */
  store?: KeyValueStore;
}

/**
 * Builds the official-account API client (`api.customMessage`, `api.menu`, `api.qrcode`, `api.ticket`,
 * `api.user`, `api.card`). Without `store`, tickets are cached in an in-process store of their own
 * (on `clock`): the package's entry picks that default, so the API itself depends on no store adapter.
 *
 * @example
 * const api = createApiClient({ baseUrl: 'https://api.weixin.qq.com', tokens: createTokenProvider({ appId, appSecret, baseUrl, store: store.kv }) });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Overview.html
 */
export function createApiClient(options: ApiClientOptions): ApiClient {
  if (!options || typeof options !== 'object') throw new TypeError('createApiClient: options are required');
  return createApiClientOn({ ...options, store: options.store ?? createMemoryStore({ clock: options.clock }).kv });
}
