import fs from 'node:fs';
import https from 'node:https';
import { Writable } from 'node:stream';
import { SANDBOX_CREDENTIALS } from '../../src/config/settings';
import { createLogger } from '../../src/lib/logger';
import { createPayClient, loadMerchantCert, toPayError, type PayClientOptions } from '../../src/pay/client';
import { PayConfigError, PayError, PayHttpError } from '../../src/pay/errors';
import { signPayV2, verifyPayV2 } from '../../src/pay/sign';
import { SANDBOX_PAY_CERTS } from '../../src/sandbox/pay-server';
import { newBillNo, rejection, startPayHarness, type PayHarness } from './pay-harness';

const KEY = SANDBOX_CREDENTIALS.payKey;
const MCH = SANDBOX_CREDENTIALS.mchId;
const QUERY = '/mmpaymkttransfers/gethbinfo';

function queryFields(billNo = newBillNo()) {
  return { mch_billno: billNo, mch_id: MCH, appid: SANDBOX_CREDENTIALS.appId, bill_type: 'MCHT' };
}

/** The fields of a sendredpack call of 1.00 yuan, plus `extra`. */
function sendFields(billNo = newBillNo(), extra: Record<string, string> = {}) {
  return {
    mch_billno: billNo,
    mch_id: MCH,
    wxappid: SANDBOX_CREDENTIALS.appId,
    send_name: 'x',
    re_openid: 'oFollower000001',
    total_amount: 100,
    total_num: 1,
    wishing: 'w',
    client_ip: '127.0.0.1',
    act_name: 'a',
    remark: 'r',
    ...extra,
  };
}

/** Options of a client of the harness's sandbox with the merchant's p12 (default timeout). */
function clientOptions(h: PayHarness): PayClientOptions {
  return {
    mchId: MCH,
    key: KEY,
    appId: SANDBOX_CREDENTIALS.appId,
    baseUrl: h.sandbox.url,
    clientIp: '127.0.0.1',
    cert: loadMerchantCert({ certPath: SANDBOX_PAY_CERTS.p12, mchId: MCH }),
    ca: h.sandbox.ca,
  };
}

