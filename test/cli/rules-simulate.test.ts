import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import path from 'node:path';
import { simulate, followerInput, followerXml, describeReply } from '../../src/cli/commands/simulate';
import { loadConfig } from '../../src/config/load-config';
import { createMessageHandler } from '../../src/rules/handle-message';
import { silentLogger } from '../../src/lib/logger';
import { parseInboundXml } from '../../src/wechat/parse-inbound';
import { createTestWebhook, TEST_AES_KEY, TEST_APPID, TEST_TOKEN, type TestWebhook } from '../helpers/test-webhook';

const BASIC = path.join(__dirname, '..', 'fixtures', 'config', 'basic');

describe('simulate', () => {
  let t: TestWebhook;
  let server: Server;
  let url: string;
  beforeAll(async () => {
    const r = loadConfig(BASIC, { viewsDir: BASIC });
    if (!r.ok) throw new Error('basic fixture must load');
    const config = r.config;
    t = createTestWebhook({
      handler: createMessageHandler({
        config: { current: () => config },
        clock: { now: () => Date.now() },
        log: silentLogger(),
        rewards: { grant: async () => ({ outcome: 'granted', amountFen: 100 }) },
      }),
    });
    server = t.app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/wechat`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('should send a signed text and print the reply (plain mode)', async () => {
    const r = await simulate({ kind: 'text', text: 'hello' }, { url, token: TEST_TOKEN, openid: 'oSim' });
    expect(r.lines).toEqual(['reply: text', '  Hello oSim!']);
    expect(t.handlerCalls[t.handlerCalls.length - 1]).toMatchObject({ MsgType: 'text', Content: 'hello', FromUserName: 'oSim' });
  });

  it('should encrypt the request and decrypt the reply in safe mode', async () => {
    const r = await simulate({ kind: 'click', key: 'HELP' }, { url, token: TEST_TOKEN, openid: 'oSim', safe: { encodingAESKey: TEST_AES_KEY, appId: TEST_APPID } });
    expect(r.lines).toEqual(['(safe mode: reply decrypted, signature checked)', 'reply: news (1 article)', '  1. Help', '     link: https://example.com/help']);
  });

  it('should play a follow from a QR scene', async () => {
    const r = await simulate({ kind: 'follow', scene: 'store-1' }, { url, token: TEST_TOKEN, openid: 'oSim' });
    expect(r.lines).toEqual(['reply: text', '  Welcome from store 1! ¥1.00 is on its way.']);
    expect(t.handlerCalls[t.handlerCalls.length - 1]).toMatchObject({ Event: 'subscribe', Scene: 'store-1' });
  });

  it('should print "none" when the bot answers success', async () => {
    const r = await simulate({ kind: 'scan', scene: 'nowhere' }, { url, token: TEST_TOKEN, openid: 'oSim' });
    expect(r.lines).toEqual(['reply: none (the bot answered "success")']);
  });

  it('should fail clearly when the token is wrong', async () => {
    await expect(simulate({ kind: 'text', text: 'hello' }, { url, token: 'WrongToken123', openid: 'oSim' })).rejects.toThrow(/^the bot answered HTTP 401/);
  });

  it('should name the URL it tried and how to start a bot when none answers there', async () => {
    const closed = t.app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => closed.once('listening', () => resolve()));
    const dead = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/wechat`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(simulate({ kind: 'text', text: 'hello' }, { url: dead, token: TEST_TOKEN, openid: 'oSim' })).rejects.toThrow(
      `no bot answers at ${dead} (connection refused): start it with \`npm start\` in the project folder`,
    );
  });
});

describe('followerInput', () => {
  it.each([
    [['hi', {}], { kind: 'text', text: 'hi' }],
    [[undefined, { click: 'K' }], { kind: 'click', key: 'K' }],
    [[undefined, { follow: true }], { kind: 'follow' }],
    [[undefined, { follow: 's1' }], { kind: 'follow', scene: 's1' }],
    [[undefined, { scan: 's2' }], { kind: 'scan', scene: 's2' }],
    [[undefined, { location: '31.23, 121.47' }], { kind: 'location', lat: '31.23', lng: '121.47' }],
    [[undefined, { event: 'user_get_card', key: 'x' }], { kind: 'event', event: 'user_get_card', key: 'x' }],
  ] as const)('should read %j', (args, expected) => {
    expect(followerInput(args[0], args[1] as never)).toEqual(expected);
  });

  it('should refuse a bad location', () => {
    expect(() => followerInput(undefined, { location: 'here' })).toThrow('--location "here" must be LAT,LNG (e.g. 31.2304,121.4737)');
  });
});

describe('followerXml', () => {
  it.each([
    [
      { kind: 'text', text: 'a]]>b' },
      { MsgType: 'text', Content: 'a]]>b' },
    ],
    [
      { kind: 'follow', scene: '42' },
      { MsgType: 'event', Event: 'subscribe', EventKey: 'qrscene_42', Scene: '42' },
    ],
    [
      { kind: 'scan', scene: '42' },
      { MsgType: 'event', Event: 'SCAN', EventKey: '42' },
    ],
    [
      { kind: 'location', lat: '1.5', lng: '2.5' },
      { MsgType: 'location', Location_X: '1.5', Location_Y: '2.5' },
    ],
  ] as const)('should build XML the real parser reads back (%j)', (input, expected) => {
    expect(parseInboundXml(followerXml(input as never, { openid: 'o1', nowMs: 1714000000000 }))).toMatchObject({
      FromUserName: 'o1',
      CreateTime: 1714000000,
      ...expected,
    });
  });
});

describe('describeReply', () => {
  it('should describe transfer and media replies', () => {
    expect(describeReply({ MsgType: 'transfer_customer_service', TransInfo: { KfAccount: 'kf1@gh' } })).toEqual(['reply: transfer to customer service (agent kf1@gh)']);
    expect(describeReply({ MsgType: 'image', Image: { MediaId: 'M' } })).toEqual(['reply: image', '  media id: M']);
    expect(describeReply('')).toEqual(['reply: none (the bot answered an empty body)']);
  });
});
