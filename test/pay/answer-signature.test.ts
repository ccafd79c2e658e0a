/**
 * WeChat Pay answers' signatures, as decided in src/pay/client.ts: a `sign` that is present is verified
 * (a wrong one makes the answer untrusted: outcome unknown, never SENT, same bill number); an unsigned
 * answer — what api.mch.weixin.qq.com sends for red packets — is accepted. Through the real client and
 * the sandbox Pay server over loopback mutual TLS, in its three answer shapes.
 */
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { SANDBOX_CREDENTIALS } from '../../src/config/settings';
import { fixedClock } from '../../src/lib/clock';
import { silentLogger } from '../../src/lib/logger';
import { createPayClient, loadMerchantCert } from '../../src/pay/client';
import { PayHttpError } from '../../src/pay/errors';
import { verifyPayV2 } from '../../src/pay/sign';
import { createRewards } from '../../src/rewards/rewards';
import { SANDBOX_PAY_CERTS } from '../../src/sandbox/pay-server';
import { buildXml } from '../../src/wechat/xml';
import { makeConfig, MCH_ID, redCampaign, sqliteLedger, T0 } from '../rewards/helpers';
import { captureLog } from '../helpers/capture-log';
import { payRigWorker } from '../helpers/pay-rig-worker';
import { redpackRequest, rejection, startPayHarness, type PayHarness } from './pay-harness';

const SEND = '/mmpaymkttransfers/sendredpack';
const QUERY = '/mmpaymkttransfers/gethbinfo';
const KEY = SANDBOX_CREDENTIALS.payKey;

describe('answers signed correctly (sandbox answerSign: all)', () => {
  let h: PayHarness;
  beforeAll(async () => {
    h = await startPayHarness({ sandbox: { answerSign: 'all' } });
  });
  afterAll(() => h.close());

  it('should verify a signed send answer and report the packet sent', async () => {
    const r = redpackRequest();
    expect(await h.redpacks.send(r)).toMatchObject({ status: 'sent' });
    const answer = await h.client.request(SEND, { ...sendFieldsOf(r) }); // re-entry: the same answer, signed
    expect(typeof answer.sign).toBe('string');
    expect(verifyPayV2(answer, KEY)).toBe(true);
  });

  it('should verify a signed gethbinfo answer', async () => {
    const r = redpackRequest();
    await h.redpacks.send(r);
    expect(await h.redpacks.query(r.billNo)).toMatchObject({ status: 'found', info: { status: 'SENT', totalAmountFen: 100 } });
    const answer = await h.client.request(QUERY, { mch_billno: r.billNo, mch_id: MCH_ID, appid: SANDBOX_CREDENTIALS.appId, bill_type: 'MCHT' });
    expect(verifyPayV2(answer, KEY)).toBe(true);
  });
});

describe('unsigned answers, as the real server sends them (sandbox answerSign: none)', () => {
  let h: PayHarness;
  const { log, lines } = captureLog();
  beforeAll(async () => {
    h = await startPayHarness({ sandbox: { answerSign: 'none' }, client: { log } });
  });
  afterAll(() => h.close());

  it('should accept an unsigned success answer, report the packet sent, and log that it was unsigned', async () => {
    const r = redpackRequest();
    const answer = await h.client.request(SEND, sendFieldsOf(r));
    expect(answer).toMatchObject({ return_code: 'SUCCESS', result_code: 'SUCCESS', mch_billno: r.billNo });
    expect(answer.sign).toBeUndefined();
    expect(await h.redpacks.send(r)).toMatchObject({ status: 'sent' }); // re-entry, unsigned again
    expect(h.sandbox.payments.get(r.billNo)!.timesPaid).toBe(1);
    expect(h.sandbox.timesPaidTo(h.sandbox.payments.get(r.billNo)!.openId)).toBe(1); // money left once for the follower, whatever the bill
    expect(lines.filter((l) => l.msg === 'WeChat Pay answered').map((l) => l.signed)).toEqual([false, false]);
  });

  it('should accept unsigned FAIL and query answers and classify them as usual', async () => {
    h.sandbox.faults.set({ errCode: 'NOTENOUGH', errCodeTimes: 1 });
    expect(await h.redpacks.send(redpackRequest())).toMatchObject({ status: 'config', code: 'NOTENOUGH' });
    h.sandbox.faults.set({ systemErrorRate: 1, paidShare: 0, endpoints: ['sendredpack'] });
    expect(await h.redpacks.send(redpackRequest())).toMatchObject({ status: 'uncertain', code: 'SYSTEMERROR' });
    h.sandbox.faults.clear();
    const r = redpackRequest();
    await h.redpacks.send(r);
    expect(await h.redpacks.query(r.billNo)).toMatchObject({ status: 'found' });
    expect(await h.redpacks.query(redpackRequest().billNo)).toEqual({ status: 'not_found', returnCode: 'SUCCESS', resultCode: 'FAIL' });
  });

  it('should still refuse a badly signed answer: outcome unknown, never sent', async () => {
    h.sandbox.faults.set({ badSignatureRate: 1 });
    const r = redpackRequest();
    try {
      expect(await h.redpacks.send(r)).toMatchObject({ status: 'uncertain', code: 'BAD_SIGNATURE' });
    } finally {
      h.sandbox.faults.clear();
    }
    expect(h.sandbox.payments.get(r.billNo)!.timesPaid).toBe(1); // the sandbox paid; we do not know that yet
    expect(lines.some((l) => l.level === 50 && /bad signature/.test(String(l.msg)))).toBe(true);
  });
});

