import Koa from 'koa';
import request from 'supertest';
import { createConsole } from '../../src/console/create-console';
import { fixedClock, shanghaiToEpoch } from '../../src/lib/clock';
import { ADMIN_TOKEN, cookieOf, loginForm, startConsoleTestBot, type ConsoleTestBot } from './console-bot';

describe('sandbox panel outside sandbox mode', () => {
  let cb: ConsoleTestBot;
  beforeAll(async () => {
    cb = await startConsoleTestBot({ clock: fixedClock(shanghaiToEpoch(2026, 12, 4, 12, 0, 0)) });
  });
  afterAll(async () => {
    await cb?.close();
  });

  it('should not be mounted (404, not in the nav) when the bot is not in sandbox mode', async () => {
    const { bot } = cb;
    const app = new Koa();
    app.use(
      createConsole({
        adminToken: ADMIN_TOKEN,
        settings: bot.settings,
        ledger: bot.ledger,
        rewards: bot.rewards,
        config: bot.config,
        cards: bot.cards,
        orders: bot.orders,
        kv: bot.store.kv,
        counters: bot.store.counters,
        clock: fixedClock(shanghaiToEpoch(2026, 12, 4, 12, 0, 0)),
        log: bot.log,
        sandbox: false,
      }),
    );
    const server = app.callback();
    const form = await loginForm(server);
    const res = await request(server).post('/console/login').set('cookie', form.cookie).type('form').send({ token: ADMIN_TOKEN, _csrf: form.csrf }).expect(302);
    const cookie = cookieOf(res, 'console_session')!;
    await request(server).get('/console/api/sandbox/packets').set('cookie', cookie).expect(404);
    const rules = await request(server).get('/console/rules').set('cookie', cookie).expect(200);
    expect(rules.text).not.toContain('href="/console/sandbox"');
    const inSandbox = await request(cb.app)
      .get('/console/rules')
      .set('cookie', (await cb.login()).cookie)
      .expect(200);
    expect(inSandbox.text).toContain('href="/console/sandbox"');
  });
});
