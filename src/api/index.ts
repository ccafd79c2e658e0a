/**
 * The WeChat official-account API: client, token provider, areas and errors.
 *
 * @example import { createApiClient, createTokenProvider } from './api';
 * @see https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Overview.html
 */
export * from './access-token';
export * from './card';
export * from './client';
export * from './custom-message';
export * from './errors';
export * from './menu';
export * from './menu-diff';
export * from './qrcode';
export * from './request';
export * from './ticket';
export * from './user';
export * from './member-card-bonus';
