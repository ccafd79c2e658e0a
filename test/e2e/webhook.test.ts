/**
 * The webhook end to end over real loopback HTTP (a server on 127.0.0.1:0), the way WeChat's servers
 * talk to it: the console's handshake, then a follower who follows through a QR code, asks for help,
 * clicks a menu button, and whose message WeChat retries; plain mode, then safe mode.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { Reply } from '../../src/reply/reply';
import type { InboundMessage } from '../../src/wechat/inbound';
import { computeSignature } from '../../src/wechat/signature';
import { parseXml } from '../../src/wechat/xml';
import { clickXml, DEFAULT_FROM, DEFAULT_TO, subscribeXml, textXml } from '../helpers/inbound';
import { signedQuery, toQueryString } from '../helpers/signed-query';
import { createTestWebhook, encryptedBody, TEST_TOKEN, type TestWebhook } from '../helpers/test-webhook';

/** A tiny bot: welcome on follow (naming the QR scene), help text, a news card on a menu click, echo otherwise. */
function tinyBot(message: InboundMessage): Reply {
  switch (message.MsgType) {
    case 'text':
      return message.Content.trim() === 'help' ? { type: 'text', content: 'Send anything and I echo it.' } : { type: 'text', content: message.Content };
    case 'event':
      if (message.Event === 'subscribe') return { type: 'text', content: `Welcome! (scene ${message.Scene ?? 'none'})` };
      if (message.Event === 'CLICK' && message.EventKey === 'MENU_NEWS')
        return { type: 'news', articles: [{ title: 'Today', description: 'What is new', picUrl: 'https://example.com/p.png', url: 'https://example.com/a' }] };
      return { type: 'none' };
    default:
      return { type: 'none' };
  }
}

describe('webhook (end to end over loopback)', () => {
  let t: TestWebhook;
  let server: http.Server;

  beforeAll(async () => {
    t = createTestWebhook({ handler: tinyBot });
    server = http.createServer(t.callback);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    expect((server.address() as AddressInfo).port).toBeGreaterThan(0);
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const post = (body: string, query = t.query()) => request(server).post(`/wechat?${query}`).set('Content-Type', 'text/xml').send(body);

  it('should pass the admin console’s URL check', async () => {
    const res = await request(server).get(`/wechat?${t.query()}&echostr=7126312896405718253`);
    expect(res.status).toBe(200);
    expect(res.text).toBe('7126312896405718253');
  });

  it('should welcome a follower who followed through a QR code', async () => {
    const res = await post(subscribeXml('spring_2024'));
    expect(res.status).toBe(200);
    expect(parseXml(res.text)).toMatchObject({ ToUserName: DEFAULT_FROM, FromUserName: DEFAULT_TO, MsgType: 'text', Content: 'Welcome! (scene spring_2024)' });
  });

  it('should answer help and echo text', async () => {
    expect(parseXml((await post(textXml({ content: 'help' }))).text).Content).toBe('Send anything and I echo it.');
    expect(parseXml((await post(textXml({ content: '你好' }))).text).Content).toBe('你好');
  });

  it('should answer a menu click with a news card', async () => {
    const res = await post(clickXml('MENU_NEWS'));
    const reply = parseXml(res.text) as Record<string, unknown>;
    expect(reply).toMatchObject({ MsgType: 'news', ArticleCount: '1' });
    expect(JSON.stringify(reply.Articles)).toContain('https://example.com/a');
  });

  it('should answer a retried message with the first reply and run the bot once', async () => {
    const before = t.handlerCalls.length;
    const xml = textXml({ content: 'are you there?' });
    const first = await post(xml);
    t.clock.advance(5000); // WeChat's retry comes 5 s later
    const retry = await post(xml, t.query());
    expect(retry.text).toBe(first.text);
    expect(t.handlerCalls.length - before).toBe(1);
  });

  it('should talk safe mode: encrypted in, encrypted envelope out', async () => {
    const { body, encrypt } = encryptedBody(t.crypto!, textXml({ content: 'help' }));
    const res = await post(body, toQueryString(signedQuery(TEST_TOKEN, { timestamp: Math.floor(t.clock.now() / 1000), encrypt, openid: DEFAULT_FROM })));
    expect(res.status).toBe(200);
    const env = parseXml(res.text) as Record<string, string>;
    expect(env.MsgSignature).toBe(computeSignature(TEST_TOKEN, env.TimeStamp, env.Nonce, env.Encrypt));
    expect(parseXml(t.crypto!.decrypt(env.Encrypt).xml).Content).toBe('Send anything and I echo it.');
  });

  it('should refuse a forged request and a replayed one', async () => {
    const forged = await post(textXml({ content: 'forged' }), toQueryString(signedQuery('NotTheToken')));
    expect(forged.status).toBe(401);
    const captured = t.query();
    t.clock.advance(10 * 60 * 1000);
    const replayed = await post(textXml({ content: 'replayed' }), captured);
    expect(replayed.status).toBe(401);
  });

  it('should report health and the traffic so far', async () => {
    expect((await request(server).get('/healthz')).body).toEqual({ ok: true });
    const metrics = (await request(server).get('/metrics')).text;
    expect(metrics).toContain('wechat_requests_total{outcome="handshake"} 1');
    expect(metrics).toContain('wechat_requests_total{outcome="reply"} 6');
    expect(metrics).toContain('wechat_requests_total{outcome="duplicate"} 1');
    expect(metrics).toContain('wechat_requests_total{outcome="bad_signature"} 1');
    expect(metrics).toContain('wechat_requests_total{outcome="stale_timestamp"} 1');
    expect(metrics).toMatch(/^wechat_dedupe_hits_total 1$/m);
    expect(t.errors).toEqual([]);
  });
});