describe('badly signed answers', () => {
  let h: PayHarness;
  beforeAll(async () => {
    h = await startPayHarness({ sandbox: { answerSign: 'all' } });
  });
  afterAll(() => h.close());

  it('should throw PayHttpError bad_signature for a send answer with a wrong sign, and report it uncertain', async () => {
    h.sandbox.faults.set({ badSignatureRate: 1 });
    try {
      const r = redpackRequest();
      const err = await rejection(h.client.request(SEND, sendFieldsOf(r)));
      expect(err).toBeInstanceOf(PayHttpError);
      expect(err).toMatchObject({ failure: 'bad_signature', endpoint: SEND });
      expect(await h.redpacks.send(redpackRequest())).toMatchObject({ status: 'uncertain', code: 'BAD_SIGNATURE' });
    } finally {
      h.sandbox.faults.clear();
    }
  });

  it('should report a gethbinfo answer with a wrong sign as a query error, not as found', async () => {
    const r = redpackRequest();
    await h.redpacks.send(r);
    h.sandbox.faults.set({ badSignatureRate: 1, endpoints: ['gethbinfo'] });
    try {
      expect(await h.redpacks.query(r.billNo)).toMatchObject({ status: 'error', code: 'BAD_SIGNATURE' });
    } finally {
      h.sandbox.faults.clear();
    }
    expect(await h.redpacks.query(r.billNo)).toMatchObject({ status: 'found' });
  });
});

describe('a sign element that is present but empty', () => {
  it('should be checked like any sign, and fail', async () => {
    const answer = { return_code: 'SUCCESS', return_msg: 'OK', result_code: 'SUCCESS', mch_billno: 'x', mch_id: MCH_ID };
    const body = buildXml({ ...answer, sign: '' });
    expect(body).toContain('<sign');
    const server = https.createServer(
      {
        key: fs.readFileSync(SANDBOX_PAY_CERTS.serverKey),
        cert: fs.readFileSync(SANDBOX_PAY_CERTS.serverCert),
        ca: fs.readFileSync(SANDBOX_PAY_CERTS.ca),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        req.resume();
        req.on('end', () => res.writeHead(200, { 'Content-Type': 'text/plain' }).end(body));
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = createPayClient({
      mchId: MCH_ID,
      key: KEY,
      appId: SANDBOX_CREDENTIALS.appId,
      baseUrl: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
      clientIp: '127.0.0.1',
      cert: loadMerchantCert({ certPath: SANDBOX_PAY_CERTS.p12, mchId: MCH_ID }),
      ca: fs.readFileSync(SANDBOX_PAY_CERTS.ca),
      timeoutMs: 2000,
    });
    try {
      const err = await rejection(client.request(QUERY, { mch_billno: 'x', mch_id: MCH_ID, appid: SANDBOX_CREDENTIALS.appId, bill_type: 'MCHT' }));
      expect(err).toMatchObject({ failure: 'bad_signature' });
    } finally {
      client.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe.each(['none', 'all'] as const)('the outbox after a badly signed send answer (sandbox answerSign: %s)', (answerSign) => {
  it('should not mark the grant SENT, then confirm it by gethbinfo with the same bill number, paying once', async () => {
    const h = await startPayHarness({ sandbox: { answerSign, seed: 7 } });
    const s = sqliteLedger();
    try {
      const clock = fixedClock(T0);
      const config = makeConfig({ welcome: redCampaign() });
      const rewards = createRewards({ ledger: s.ledger, config: () => config, clock, mchId: MCH_ID, log: silentLogger() });
      const worker = payRigWorker({ ledger: s.ledger, pay: { redpack: h.redpacks }, clock, config }, { notify: async () => undefined, backoff: () => 1000 });
      const g = await rewards.grant({ campaign: 'welcome', openId: 'oFollowerSig0001', dedupeKey: 'evt:sig', ruleId: 'follow', now: clock.now() });
      const bill = g.billNo!;

      h.sandbox.faults.set({ badSignatureRate: 1, endpoints: ['sendredpack'] });
      await worker.runOnce();
      expect(await s.ledger.findByBillNo(bill)).toMatchObject({ status: 'SENDING', lastError: expect.stringContaining('BAD_SIGNATURE') });
      expect(h.sandbox.payments.get(bill)!.timesPaid).toBe(1);
      expect(h.sandbox.timesPaidTo(h.sandbox.payments.get(bill)!.openId)).toBe(1); // money left once for the follower, whatever the bill

      h.sandbox.faults.clear();
      clock.advance(1000);
      await worker.runOnce();
      expect(await s.ledger.findByBillNo(bill)).toMatchObject({ status: 'SENT', billNo: bill });
      expect(h.sandbox.callsTo('sendredpack').map((c) => c.fields.mch_billno)).toEqual([bill]); // confirmed by the query, not re-sent
      expect(h.sandbox.callsTo('gethbinfo').map((c) => c.fields.mch_billno)).toEqual([bill]);
      expect(h.sandbox.payments.get(bill)!.timesPaid).toBe(1);
      expect(h.sandbox.timesPaidTo(h.sandbox.payments.get(bill)!.openId)).toBe(1); // money left once for the follower, whatever the bill
    } finally {
      await s.close();
      await h.close();
    }
  });
});

/** The exact sendredpack fields the red-packet API builds for a request (without nonce_str/sign). */
function sendFieldsOf(r: ReturnType<typeof redpackRequest>): Record<string, string> {
  return {
    mch_billno: r.billNo,
    mch_id: MCH_ID,
    wxappid: SANDBOX_CREDENTIALS.appId,
    send_name: r.sendName,
    re_openid: r.openId,
    total_amount: String(r.amountFen),
    total_num: String(r.totalNum),
    wishing: r.wishing,
    client_ip: '127.0.0.1',
    act_name: r.actName,
    remark: r.remark,
  };
}