describe('createPayClient', () => {
  let h: PayHarness;
  beforeAll(async () => {
    h = await startPayHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const base = (): PayClientOptions => ({ ...clientOptions(h), timeoutMs: 1500 });

  it('should refuse to build a client without a certificate', () => {
    const opts = { ...base(), cert: undefined } as unknown as PayClientOptions;
    expect(() => createPayClient(opts)).toThrow(PayConfigError);
    expect(() => createPayClient(opts)).toThrow(/certificate is required/);
  });

  it('should refuse a p12 it cannot open, without repeating key or passphrase', () => {
    const pfx = fs.readFileSync(SANDBOX_PAY_CERTS.p12);
    let err: unknown;
    try {
      createPayClient({ ...base(), cert: { pfx, passphrase: 'wrong-passphrase-xyz' } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PayConfigError);
    expect((err as Error).message).toMatch(/cannot be opened/);
    expect((err as Error).message).not.toContain('wrong-passphrase-xyz');
    expect((err as Error).message).not.toContain(KEY);
  });

  it('should refuse a plain-http base URL, so the certificate is never skipped', () => {
    expect(() => createPayClient({ ...base(), baseUrl: 'http://127.0.0.1:1' })).toThrow(/must be https/);
  });

  it('should refuse bad options', () => {
    expect(() => createPayClient({ ...base(), mchId: 'x' })).toThrow(PayConfigError);
    expect(() => createPayClient({ ...base(), key: '' })).toThrow(/key/);
    expect(() => createPayClient({ ...base(), clientIp: 'localhost' })).toThrow(/IPv4/);
    expect(() => createPayClient({ ...base(), timeoutMs: 0 })).toThrow(/timeoutMs/);
  });

  it('should also work with a PEM pair', async () => {
    const client = createPayClient({
      ...base(),
      cert: loadMerchantCert({ certPath: SANDBOX_PAY_CERTS.clientCert, keyPemPath: SANDBOX_PAY_CERTS.clientKey, mchId: MCH }),
    });
    try {
      const answer = await client.request(QUERY, queryFields());
      expect(answer.err_code).toBe('NOT_FOUND');
    } finally {
      client.close();
    }
  });
});

describe('PayClient.request', () => {
  let h: PayHarness;
  beforeAll(async () => {
    h = await startPayHarness({ client: { timeoutMs: 300 } });
  });
  afterEach(() => h.sandbox.faults.clear());
  afterAll(async () => {
    await h.close();
  });
  /** A client of its own (not the harness's), with `o` changed. */
  const clientWith = (o: Partial<PayClientOptions>) => createPayClient({ ...clientOptions(h), ...o });

  it('should sign with MD5, add a 32-character nonce_str and send no sign_type', async () => {
    const answer = await h.client.request(QUERY, queryFields());
    expect(answer.return_code).toBe('SUCCESS');
    const call = h.sandbox.calls.at(-1)!;
    expect(call.outcome).toBe('NOT_FOUND');
    expect(call.fields.nonce_str).toMatch(/^[0-9a-f]{32}$/);
    expect(call.fields).not.toHaveProperty('sign_type');
    expect(call.fields.sign).toBe(signPayV2(call.fields, KEY, 'MD5'));
    expect(call.certCn).toBe(MCH);
  });

  it('should send sign_type with HMAC-SHA256 and be verified by the sandbox', async () => {
    const answer = await h.client.request(QUERY, queryFields(), { signType: 'HMAC-SHA256' });
    const call = h.sandbox.calls.at(-1)!;
    expect(call.fields.sign_type).toBe('HMAC-SHA256');
    expect(verifyPayV2(call.fields, KEY, 'HMAC-SHA256')).toBe(true);
    // the signature passed; gethbinfo then refuses the undocumented field
    expect(answer.err_code).toBe('PARAM_ERROR');
    expect(answer.err_code_des).toMatch(/sign_type is not a field of gethbinfo/);
  });

  it('should verify a signed answer and return FAIL answers as fields', async () => {
    const billNo = newBillNo();
    const answer = await h.client.request('/mmpaymkttransfers/sendredpack', sendFields(billNo, { sub_appid: SANDBOX_CREDENTIALS.appId }));
    expect(answer.sign).toEqual(expect.any(String));
    expect(answer.err_code).toBe('PARAM_ERROR');
    expect(toPayError('/mmpaymkttransfers/sendredpack', answer)).toBeInstanceOf(PayError);
    expect(toPayError('/mmpaymkttransfers/sendredpack', answer)!.billNo).toBe(billNo);
    expect(h.sandbox.payments.has(billNo)).toBe(false);
  });

  it('should get SIGN_ERROR with the wrong key', async () => {
    const client = clientWith({ key: 'x'.repeat(32) });
    try {
      const answer = await client.request(QUERY, queryFields());
      expect(answer).toMatchObject({ return_code: 'FAIL', err_code: 'SIGN_ERROR' });
    } finally {
      client.close();
    }
  });

  it('should be refused at TLS without a client certificate', async () => {
    const err = await new Promise<Error>((resolve) => {
      const req = https.request(`${h.sandbox.url}${QUERY}`, { method: 'POST', ca: h.sandbox.ca, agent: false }, () =>
        resolve(new Error('answered without a client certificate')),
      );
      req.on('error', resolve);
      req.end('<xml></xml>');
    });
    expect(err.message).not.toBe('answered without a client certificate');
    expect(h.sandbox.calls.every((c) => c.certCn !== '')).toBe(true);
  });

  it('should surface a client certificate of another CA as PayHttpError (network)', async () => {
    const client = clientWith({ cert: loadMerchantCert({ certPath: SANDBOX_PAY_CERTS.rogueCert, keyPemPath: SANDBOX_PAY_CERTS.rogueKey, mchId: MCH }) });
    try {
      const err = await rejection(client.request(QUERY, queryFields()));
      expect(err).toBeInstanceOf(PayHttpError);
      expect((err as PayHttpError).failure).toBe('network');
    } finally {
      client.close();
    }
  });

  it('should get CA_ERROR with a sandbox certificate of another merchant', async () => {
    // loadMerchantCert refuses this pair at start (subject CN ≠ mch_id); built by hand to see what the server says.
    expect(() => loadMerchantCert({ certPath: SANDBOX_PAY_CERTS.otherMchCert, keyPemPath: SANDBOX_PAY_CERTS.otherMchKey, mchId: MCH })).toThrow(
      /belongs to merchant 1900000999/,
    );
    const client = clientWith({ cert: { cert: fs.readFileSync(SANDBOX_PAY_CERTS.otherMchCert), key: fs.readFileSync(SANDBOX_PAY_CERTS.otherMchKey) } });
    try {
      const answer = await client.request(QUERY, queryFields());
      expect(answer.err_code).toBe('CA_ERROR');
      expect(h.sandbox.calls.at(-1)!.certCn).toBe('1900000999');
    } finally {
      client.close();
    }
  });

  it('should verify the server: without the sandbox CA the call fails', async () => {
    const client = clientWith({ ca: undefined });
    const before = h.sandbox.calls.length;
    try {
      const err = await rejection(client.request(QUERY, queryFields()));
      expect(err).toBeInstanceOf(PayHttpError);
      expect((err as PayHttpError).failure).toBe('network');
      expect(h.sandbox.calls.length).toBe(before);
    } finally {
      client.close();
    }
  });

  it.each([
    [{ timeoutRate: 1 }, 'timeout'],
    [{ http5xxRate: 1 }, 'http_status'],
    [{ resetRate: 1 }, 'network'],
    [{ garbageRate: 1 }, 'unparseable'],
  ] as const)('should throw PayHttpError for %p', async (faults, failure) => {
    h.sandbox.faults.set(faults);
    const err = await rejection(h.client.request(QUERY, queryFields()));
    expect(err).toBeInstanceOf(PayHttpError);
    expect((err as PayHttpError).failure).toBe(failure);
    expect((err as PayHttpError).endpoint).toBe(QUERY);
  });

  it('should throw PayHttpError (bad_signature) for an answer with a wrong sign', async () => {
    h.sandbox.faults.set({ badSignatureRate: 1 });
    const err = await rejection(h.client.request('/mmpaymkttransfers/sendredpack', sendFields()));
    expect(err).toBeInstanceOf(PayHttpError);
    expect((err as PayHttpError).failure).toBe('bad_signature');
  });

  it('should refuse an endpoint that is not a path', async () => {
    await expect(h.client.request('https://evil.example/x', {})).rejects.toThrow(TypeError);
  });
});

describe('secrets', () => {
  it('should never write the key, a sign, the certificate or the passphrase to logs or errors', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const log = createLogger({ level: 'trace', destination });
    const h = await startPayHarness({ client: { log, timeoutMs: 300 } });
    const messages: string[] = [];
    try {
      await h.client.request(QUERY, queryFields());
      for (const faults of [{ timeoutRate: 1 }, { http5xxRate: 1 }, { garbageRate: 1 }, { resetRate: 1 }]) {
        h.sandbox.faults.set(faults);
        messages.push(String(await rejection(h.client.request(QUERY, queryFields()))));
      }
      h.sandbox.faults.clear();
      const outcome = await h.redpacks.send({
        kind: 'normal',
        billNo: newBillNo(),
        openId: 'oFollower000001',
        amountFen: 100,
        totalNum: 1,
        sendName: 's',
        wishing: 'w',
        actName: 'a',
        remark: 'r',
      });
      expect(outcome.status).toBe('sent');
    } finally {
      await h.close();
    }
    const signs = h.sandbox.calls.map((c) => c.fields.sign).filter(Boolean);
    const pem = fs.readFileSync(SANDBOX_PAY_CERTS.clientKey, 'utf8').split('\n')[1];
    const everything = lines.join('') + messages.join('\n');
    expect(lines.length).toBeGreaterThan(3);
    expect(everything).not.toContain(KEY);
    expect(everything).not.toContain(`passphrase`);
    expect(everything).not.toContain(pem);
    for (const s of signs) expect(everything).not.toContain(s);
    expect(everything).toContain('WeChat Pay answered');
  });
});
