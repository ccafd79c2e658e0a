/**
 * Someone else's Koa app with the WeChat webhook mounted at /wechat: its own routes stay its own.
 * Run it: `WECHAT_TOKEN=your-token npx tsx examples/koa-app.ts`, then set http://your-host:3000/wechat
 * and the same token in the official account's admin console (开发 → 基本配置 → 服务器配置).
 */
import Koa from 'koa';
import { createLogger, createReplyRenderer, createStore, createWebhookMiddleware, packageViewsDir, type Logger } from 'wechat-bot';

export async function createShopApp(token: string, log: Logger = createLogger()): Promise<{ app: Koa; close(): Promise<void> }> {
  const store = await createStore({ driver: 'memory', sqlitePath: '' }); // dedupe + request bindings; SQLite/Redis/PostgreSQL by options
  const app = new Koa();
  app.use(async (ctx, next) => {
    if (ctx.path !== '/') return next();
    ctx.body = 'Welcome to the shop'; // the host app's own route
  });
  app.use(
    createWebhookMiddleware({
      token,
      log,
      dedupe: store.dedupe,
      bindings: store.bindings,
      renderer: createReplyRenderer({ viewsDir: packageViewsDir() }),
      handler: (message) => ({ type: 'text', content: message.MsgType === 'text' ? `You said: ${message.Content}` : 'Hello from the shop' }),
    }),
  );
  return { app, close: () => store.close() };
}

if (require.main === module) void createShopApp(process.env.WECHAT_TOKEN ?? 'example-token').then(({ app }) => app.listen(Number(process.env.PORT ?? 3000)));
