/**
 * The sandbox control endpoint: loopback only, a bearer token compared in constant time (a wrong or
 * missing one is 401 and changes nothing), payments listed, packets received and refunded, faults set.
 */
import { SANDBOX_CREDENTIALS } from '../../src/config/settings';
import { checkPayFaults, startSandboxControl, type SandboxControl } from '../../src/sandbox/control-server';
import { startPaySandbox, type PaySandbox } from '../../src/sandbox/pay-server';
import { sendRedpack } from '../helpers/send-redpack';

const MCH = SANDBOX_CREDENTIALS.mchId;

const BILL = `${MCH}202612030000000001`;

describe('startSandboxControl', () => {
  let pay: PaySandbox;
  let control: SandboxControl;
  const call = (method: string, path: string, body?: unknown, token: string | null = control.token) =>
    fetch(`${control.url}${path}`, {
      method,
      headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });

  beforeEach(async () => {
    pay = await startPaySandbox({ balanceFen: 10_000 });
    control = await startSandboxControl({ pay });
  });
  afterEach(async () => {
    await control.close();
    await pay.close();
  });

  it('should listen on 127.0.0.1 with a long random token', async () => {
    expect(control.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(control.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const other = await startSandboxControl({ pay });
    expect(other.token).not.toBe(control.token);
    await other.close();
    await expect(startSandboxControl({ pay, token: 'short' })).rejects.toThrow(/at least 16/);
  });

  it('should answer 401 to a missing, wrong or differently long token, and change nothing', async () => {
    await sendRedpack(pay, BILL);
    for (const token of [null, 'x'.repeat(43), control.token.slice(0, -1), `${control.token}x`]) {
      const res = await call('POST', `/payments/${BILL}/receive`, undefined, token);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await res.json()).toEqual({ error: expect.stringContaining('sandbox.json') });
      expect((await call('POST', '/faults', { systemErrorRate: 1 }, token)).status).toBe(401);
      expect((await call('POST', '/refund-unclaimed', {}, token)).status).toBe(401);
      expect((await call('GET', '/payments', undefined, token)).status).toBe(401);
    }
    expect(pay.payments.get(BILL)!.status).toBe('SENT');
    expect(pay.faults.get()).toEqual({});
  });

  it('should list payments with their real counts', async () => {
    await sendRedpack(pay, BILL);
    await sendRedpack(pay, BILL); // idempotent re-send
    const res = await call('GET', '/payments');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      payments: [
        { billNo: BILL, openId: 'oControlFollower1', amountFen: 100, timesPaid: 1, status: 'SENT', endpoint: 'sendredpack', totalNum: 1, sentAt: expect.any(String) },
      ],
    });
  });

  it('should mark a packet received, and answer 404 to an unknown bill and 409 to a settled one', async () => {
    await sendRedpack(pay, BILL);
    const ok = await call('POST', `/payments/${BILL}/receive`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ payment: { billNo: BILL, status: 'RECEIVED' } });
    expect(pay.payments.get(BILL)!.status).toBe('RECEIVED');
    const again = await call('POST', `/payments/${BILL}/receive`);
    expect(again.status).toBe(409);
    expect(await again.json()).toEqual({ error: expect.stringContaining('RECEIVED, not SENT') });
    const unknown = await call('POST', '/payments/nope/receive');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: 'no red packet with bill number nope in this sandbox' });
  });

  it('should refund unclaimed packets and give the balance back', async () => {
    await sendRedpack(pay, BILL);
    await sendRedpack(pay, `${MCH}202612030000000002`, 'oControlFollower2');
    pay.receive(`${MCH}202612030000000002`);
    const res = await call('POST', '/refund-unclaimed', {});
    expect(await res.json()).toEqual({ refunded: [BILL] });
    expect(pay.payments.get(BILL)!.status).toBe('REFUND');
    expect(pay.balanceFen).toBe(10_000 - 100);
    expect(await (await call('POST', '/refund-unclaimed')).json()).toEqual({ refunded: [] });
    expect((await call('POST', '/refund-unclaimed', { olderThanMs: -1 })).status).toBe(400);
  });

  it('should merge faults into the running sandbox, refuse bad ones unchanged, and clear them', async () => {
    let res = await call('POST', '/faults', { systemErrorRate: 1, paidShare: 0 });
    expect(await res.json()).toEqual({ faults: { systemErrorRate: 1, paidShare: 0 } });
    expect((await sendRedpack(pay, BILL)).err_code).toBe('SYSTEMERROR');
    res = await call('POST', '/faults', { latencyMs: 5 });
    expect(await res.json()).toEqual({ faults: { systemErrorRate: 1, paidShare: 0, latencyMs: 5 } });
    for (const bad of [{ systemErrorRate: 2 }, { nonsense: 1 }, { errCode: 'x<y' }, [1], '{not json']) {
      res = await call('POST', '/faults', bad);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(/faults:|not JSON/);
    }
    expect(pay.faults.get()).toEqual({ systemErrorRate: 1, paidShare: 0, latencyMs: 5 });
    expect(await (await call('DELETE', '/faults')).json()).toEqual({ faults: {} });
    expect((await sendRedpack(pay, BILL)).result_code).toBe('SUCCESS');
    expect(await (await call('GET', '/faults')).json()).toEqual({ faults: {} });
  });

  it('should refuse a body over 16 KiB with 400 and change nothing', async () => {
    const huge = JSON.stringify({ systemErrorRate: 1, pad: 'x'.repeat(16 * 1024) });
    const res = await call('POST', '/faults', huge);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/larger than 16384 bytes/);
    expect(pay.faults.get()).toEqual({});
  });

  it('should answer 404 to other routes', async () => {
    expect((await call('GET', '/secret')).status).toBe(404);
  });
});

describe('checkPayFaults', () => {
  it('should keep what is valid and name what is not', () => {
    expect(checkPayFaults({ timeoutRate: 0.1, errCode: 'NOTENOUGH', errCodeTimes: 2, endpoints: ['gethbinfo'], processingFailShare: 1 })).toEqual({
      timeoutRate: 0.1,
      errCode: 'NOTENOUGH',
      errCodeTimes: 2,
      endpoints: ['gethbinfo'],
      processingFailShare: 1,
    });
    expect(() => checkPayFaults({ resetRate: '0.5' })).toThrow(/resetRate "0.5" is not a rate/);
    expect(() => checkPayFaults({ latencyMs: 60_001 })).toThrow(/latencyMs 60001/);
    expect(() => checkPayFaults({ errCodeTimes: 0 })).toThrow(/errCodeTimes/);
    expect(() => checkPayFaults({ endpoints: ['refund'] })).toThrow(/endpoints must be a list of sendredpack, sendgroupredpack, gethbinfo/);
    expect(() => checkPayFaults(null)).toThrow(/JSON object/);
  });
});
