import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createShopApp } from '../../examples/koa-app';
import { silentLogger } from '../../src/lib/logger';
import { parseXml } from '../../src/wechat/xml';
import { DEFAULT_FROM, DEFAULT_TO, textXml } from '../helpers/inbound';
import { signedQuery, toQueryString } from '../helpers/signed-query';

const TOKEN = 'ExampleShopToken';

describe('examples/koa-app createShopApp', () => {
  let server: http.Server;
  let base: string;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const shop = await createShopApp(TOKEN, silentLogger());
    close = shop.close;
    server = http.createServer(shop.app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await close();
  });

  it('should answer a signed text message with the passive reply of its handler', async () => {
    const res = await fetch(`${base}/wechat?${toQueryString(signedQuery(TOKEN))}`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body: textXml({ content: '你好' }),
    });
    expect(res.status).toBe(200);
    const reply = parseXml(await res.text());
    expect(reply).toMatchObject({ MsgType: 'text', Content: 'You said: 你好', ToUserName: DEFAULT_FROM, FromUserName: DEFAULT_TO });
  });

  it('should refuse a request signed with another token', async () => {
    const res = await fetch(`${base}/wechat?${toQueryString(signedQuery('SomeoneElsesToken'))}`, { method: 'POST', body: textXml({ content: 'hi' }) });
    expect(res.status).toBe(401);
  });

  it("should leave the host app's own routes to the host app", async () => {
    const res = await fetch(`${base}/`);
    expect(await res.text()).toBe('Welcome to the shop');
  });
});
