import { loadSettings } from '../../src/config/settings';
import { fixedClock } from '../../src/lib/clock';
import { silentLogger } from '../../src/lib/logger';
import { createMetrics } from '../../src/lib/metrics';
import { openRedpack } from '../../src/bot/open-redpack';
import { UNCONFIGURED_REDPACK } from '../../src/pay/unconfigured-redpack';
import { startPaySandbox, type PaySandbox } from '../../src/sandbox/pay-server';
import { tempDir } from '../rewards/helpers';

const T0 = Date.parse('2026-03-02T10:00:00+08:00');
const request = (billNo: string) => ({
  kind: 'normal' as const,
  billNo,
  openId: 'oPayFollower1',
  amountFen: 100,
  totalNum: 1,
  sendName: 'Shop',
  wishing: 'hi',
  actName: 'a',
  remark: 'r',
});

describe('openRedpack', () => {
  const tmp = tempDir('open-redpack-');
  afterAll(() => tmp.remove());
  const deps = () => ({ payBase: 'https://127.0.0.1:9', clock: fixedClock(T0), log: silentLogger(), metrics: createMetrics() });

  it('should answer every call with PAY_NOT_CONFIGURED (a settled refusal, not a retry) when no merchant is set', async () => {
    const settings = loadSettings({ BOT_DATA_DIR: tmp.dir, WECHAT_APPID: 'wx1234567890abcdef', WECHAT_APPSECRET: 's'.repeat(32), WECHAT_TOKEN: 'tok' });
    expect(settings.pay.mchId).toBeUndefined();
    const { redpack, close } = openRedpack(settings, deps());
    expect(redpack).toBe(UNCONFIGURED_REDPACK);
    await expect(redpack.send(request('x'.repeat(28)))).resolves.toEqual({
      status: 'config',
      code: 'PAY_NOT_CONFIGURED',
      message: expect.stringMatching(/set WECHAT_MCH_ID, WECHAT_PAY_KEY, WECHAT_PAY_CERT/),
    });
    await expect(redpack.query('x'.repeat(28))).resolves.toMatchObject({ status: 'error', code: 'PAY_NOT_CONFIGURED' });
    close();
  });

  describe('in sandbox mode', () => {
    let pay: PaySandbox;
    beforeAll(async () => {
      const s = loadSettings({ BOT_DATA_DIR: tmp.dir });
      pay = await startPaySandbox({ mchId: s.pay.mchId, key: s.pay.key, appIds: [s.wechat.appId], clock: fixedClock(T0) });
    });
    afterAll(() => pay.close());

    it('should pay through the stand-in with its certificate, once per bill', async () => {
      const settings = loadSettings({ BOT_DATA_DIR: tmp.dir });
      expect(settings.sandbox).toBe(true);
      const { redpack, close } = openRedpack(settings, { ...deps(), payBase: pay.url, sandboxCa: pay.ca });
      try {
        const billNo = `${settings.pay.mchId}20260302${'1'.repeat(10)}`;
        await expect(redpack.send(request(billNo))).resolves.toMatchObject({ status: 'sent' });
        expect(pay.paymentsTo('oPayFollower1').map((p) => p.timesPaid)).toEqual([1]);
      } finally {
        close();
      }
    });
  });
});
