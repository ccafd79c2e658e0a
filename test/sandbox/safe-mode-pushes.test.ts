/**
 * The sandbox pushes events in the account's mode: with `crypto` on its webhook, encrypted (as WeChat
 * does in safe mode), so a bot that requires safe mode still receives its card events in sandbox mode.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startApiSandbox, type ApiSandbox } from '../../src/sandbox/api-server';
import { eventXml } from '../helpers/inbound';
import { createTestWebhook, TEST_TOKEN, type TestWebhook } from '../helpers/test-webhook';

describe('card sandbox webhook pushes', () => {
  let t: TestWebhook;
  let server: http.Server;
  let sandbox: ApiSandbox;
  let url: string;
  beforeEach(async () => {
    t = createTestWebhook({ safeModeOnly: true });
    server = http.createServer(t.callback);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/wechat`;
    sandbox = await startApiSandbox({});
  });
  afterEach(async () => {
    await sandbox.close();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const push = () => sandbox.cards.redeliver({ fields: {}, xml: eventXml({ event: 'user_get_card', eventKey: '' }) });

  it('should push encrypted when the webhook has crypto, so a safe-mode-only bot handles it', async () => {
    sandbox.cards.setWebhook({ url, token: TEST_TOKEN, crypto: t.crypto });
    const ev = await push();
    expect(ev.status).toBe(200);
    expect(t.handlerCalls).toHaveLength(1);
    expect(t.handlerCalls[0]).toMatchObject({ MsgType: 'event' });
  });

  it('should push plain without crypto (refused by a safe-mode-only bot)', async () => {
    sandbox.cards.setWebhook({ url, token: TEST_TOKEN });
    expect((await push()).status).toBe(403);
    expect(t.handlerCalls).toHaveLength(0);
  });
});
