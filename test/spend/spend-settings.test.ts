import path from 'node:path';
import request from 'supertest';
import Koa from 'koa';
import { loadSettings, SANDBOX_CREDENTIALS, SettingsError } from '../../src/config/settings';
import { silentLogger } from '../../src/lib/logger';
import { SANDBOX_PAY_PLATFORM } from '../../src/sandbox/pay-notifier';
import { createSpendEndpoint } from '../../src/spend/create-spend-endpoint';
import { createMemoryOrderStore } from '../../src/store/memory-orders';
import { spendConfig, v3 } from './helpers';

const REAL = {
  WECHAT_APPID: 'wx1234567890abcdef',
  WECHAT_APPSECRET: 's',
  WECHAT_TOKEN: 'token123',
  WECHAT_MCH_ID: '1900000109',
  WECHAT_PAY_KEY: 'k'.repeat(32),
  WECHAT_PAY_CERT: 'cert.p12',
};

describe('loadSettings (spend settings)', () => {
  it('should default the notify path and, in sandbox mode, the APIv3 key', () => {
    const s = loadSettings({}, '/srv/bot');
    expect(s.payNotifyPath).toBe('/wechat/pay/notify');
    expect(s.pay.apiV3Key).toBe(SANDBOX_CREDENTIALS.apiV3Key);
    expect(s.pay.platformCertPaths).toEqual([]);
  });

  it('should read WECHAT_PAY_APIV3_KEY, WECHAT_PAY_PLATFORM_CERT (comma-separated, resolved), WECHAT_PAY_PUBLIC_KEY_ID and BOT_PAY_NOTIFY_PATH, and treat the APIv3 key as a secret', () => {
    const s = loadSettings(
      {
        ...REAL,
        WECHAT_PAY_APIV3_KEY: 'v'.repeat(32),
        WECHAT_PAY_PLATFORM_CERT: 'a.pem, /etc/b.pem',
        WECHAT_PAY_PUBLIC_KEY_ID: 'PUB_KEY_ID_1',
        BOT_PAY_NOTIFY_PATH: '/pay/cb',
      },
      '/srv/bot',
    );
    expect(s.pay).toMatchObject({ apiV3Key: 'v'.repeat(32), platformCertPaths: [path.resolve('/srv/bot', 'a.pem'), '/etc/b.pem'], publicKeyId: 'PUB_KEY_ID_1' });
    expect(s.payNotifyPath).toBe('/pay/cb');
    expect(s.secrets).toContain('v'.repeat(32));
    expect(loadSettings(REAL).pay.apiV3Key).toBeUndefined();
  });

  it.each([
    [{ WECHAT_PAY_APIV3_KEY: 'short' }, 'WECHAT_PAY_APIV3_KEY'],
    [{ BOT_PAY_NOTIFY_PATH: 'no-slash' }, 'BOT_PAY_NOTIFY_PATH'],
  ])('should refuse %j', (env, variable) => {
    expect(() => loadSettings(env)).toThrow(SettingsError);
    expect(() => loadSettings(env)).toThrow(new RegExp(`^${variable}: `));
  });
});

describe('createSpendEndpoint', () => {
  const deps = (settings: ReturnType<typeof loadSettings>) => ({
    settings,
    orders: createMemoryOrderStore(),
    rewards: { record: async () => ({ outcome: 'granted' as const, status: 'PENDING' as const }) },
    spend: () => spendConfig(),
    clock: { now: () => Date.parse('2026-03-02T10:00:00+08:00') },
    log: silentLogger(),
  });

  it('should serve v3 in sandbox mode with the sandbox platform certificate', async () => {
    const router = createSpendEndpoint(deps(loadSettings({})))!;
    const app = new Koa().use(router.routes());
    const n = v3();
    const res = await request(app.callback()).post('/wechat/pay/notify').set(n.headers).send(n.body);
    expect(res.status).toBe(200);
  });

  it('should refuse v3 with 500 "not configured" when no platform certificate is configured', async () => {
    const s = loadSettings({ ...REAL, WECHAT_APPID: 'wx0000sandbox0000' });
    const app = new Koa().use(createSpendEndpoint(deps({ ...s, pay: { ...s.pay, apiV3Key: SANDBOX_CREDENTIALS.apiV3Key } }))!.routes());
    const n = v3();
    const res = await request(app.callback()).post('/wechat/pay/notify').set(n.headers).send(n.body);
    expect(res.status).toBe(500);
    expect(res.body.message).toMatch(/not configured/);
    const configured = createSpendEndpoint(deps({ ...s, pay: { ...s.pay, apiV3Key: SANDBOX_CREDENTIALS.apiV3Key, platformCertPaths: [SANDBOX_PAY_PLATFORM.cert] } }))!;
    expect((await request(new Koa().use(configured.routes()).callback()).post('/wechat/pay/notify').set(n.headers).send(n.body)).status).toBe(200);
  });

  it('should serve nothing without a merchant', () => {
    const s = loadSettings(REAL);
    expect(createSpendEndpoint(deps({ ...s, pay: { ...s.pay, mchId: undefined } }))).toBeUndefined();
  });
});
