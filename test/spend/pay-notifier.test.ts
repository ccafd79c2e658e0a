import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildV2Notification, sendPayNotification, WECHAT_PAY_RESEND_SCHEDULE_MS } from '../../src/sandbox/pay-notifier';
import { parseV2Notification, v2Answer } from '../../src/spend/parse-v2-notification';
import { APPID, KEY, MCH_ID, payment } from './helpers';

/** A loopback server answering from a script of answers (the last one repeats). */
async function server(answers: Array<{ status: number; body: string } | 'hang'>) {
  const bodies: string[] = [];
  const s = http.createServer((req, res) => {
    let b = '';
    req.on('data', (c) => (b += c));
    req.on('end', () => {
      bodies.push(b);
      const a = answers[Math.min(bodies.length - 1, answers.length - 1)];
      if (a === 'hang') return;
      res.writeHead(a.status, { 'content-type': 'text/plain' }).end(a.body);
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(s.address() as AddressInfo).port}/wechat/pay/notify`;
  return {
    url,
    bodies,
    close: () =>
      new Promise<void>((r) => {
        s.closeAllConnections();
        s.close(() => r());
      }),
  };
}

const FAIL = { status: 200, body: v2Answer('FAIL', 'busy') };
const OK = { status: 200, body: v2Answer('SUCCESS', 'OK') };

describe('WECHAT_PAY_RESEND_SCHEDULE_MS', () => {
  it("should be WeChat's 15s/15s/30s/3m/10m/20m/30m/30m/30m/60m/3h/3h/3h/6h/6h (24h4m)", () => {
    expect(WECHAT_PAY_RESEND_SCHEDULE_MS).toHaveLength(15);
    expect(WECHAT_PAY_RESEND_SCHEDULE_MS.reduce((a, b) => a + b, 0)).toBe((24 * 60 + 4) * 60_000);
  });
});

describe('sendPayNotification', () => {
  it('should re-send on the schedule until the bot answers SUCCESS', async () => {
    const s = await server([FAIL, { status: 500, body: 'oops' }, FAIL, OK]);
    const slept: number[] = [];
    try {
      const xml = buildV2Notification(payment(), KEY);
      const r = await sendPayNotification({ url: s.url, protocol: 'v2', build: () => ({ body: xml }), sleep: async (ms) => void slept.push(ms) });
      expect(r.delivered).toBe(true);
      expect(r.attempts.map((a) => a.ok)).toEqual([false, false, false, true]);
      expect(r.attempts[0].message).toBe('busy');
      expect(slept).toEqual([15_000, 15_000, 30_000]);
      expect(new Set(s.bodies)).toEqual(new Set([xml]));
      expect(parseV2Notification(s.bodies[0], { key: KEY, appIds: [APPID], mchId: MCH_ID }).kind).toBe('order');
    } finally {
      await s.close();
    }
  });

  it('should give up after the whole schedule (16 attempts) when the bot never answers success', async () => {
    const s = await server([FAIL]);
    const slept: number[] = [];
    try {
      const r = await sendPayNotification({ url: s.url, protocol: 'v2', build: () => ({ body: '<xml/>' }), sleep: async (ms) => void slept.push(ms) });
      expect(r.delivered).toBe(false);
      expect(r.attempts).toHaveLength(16);
      expect(slept).toEqual([...WECHAT_PAY_RESEND_SCHEDULE_MS]);
    } finally {
      await s.close();
    }
  });

  it('should count an unanswered attempt (timeout) as not success and a v3 200/204 as success', async () => {
    const s = await server(['hang', { status: 204, body: '' }]);
    try {
      const r = await sendPayNotification({
        url: s.url,
        protocol: 'v3',
        build: (n) => ({ body: `{"n":${n}}` }),
        schedule: [1],
        sleep: async () => undefined,
        timeoutMs: 200,
      });
      expect(r.attempts.map((a) => [a.status, a.ok])).toEqual([
        [0, false],
        [204, true],
      ]);
      expect(s.bodies).toEqual(['{"n":1}', '{"n":2}']);
    } finally {
      await s.close();
    }
  });
});
