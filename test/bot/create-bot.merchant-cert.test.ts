/**
 * The merchant certificate at bot start, in real mode (credentials set) with a .p12 and with a PEM pair:
 * another merchant's certificate or an expired one refuses the start with the fix; one in its last 30
 * days starts with a warning and the expiry metrics; a good one starts silently. Sandbox mode runs the
 * same check on the sandbox's own certificate, which passes.
 */
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createBot, type Bot } from '../../src/bot/create-bot';
import { loadSettings, SANDBOX_CREDENTIALS } from '../../src/config/settings';
import { fixedClock } from '../../src/lib/clock';
import { PayConfigError } from '../../src/pay/errors';
import { MERCHANT_CERT_METRICS } from '../../src/pay/watch-merchant-cert';
import { SANDBOX_PAY_CERTS } from '../../src/sandbox/pay-server';
import { captureLog } from '../helpers/capture-log';
import { AT, FIXTURE_MCH_ID, FIXTURE_VALID_TO, MERCHANT_CERT_FIXTURES } from '../pay/merchant-cert-fixtures';

const ROOT = path.join(__dirname, '..', '..');

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wechat-bot-cert-'));
  fs.cpSync(path.join(ROOT, 'config'), path.join(dir, 'config'), { recursive: true });
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

let runs = 0;
/** Real-mode settings (nothing is called at start) with the given certificate files. */
function realEnv(cert: Record<string, string>, mchId = FIXTURE_MCH_ID): NodeJS.ProcessEnv {
  runs += 1;
  return {
    BOT_CONFIG_DIR: path.join(dir, 'config'),
    BOT_DATA_DIR: path.join(dir, `data-${runs}`),
    BOT_VIEWS_DIR: path.join(ROOT, 'views'),
    WECHAT_TOKEN: 'certtesttoken',
    WECHAT_APPID: SANDBOX_CREDENTIALS.appId,
    WECHAT_APPSECRET: SANDBOX_CREDENTIALS.appSecret,
    WECHAT_API_BASE: 'https://127.0.0.1:9',
    WECHAT_PAY_API_BASE: 'https://127.0.0.1:9',
    WECHAT_MCH_ID: mchId,
    WECHAT_PAY_KEY: SANDBOX_CREDENTIALS.payKey,
    // Explicit, so a wrong WECHAT_MCH_ID still opens the .p12 and the subject check is what refuses it.
    WECHAT_PAY_CERT_PASSPHRASE: FIXTURE_MCH_ID,
    ...cert,
  };
}

async function start(env: NodeJS.ProcessEnv, now: number): Promise<{ bot?: Bot; error?: unknown; lines: Record<string, unknown>[] }> {
  const { log, lines } = captureLog();
  const settings = loadSettings(env, dir);
  try {
    const bot = await createBot({ settings, clock: fixedClock(now), log, workers: false, watchConfig: false });
    return { bot, lines };
  } catch (error) {
    return { error, lines };
  }
}

const certLines = (lines: Record<string, unknown>[]) => lines.filter((l) => /merchant certificate/.test(String(l.msg)));

describe.each([
  ['.p12', { WECHAT_PAY_CERT: MERCHANT_CERT_FIXTURES.p12 }],
  ['PEM pair', { WECHAT_PAY_CERT: MERCHANT_CERT_FIXTURES.certPem, WECHAT_PAY_KEY_PEM: MERCHANT_CERT_FIXTURES.keyPem }],
])('createBot with the merchant certificate as a %s', (_format, cert) => {
  it('should refuse to start with the certificate of another merchant, saying which file and what to do', async () => {
    const { bot, error } = await start(realEnv(cert, '1900000999'), AT.fresh);
    await bot?.close();
    expect(error).toBeInstanceOf(PayConfigError);
    expect((error as Error).message).toContain(cert.WECHAT_PAY_CERT);
    expect((error as Error).message).toMatch(/belongs to merchant 1900000109 \(subject CN\), not to WECHAT_MCH_ID=1900000999.*Set WECHAT_PAY_CERT/);
  });

  it('should refuse to start with an expired certificate, saying where to get a new one', async () => {
    const { bot, error } = await start(realEnv(cert), AT.expired);
    await bot?.close();
    expect(error).toBeInstanceOf(PayConfigError);
    expect((error as Error).message).toContain(cert.WECHAT_PAY_CERT);
    expect((error as Error).message).toMatch(/expired on .*apply for a new API certificate in the WeChat Pay merchant platform/);
  });

  it('should start with a certificate in its last 30 days, warn once, and export the expiry on /metrics', async () => {
    const { bot, error, lines } = await start(realEnv(cert), AT.tenDaysLeft);
    expect(error).toBeUndefined();
    try {
      const warned = certLines(lines);
      expect(warned).toHaveLength(1);
      expect(warned[0]).toMatchObject({ level: 40, module: 'pay', daysLeft: 10, certFile: cert.WECHAT_PAY_CERT });
      expect(String(warned[0].msg)).toMatch(/expires in 10 days/);
      const metrics = (await request(bot!.app.callback()).get('/metrics')).text;
      expect(metrics).toContain(`${MERCHANT_CERT_METRICS.notAfter} ${Math.floor(FIXTURE_VALID_TO / 1000)}`);
      expect(metrics).toContain(`${MERCHANT_CERT_METRICS.secondsLeft} ${Math.floor((FIXTURE_VALID_TO - AT.tenDaysLeft) / 1000)}`);
    } finally {
      await bot?.close();
    }
  });

  it('should start silently with a good certificate', async () => {
    const { bot, error, lines } = await start(realEnv(cert), AT.fresh);
    expect(error).toBeUndefined();
    try {
      expect(certLines(lines)).toEqual([]);
      expect(lines.filter((l) => Number(l.level) >= 40 && l.module === 'pay')).toEqual([]);
      const metrics = (await request(bot!.app.callback()).get('/metrics')).text;
      expect(metrics).toContain(`${MERCHANT_CERT_METRICS.notAfter} ${Math.floor(FIXTURE_VALID_TO / 1000)}`);
    } finally {
      await bot?.close();
    }
  });
});

describe('createBot in sandbox mode', () => {
  it('should check the sandbox merchant certificate the same way, and it passes silently', async () => {
    const sandboxCert = new X509Certificate(fs.readFileSync(SANDBOX_PAY_CERTS.clientCert));
    const now = Date.parse(sandboxCert.validFrom) + 24 * 3600 * 1000;
    runs += 1;
    const env = { BOT_CONFIG_DIR: path.join(dir, 'config'), BOT_DATA_DIR: path.join(dir, `data-${runs}`), BOT_VIEWS_DIR: path.join(ROOT, 'views') };
    const { bot, error, lines } = await start(env, now);
    expect(error).toBeUndefined();
    try {
      expect(bot!.sandbox).toBeDefined();
      expect(certLines(lines)).toEqual([]);
      const metrics = (await request(bot!.app.callback()).get('/metrics')).text;
      expect(metrics).toContain(`${MERCHANT_CERT_METRICS.notAfter} ${Math.floor(Date.parse(sandboxCert.validTo) / 1000)}`);
    } finally {
      await bot?.close();
    }
  });
});
