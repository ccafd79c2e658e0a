import fs from 'node:fs';
import { fixedClock } from '../../src/lib/clock';
import { createMetrics } from '../../src/lib/metrics';
import { PayConfigError } from '../../src/pay/errors';
import { MERCHANT_CERT_METRICS, watchMerchantCert, type WatchMerchantCertOptions } from '../../src/pay/watch-merchant-cert';
import { captureLog } from '../helpers/capture-log';
import { AT, DAY_MS, FIXTURE_MCH_ID, FIXTURE_VALID_TO, MERCHANT_CERT_FIXTURES } from './merchant-cert-fixtures';

const FILE = MERCHANT_CERT_FIXTURES.p12;
const cert = { pfx: fs.readFileSync(FILE), passphrase: FIXTURE_MCH_ID };

/** A watch with a captured log, a fresh registry and a manual clock at `now`. */
function rig(now: number, overrides: Partial<WatchMerchantCertOptions> = {}) {
  const { log, lines, nextLine } = captureLog();
  const metrics = createMetrics();
  const clock = fixedClock(now);
  const options: WatchMerchantCertOptions = { cert, file: FILE, mchId: FIXTURE_MCH_ID, clock, log, metrics, intervalMs: 0, ...overrides };
  return { lines, metrics, clock, options, nextLine };
}

function gauge(text: string, name: string): number {
  const m = new RegExp(`^${name} (-?\\d+)$`, 'm').exec(text);
  if (!m) throw new Error(`${name} not in\n${text}`);
  return Number(m[1]);
}

describe('watchMerchantCert', () => {
  it('should start silently with a certificate far from its end, and export its end of validity', () => {
    const r = rig(AT.fresh);
    const watch = watchMerchantCert(r.options);
    expect(r.lines).toEqual([]);
    const text = r.metrics.render();
    expect(gauge(text, MERCHANT_CERT_METRICS.notAfter)).toBe(Math.floor(FIXTURE_VALID_TO / 1000));
    expect(gauge(text, MERCHANT_CERT_METRICS.secondsLeft)).toBe(Math.floor((FIXTURE_VALID_TO - AT.fresh) / 1000));
    expect(text).toMatch(/# TYPE wechat_pay_cert_expiry_seconds gauge/);
    watch.stop();
  });

  it('should warn at start when 30 days or fewer are left, with the days, the file and how to renew', () => {
    const r = rig(AT.tenDaysLeft);
    watchMerchantCert(r.options).stop();
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatchObject({ level: 40, module: 'pay', certFile: FILE, certSubjectCn: FIXTURE_MCH_ID, daysLeft: 10 });
    expect(String(r.lines[0].msg)).toMatch(/merchant certificate .*apiclient_cert\.p12 expires in 10 days .*CA_ERROR.*apply for a new API certificate/);
    expect(gauge(r.metrics.render(), MERCHANT_CERT_METRICS.secondsLeft)).toBe(Math.floor((FIXTURE_VALID_TO - AT.tenDaysLeft) / 1000));
  });

  it('should refuse to start with an expired certificate or another merchant’s', () => {
    expect(() => watchMerchantCert(rig(AT.expired).options)).toThrow(PayConfigError);
    expect(() => watchMerchantCert(rig(AT.expired).options)).toThrow(/expired on/);
    expect(() => watchMerchantCert({ ...rig(AT.fresh).options, mchId: '1900000999' })).toThrow(/belongs to merchant 1900000109/);
  });

  it('should start warning when a long-running bot reaches the last 30 days, and log an error once it has expired', () => {
    const r = rig(FIXTURE_VALID_TO - 31 * DAY_MS);
    const watch = watchMerchantCert(r.options);
    expect(r.lines).toEqual([]);
    r.clock.advance(2 * DAY_MS);
    expect(watch.check()).toMatchObject({ ok: true, state: 'expiring', daysLeft: 29 });
    expect(r.lines.map((l) => l.level)).toEqual([40]);
    r.clock.set(AT.expired);
    expect(watch.check()).toMatchObject({ ok: false, state: 'expired' });
    expect(r.lines.map((l) => l.level)).toEqual([40, 50]);
    expect(String(r.lines[1].msg)).toMatch(/expired on .*merchant platform/);
    expect(gauge(r.metrics.render(), MERCHANT_CERT_METRICS.secondsLeft)).toBeLessThan(0);
    watch.stop();
  });

  it('should re-check on its own timer', async () => {
    const r = rig(AT.tenDaysLeft, { intervalMs: 5 });
    const first = r.nextLine();
    const watch = watchMerchantCert(r.options);
    await first; // the check at start
    r.clock.advance(DAY_MS);
    const second = r.nextLine();
    await second; // the timer's check, a day later by the clock
    watch.stop();
    expect(r.lines[0]).toMatchObject({ daysLeft: 10 });
    expect(r.lines.at(-1)).toMatchObject({ daysLeft: 9 });
  });

  it('should refuse a negative interval', () => {
    expect(() => watchMerchantCert({ ...rig(AT.fresh).options, intervalMs: -1 })).toThrow(/intervalMs/);
  });
});
