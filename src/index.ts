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
export { createApiClient, type ApiClient, type ApiClientOptions } from './api/client';
export { createTokenProvider, type TokenProvider, type TokenProviderOptions } from './api/access-token';
export { WeChatApiError, WeChatHttpError } from './api/errors';
export { createPayClient, type PayClient, type PayClientOptions } from './pay/client';
export { PayError, PayHttpError, PayConfigError } from './pay/errors';

// === The config loader
export { loadConfig, type BotConfig, type LoadConfigOptions, type LoadConfigResult } from './config/load-config';
