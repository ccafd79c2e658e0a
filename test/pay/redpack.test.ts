import fs from 'node:fs';
import path from 'node:path';
import { SANDBOX_CREDENTIALS } from '../../src/config/settings';
import { fixedClock } from '../../src/lib/clock';
import { classifyRedpackError } from '../../src/pay/classify';
import {
  buildSendFields,
  classifySendAnswer,
  createRedpackApi,
  encodeRiskInfo,
  parseQueryAnswer,
  SENDGROUPREDPACK_FIELDS,
  SENDREDPACK_FIELDS,
} from '../../src/pay/redpack';
import type { RedpackApi, RedpackRequest, RedpackSendOutcome } from '../../src/pay/types';
import { parseXml } from '../../src/wechat/xml';
import { newBillNo, redpackRequest, startPayHarness, type PayHarness } from './pay-harness';

const SUB_MCH = '1900000110';
const APP = SANDBOX_CREDENTIALS.appId;

interface XmlVector {
  id: string;
  xml: string;
  expect: Record<string, string>;
}
const xmlVectors: XmlVector[] = JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/vectors/redpack-xml.json'), 'utf8'));
const errTable: { code: string }[] = JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/vectors/redpack-errcodes.json'), 'utf8'));

function keys(fields: Record<string, string>): string[] {
  return Object.keys(fields).sort();
}

/** What a careful outbox does: query first when uncertain, resend with the SAME bill number. */
async function sendUntilSettled(api: RedpackApi, request: RedpackRequest, maxTries = 50): Promise<RedpackSendOutcome> {
  let outcome = await api.send(request);
  for (let i = 0; outcome.status === 'uncertain' && i < maxTries; i++) {
    await api.query(request.billNo); // look first; found or not, the re-send uses the SAME bill number
    outcome = await api.send(request);
  }
  return outcome;
}

describe('createRedpackApi', () => {
  it('should refuse a missing client or wxappid', async () => {
    expect(() => createRedpackApi(undefined as never)).toThrow(/PayClient is required/);
    const h = await startPayHarness();
    try {
      expect(() => createRedpackApi(h.client, { wxappid: ' ' })).toThrow(/wxappid/);
      expect(() => createRedpackApi(h.client, { clientIp: '::1' })).toThrow(/IPv4/);
    } finally {
      await h.close();
    }
  });
});

describe('RedpackApi.send', () => {
  let h: PayHarness;
  beforeEach(async () => {
    h = await startPayHarness({ sandbox: { balanceFen: 1_000_000 } });
  });
  afterEach(async () => {
    await h.close();
  });

  it('should send a normal red packet with exactly the documented fields', async () => {
    const r = redpackRequest();
    const outcome = await h.redpacks.send(r);
    expect(outcome).toEqual({ status: 'sent', sendListId: expect.stringMatching(/^\d{30}$/), returnCode: 'SUCCESS', resultCode: 'SUCCESS' });
    const [call] = h.sandbox.callsTo('sendredpack');
    expect(keys(call.fields)).toEqual([...SENDREDPACK_FIELDS.required].sort());
    expect(call.fields).toMatchObject({
      mch_billno: r.billNo,
      mch_id: SANDBOX_CREDENTIALS.mchId,
      wxappid: APP,
      re_openid: r.openId,
      total_amount: '100',
      total_num: '1',
      client_ip: '127.0.0.1',
      send_name: '沙盒商户',
      wishing: '恭喜发财，大吉大利',
    });
    const paid = h.sandbox.payments.get(r.billNo)!;
    expect(paid).toMatchObject({ openId: r.openId, amountFen: 100, timesPaid: 1, status: 'SENT' });
    expect(outcome.status === 'sent' && outcome.sendListId).toBe(paid.sendListId);
    expect(h.sandbox.balanceFen).toBe(1_000_000 - 100);
  });

  it('should add scene_id and url-encoded risk_info when given', async () => {
    const r = redpackRequest({ sceneId: 'PRODUCT_2', riskInfo: { posttime: '1700000000', mobile: '86-13800000000', deviceid: '' } });
    expect(await h.redpacks.send(r)).toMatchObject({ status: 'sent' });
    const [call] = h.sandbox.callsTo('sendredpack');
    expect(keys(call.fields)).toEqual([...SENDREDPACK_FIELDS.required, ...SENDREDPACK_FIELDS.optional].sort());
    expect(call.fields.scene_id).toBe('PRODUCT_2');
    expect(call.fields.risk_info).toBe('posttime%3D1700000000%26mobile%3D86-13800000000');
  });

  it('should send service-provider fields and never sub_appid or sign_type', async () => {
    const r = redpackRequest({ subMchId: SUB_MCH, msgAppId: APP, consumeMchId: SUB_MCH });
    expect(await h.redpacks.send(r)).toMatchObject({ status: 'sent' });
    const [call] = h.sandbox.callsTo('sendredpack');
    expect(keys(call.fields)).toEqual([...SENDREDPACK_FIELDS.required, ...SENDREDPACK_FIELDS.serviceProvider].sort());
    expect(call.fields).toMatchObject({ sub_mch_id: SUB_MCH, msgappid: APP, consume_mch_id: SUB_MCH });
    expect(call.fields).not.toHaveProperty('sub_appid');
    expect(call.fields).not.toHaveProperty('sign_type');
  });

  it('should send a fission red packet to sendgroupredpack with amt_type and without client_ip', async () => {
    const r = redpackRequest({ kind: 'fission', amountFen: 900, totalNum: 3 });
    expect(await h.redpacks.send(r)).toMatchObject({ status: 'sent' });
    expect(h.sandbox.callsTo('sendredpack')).toHaveLength(0);
    const [call] = h.sandbox.callsTo('sendgroupredpack');
    expect(keys(call.fields)).toEqual([...SENDGROUPREDPACK_FIELDS.required].sort());
    expect(call.fields).toMatchObject({ amt_type: 'ALL_RAND', total_num: '3', total_amount: '900' });
    expect(call.fields).not.toHaveProperty('client_ip');
    const q = await h.redpacks.query(r.billNo);
    expect(q.status === 'found' && q.info.totalAmountFen).toBe(900);
  });

  it('should send a service-provider fission red packet with exactly its fields', async () => {
    const r = redpackRequest({ kind: 'fission', amountFen: 600, totalNum: 3, subMchId: SUB_MCH, msgAppId: APP, sceneId: 'PRODUCT_1' });
    expect(await h.redpacks.send(r)).toMatchObject({ status: 'sent' });
    const [call] = h.sandbox.callsTo('sendgroupredpack');
    expect(keys(call.fields)).toEqual([...SENDGROUPREDPACK_FIELDS.required, 'scene_id', 'sub_mch_id', 'msgappid'].sort());
  });

  it.each([
    [{ kind: 'fission', totalNum: 2, amountFen: 600 }, /at least 3/],
    [{ totalNum: 2 }, /totalNum 1/],
    [{ billNo: 'bad-bill-no' }, /billNo/],
    [{ amountFen: 1.5 }, /amountFen/],
    [{ wishing: 'x'.repeat(129) }, /wishing is longer than 128/],
    [{ sendName: '' }, /sendName is required/],
    [{ sceneId: 'PRODUCT_9' }, /sceneId/],
    [{ subMchId: SUB_MCH }, /needs msgAppId/],
    [{ msgAppId: APP }, /only for service-provider mode/],
    [{ openId: 'o'.repeat(41) }, /openId must be 1–32 characters/],
  ] as const)('should refuse %p locally as final for this grant without calling WeChat Pay', async (overrides, message) => {
    const outcome = await h.redpacks.send(redpackRequest(overrides as Partial<RedpackRequest>));
    expect(outcome).toMatchObject({ status: 'failed', code: 'LOCAL_PARAM_ERROR', message: expect.stringMatching(message) });
    expect(h.sandbox.calls).toHaveLength(0);
  });

  it('should pay once when the same bill number is sent 5 times at once', async () => {
    h.sandbox.faults.set({ latencyMs: 20 });
    const r = redpackRequest();
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => h.redpacks.send(r)));
    const ids = new Set(outcomes.map((o) => (o.status === 'sent' ? o.sendListId : o.status)));
    expect(outcomes.every((o) => o.status === 'sent')).toBe(true);
    expect(ids.size).toBe(1);
    expect(h.sandbox.callsTo('sendredpack')).toHaveLength(5);
    expect(h.sandbox.payments.size).toBe(1);
    expect(h.sandbox.payments.get(r.billNo)!.timesPaid).toBe(1);
    expect(h.sandbox.timesPaidTo(h.sandbox.payments.get(r.billNo)!.openId)).toBe(1); // money left once for the follower, whatever the bill
    expect(h.sandbox.paymentsTo(r.openId)).toHaveLength(1);
    expect(h.sandbox.balanceFen).toBe(1_000_000 - 100);
  });

  it('should report a collision when a bill number is reused for another amount or openid (the first packet answers)', async () => {
    const r = redpackRequest();
    await h.redpacks.send(r);
    expect(await h.redpacks.send({ ...r, amountFen: 200 })).toMatchObject({ status: 'collision', message: expect.stringContaining('total_amount 100, not 200') });
    expect(await h.redpacks.send({ ...r, openId: 'oSomebodyElse0001' })).toMatchObject({
      status: 'collision',
      message: expect.stringContaining(`re_openid ${r.openId}, not oSomebodyElse0001`),
    });
    expect(h.sandbox.payments.size).toBe(1);
    expect(h.sandbox.balanceFen).toBe(1_000_000 - 100);
  });

  it.each([
    ['paid but the answer lost', 1],
    ['not paid', 0],
  ])('should report SYSTEMERROR (%s) as uncertain, and a later same-bill retry sends it once', async (_label, paidShare) => {
    h.sandbox.faults.set({ systemErrorRate: 1, paidShare });
    const r = redpackRequest();
    expect(await h.redpacks.send(r)).toMatchObject({ status: 'uncertain', code: 'SYSTEMERROR' });
    expect(h.sandbox.payments.has(r.billNo)).toBe(paidShare === 1);
    h.sandbox.faults.clear();
    const retry = await h.redpacks.send(r);
    expect(retry).toMatchObject({ status: 'sent' });
    expect(h.sandbox.payments.get(r.billNo)!.timesPaid).toBe(1);
    expect(h.sandbox.timesPaidTo(h.sandbox.payments.get(r.billNo)!.openId)).toBe(1); // money left once for the follower, whatever the bill
    expect(h.sandbox.paymentsTo(r.openId)).toHaveLength(1);
    expect(h.sandbox.balanceFen).toBe(1_000_000 - 100);
  });

  it.each([
    ['timeoutRate', 'TIMEOUT', 1],
    ['timeoutRate', 'TIMEOUT', 0],
    ['resetRate', 'NETWORK', 1],
    ['http5xxRate', 'HTTP_503', 0],
    ['garbageRate', 'UNPARSEABLE', 1],
  ] as const)('should report %s as uncertain (%s, paidShare %d) and settle once on retry', async (fault, code, paidShare) => {
    await h.close();
    h = await startPayHarness({ sandbox: { balanceFen: 1_000_000 }, client: { timeoutMs: 250 } });
    h.sandbox.faults.set({ [fault]: 1, paidShare });
    const r = redpackRequest();
    expect(await h.redpacks.send(r)).toMatchObject({ status: 'uncertain', code });
    expect(h.sandbox.payments.has(r.billNo)).toBe(paidShare === 1);
    h.sandbox.faults.clear();
    expect(await h.redpacks.send(r)).toMatchObject({ status: 'sent' });
    expect(h.sandbox.payments.get(r.billNo)!.timesPaid).toBe(1);
    expect(h.sandbox.timesPaidTo(h.sandbox.payments.get(r.billNo)!.openId)).toBe(1); // money left once for the follower, whatever the bill
    expect(h.sandbox.balanceFen).toBe(1_000_000 - 100);
  });

  it('should never call an answer with a bad signature sent', async () => {
    h.sandbox.faults.set({ badSignatureRate: 1 });
    const r = redpackRequest();
    expect(await h.redpacks.send(r)).toMatchObject({ status: 'uncertain', code: 'BAD_SIGNATURE' });
    expect(h.sandbox.payments.has(r.billNo)).toBe(true); // it was paid: only the answer is untrusted
    h.sandbox.faults.clear();
    const retry = await h.redpacks.send(r);
    expect(retry).toEqual({ status: 'sent', sendListId: h.sandbox.payments.get(r.billNo)!.sendListId, returnCode: 'SUCCESS', resultCode: 'SUCCESS' });
    expect(h.sandbox.payments.get(r.billNo)!.timesPaid).toBe(1);
    expect(h.sandbox.timesPaidTo(h.sandbox.payments.get(r.billNo)!.openId)).toBe(1); // money left once for the follower, whatever the bill
  });

  it('should report PROCESSING as uncertain; the query and a retry then find it sent', async () => {
    h.sandbox.faults.set({ processingRate: 1 });
    const r = redpackRequest();
    expect(await h.redpacks.send(r)).toMatchObject({ status: 'uncertain', code: 'PROCESSING' });
    h.sandbox.faults.clear();
    const q = await h.redpacks.query(r.billNo);
    expect(q.status === 'found' && q.info.status).toBe('SENT');
    expect(await h.redpacks.send(r)).toMatchObject({ status: 'sent' });
    expect(h.sandbox.paymentsTo(r.openId)).toHaveLength(1);
  });

  // FATAL_ERROR is a bill-number collision in a send answer (see the collision tests).
  const forced = errTable.map((r) => r.code).filter((c) => c !== 'SUCCESS' && c !== 'NOT_FOUND' && c !== 'FATAL_ERROR' && !c.startsWith('<'));
  it.each([...forced, '268458547', 'BRAND_NEW_CODE'])('should classify a forced %s like classifyRedpackError and pay nothing', async (code) => {
    h.sandbox.faults.set({ errCode: code });
    const r = redpackRequest();
    const outcome = await h.redpacks.send(r);
    expect(outcome.status).toBe(classifyRedpackError(code));
    expect(outcome).toMatchObject({ code, message: expect.stringContaining(code) });
    expect(h.sandbox.payments.size).toBe(0);
  });

  it('should pause-classify API_METHOD_CLOSED for a fission packet as config', async () => {
    h.sandbox.faults.set({ errCode: 'API_METHOD_CLOSED' });
    const outcome = await h.redpacks.send(redpackRequest({ kind: 'fission', totalNum: 3, amountFen: 300 }));
    expect(outcome).toMatchObject({ status: 'config', code: 'API_METHOD_CLOSED' });
  });

  it('should apply errCodeTimes and then send normally with the same bill number', async () => {
    h.sandbox.faults.set({ errCode: 'FREQ_LIMIT', errCodeTimes: 2 });
    const r = redpackRequest();
    expect(await h.redpacks.send(r)).toMatchObject({ status: 'uncertain', code: 'FREQ_LIMIT' });
    expect(await h.redpacks.send(r)).toMatchObject({ status: 'uncertain', code: 'FREQ_LIMIT' });
    expect(await h.redpacks.send(r)).toMatchObject({ status: 'sent' });
  });
});

describe('RedpackApi.send against the sandbox rules', () => {
  it('should get NOTENOUGH (config) when the balance is short, and send the same bill after a top-up', async () => {
    const h = await startPayHarness({ sandbox: { balanceFen: 150 } });
    try {
      await h.redpacks.send(redpackRequest());
      const r = redpackRequest({ openId: 'oAnotherFollower01' });
      expect(await h.redpacks.send(r)).toMatchObject({ status: 'config', code: 'NOTENOUGH' });
      h.sandbox.setBalanceFen(10_000);
      expect(await h.redpacks.send(r)).toMatchObject({ status: 'sent' });
      expect(h.sandbox.balanceFen).toBe(9_900);
    } finally {
      await h.close();
    }
  });

  it('should get SENDNUM_LIMIT and RCVDAMOUNT_LIMIT (failed) per follower per Beijing day', async () => {
    const clock = fixedClock(Date.parse('2026-03-01T10:00:00+08:00'));
    const h = await startPayHarness({ sandbox: { clock, perUserDailyCount: 2, perUserDailyAmountFen: 500 } });
    try {
      const openId = 'oLimitedFollower01';
      expect(await h.redpacks.send(redpackRequest({ openId }))).toMatchObject({ status: 'sent' });
      expect(await h.redpacks.send(redpackRequest({ openId }))).toMatchObject({ status: 'sent' });
      expect(await h.redpacks.send(redpackRequest({ openId }))).toMatchObject({ status: 'failed', code: 'SENDNUM_LIMIT' });
      expect(await h.redpacks.send(redpackRequest({ openId: 'oBigSpender000001', amountFen: 400 }))).toMatchObject({ status: 'sent' });
      expect(await h.redpacks.send(redpackRequest({ openId: 'oBigSpender000001', amountFen: 200 }))).toMatchObject({
        status: 'failed',
        code: 'RCVDAMOUNT_LIMIT',
      });
      clock.set(Date.parse('2026-03-02T00:00:01+08:00'));
      expect(await h.redpacks.send(redpackRequest({ openId }))).toMatchObject({ status: 'sent' });
    } finally {
      await h.close();
    }
  });

  it('should get SENDAMOUNT_LIMIT when the merchant daily total is reached', async () => {
    const h = await startPayHarness({ sandbox: { merchantDailyAmountFen: 150 } });
    try {
      await h.redpacks.send(redpackRequest());
      expect(await h.redpacks.send(redpackRequest({ openId: 'oAnotherFollower01' }))).toMatchObject({ status: 'config', code: 'SENDAMOUNT_LIMIT' });
    } finally {
      await h.close();
    }
  });

  it('should get MONEY_LIMIT outside 1–200 yuan without scene_id, and accept it with one', async () => {
    const h = await startPayHarness();
    try {
      expect(await h.redpacks.send(redpackRequest({ amountFen: 99 }))).toMatchObject({ status: 'failed', code: 'MONEY_LIMIT' });
      expect(await h.redpacks.send(redpackRequest({ amountFen: 20_001 }))).toMatchObject({ status: 'failed', code: 'MONEY_LIMIT' });
      expect(await h.redpacks.send(redpackRequest({ amountFen: 20_000 }))).toMatchObject({ status: 'sent' });
      expect(await h.redpacks.send(redpackRequest({ amountFen: 50_000, sceneId: 'PRODUCT_4', openId: 'oStaffMember00001' }))).toMatchObject({
        status: 'sent',
      });
    } finally {
      await h.close();
    }
  });

  it('should get ILLEGAL_APPID, MSGAPPID_ERROR, ACCEPTMODE_ERROR (config) and OPENID_ERROR (failed)', async () => {
    const h = await startPayHarness();
    try {
      const other = createRedpackApi(h.client, { wxappid: 'wx1111111111111111' });
      expect(await other.send(redpackRequest())).toMatchObject({ status: 'config', code: 'ILLEGAL_APPID' });
      expect(await h.redpacks.send(redpackRequest({ subMchId: SUB_MCH, msgAppId: 'wx2222222222222222' }))).toMatchObject({
        status: 'config',
        code: 'MSGAPPID_ERROR',
      });
      expect(await h.redpacks.send(redpackRequest({ subMchId: '1234567', msgAppId: APP }))).toMatchObject({ status: 'config', code: 'ACCEPTMODE_ERROR' });
      expect(await h.redpacks.send(redpackRequest({ openId: 'o!bad' }))).toMatchObject({ status: 'failed', code: 'OPENID_ERROR' });
      expect(h.sandbox.payments.size).toBe(0);
    } finally {
      await h.close();
    }
  });

  it('should settle every grant paid exactly once under 30% SYSTEMERROR and 10% timeouts', async () => {
    // 5 workers, like an outbox with a concurrency cap; the timeout leaves room for TLS handshakes under load
    const h = await startPayHarness({ sandbox: { seed: 2026 }, client: { timeoutMs: 600 } });
    try {
      h.sandbox.faults.set({ systemErrorRate: 0.3, timeoutRate: 0.1 });
      const requests = Array.from({ length: 40 }, (_, i) => redpackRequest({ openId: `oChaosFollower${String(i).padStart(4, '0')}` }));
      const queue = [...requests];
      const outcomes: RedpackSendOutcome[] = [];
      await Promise.all(
        Array.from({ length: 5 }, async () => {
          for (let r = queue.shift(); r !== undefined; r = queue.shift()) outcomes.push(await sendUntilSettled(h.redpacks, r));
        }),
      );
      expect(outcomes).toHaveLength(40);
      expect(outcomes.filter((o) => o.status !== 'sent')).toEqual([]);
      const faultsSeen = new Set(h.sandbox.calls.map((c) => c.outcome));
      expect(faultsSeen.has('SYSTEMERROR') && faultsSeen.has('TIMEOUT')).toBe(true);
      expect(h.sandbox.calls.some((c) => c.outcome === 'SYSTEMERROR' && c.paid)).toBe(true);
      expect(h.sandbox.calls.some((c) => c.outcome === 'SYSTEMERROR' && !c.paid)).toBe(true);
      expect(h.sandbox.payments.size).toBe(40);
      for (const r of requests) {
        expect(h.sandbox.paymentsTo(r.openId)).toHaveLength(1);
        expect(h.sandbox.payments.get(r.billNo)!.timesPaid).toBe(1);
        expect(h.sandbox.timesPaidTo(h.sandbox.payments.get(r.billNo)!.openId)).toBe(1); // money left once for the follower, whatever the bill
      }
    } finally {
      await h.close();
    }
  });
});

describe('RedpackApi.query', () => {
  it('should follow a packet from not_found to SENT, RECEIVED and REFUND', async () => {
    const clock = fixedClock(Date.parse('2026-03-01T10:00:00+08:00'));
    const h = await startPayHarness({ sandbox: { clock, balanceFen: 10_000 } });
    try {
      const a = redpackRequest();
      const b = redpackRequest({ openId: 'oSecondFollower01' });
      expect(await h.redpacks.query(a.billNo)).toEqual({ status: 'not_found', returnCode: 'SUCCESS', resultCode: 'FAIL' });
      await h.redpacks.send(a);
      await h.redpacks.send(b);
      const sent = await h.redpacks.query(a.billNo);
      expect(sent).toMatchObject({ status: 'found', info: { billNo: a.billNo, status: 'SENT', totalAmountFen: 100, sendTime: '2026-03-01 10:00:00' } });
      const [call] = h.sandbox.callsTo('gethbinfo');
      expect(keys(call.fields)).toEqual(['appid', 'bill_type', 'mch_billno', 'mch_id', 'nonce_str', 'sign']);
      expect(call.fields).toMatchObject({ bill_type: 'MCHT', appid: APP });

      clock.advance(60_000);
      h.sandbox.receive(a.billNo);
      expect(await h.redpacks.query(a.billNo)).toMatchObject({
        status: 'found',
        info: { status: 'RECEIVED', receivedBy: [{ openId: a.openId, amountFen: 100, receivedAt: '2026-03-01 10:01:00' }] },
      });

      clock.advance(24 * 3600 * 1000);
      const refunding = await h.redpacks.query(b.billNo); // unclaimed for 24 h: the refund starts (sandbox clock)
      expect(refunding).toMatchObject({ status: 'found', info: { status: 'RFUND_ING' } });
      expect(h.sandbox.balanceFen).toBe(10_000 - 200);
      clock.advance(3600 * 1000);
      const refunded = await h.redpacks.query(b.billNo); // and ends an hour later (the sandbox's refundSettleMs)
      expect(refunded).toMatchObject({ status: 'found', info: { status: 'REFUND', refundAmountFen: 100, refundTime: '2026-03-02 11:01:00' } });
      expect(h.sandbox.balanceFen).toBe(10_000 - 100);
      expect(h.sandbox.payments.get(a.billNo)!.status).toBe('RECEIVED');
    } finally {
      await h.close();
    }
  });

  it('should send sub_mch_id only when asked', async () => {
    const h = await startPayHarness();
    try {
      await h.redpacks.query(newBillNo(), { subMchId: SUB_MCH });
      expect(h.sandbox.calls.at(-1)!.fields.sub_mch_id).toBe(SUB_MCH);
    } finally {
      await h.close();
    }
  });

  it('should report network trouble and bad bill numbers as error', async () => {
    const h = await startPayHarness();
    try {
      h.sandbox.faults.set({ http5xxRate: 1 });
      expect(await h.redpacks.query(newBillNo())).toMatchObject({ status: 'error', code: 'HTTP_503' });
      h.sandbox.faults.set({ systemErrorRate: 1 });
      expect(await h.redpacks.query(newBillNo())).toMatchObject({ status: 'error', code: 'SYSTEMERROR' });
      expect(await h.redpacks.query('no-such-bill!')).toMatchObject({ status: 'error', code: 'LOCAL_PARAM_ERROR' });
    } finally {
      await h.close();
    }
  });
});

describe('encodeRiskInfo', () => {
  it('should join non-empty pairs and url-encode the whole', () => {
    expect(encodeRiskInfo({ posttime: '123', mobile: '', deviceid: 'aa:bb' })).toBe('posttime%3D123%26deviceid%3Daa%3Abb');
    expect(encodeRiskInfo({ mobile: '' })).toBeUndefined();
    expect(encodeRiskInfo(undefined)).toBeUndefined();
  });
});

describe('classifySendAnswer and parseQueryAnswer on the redpack-xml vectors', () => {
  /** re_openid of the sendredpack samples. */
  const SAMPLE_OPENID = 'onqOjjmM1tad-3ROpncN-yUfa6uI';
  const byId = Object.fromEntries(xmlVectors.map((v) => [v.id, v]));

  it.each(xmlVectors.map((v) => [v.id, v] as const))('should parse %s with the expected fields', (_id, v) => {
    const fields = parseXml(v.xml);
    for (const [dotted, value] of Object.entries(v.expect)) {
      const got = dotted.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], fields);
      expect(got).toBe(value);
    }
  });

  it('should call the success sample sent with its send_listid', () => {
    const v = byId['sendredpack-success'];
    expect(classifySendAnswer(parseXml(v.xml), { billNo: '0010010404201411170000046545', amountFen: 1, openId: SAMPLE_OPENID })).toEqual({
      status: 'sent',
      sendListId: '100000000020150520314766074200',
    });
  });

  it('should not call a success answer for another bill sent', () => {
    const fields = parseXml(byId['sendredpack-success'].xml);
    expect(classifySendAnswer(fields, { billNo: '0010010404201411170000046546', amountFen: 1, openId: SAMPLE_OPENID })).toMatchObject({ status: 'uncertain' });
  });

  it('should call a success answer with another total_amount or re_openid a bill-number collision, never sent', () => {
    const fields = parseXml(byId['sendredpack-success'].xml);
    const bill = '0010010404201411170000046545';
    expect(classifySendAnswer(fields, { billNo: bill, amountFen: 2, openId: SAMPLE_OPENID })).toEqual({
      status: 'collision',
      code: 'BILLNO_COLLISION',
      message: 'the answer for this mch_billno says total_amount 1, not 2',
    });
    expect(classifySendAnswer(fields, { billNo: bill, amountFen: 1, openId: 'oSomebodyElse0001' })).toEqual({
      status: 'collision',
      code: 'BILLNO_COLLISION',
      message: `the answer for this mch_billno says re_openid ${SAMPLE_OPENID}, not oSomebodyElse0001`,
    });
  });

  it('should call FATAL_ERROR (bill number used with other parameters) a collision, not a failure', () => {
    const answer = { return_code: 'SUCCESS', result_code: 'FAIL', err_code: 'FATAL_ERROR', err_code_des: 'openid和原始单参数不一致' };
    expect(classifySendAnswer(answer, { billNo: 'x', amountFen: 1, openId: SAMPLE_OPENID })).toMatchObject({ status: 'collision', code: 'BILLNO_COLLISION' });
  });

  it('should call the legacy numeric failure uncertain (same bill number later)', () => {
    const v = byId['sendredpack-failure-numeric-errcode'];
    expect(classifySendAnswer(parseXml(v.xml), { billNo: '0010010404201411170000046542', amountFen: 1, openId: SAMPLE_OPENID })).toMatchObject({
      status: 'uncertain',
      code: '268458547',
    });
  });

  it("should call SENDNUM_LIMIT failed with WeChat's reason", () => {
    const v = byId['sendredpack-SENDNUM_LIMIT'];
    expect(classifySendAnswer(parseXml(v.xml), { billNo: '20190621175230', amountFen: 3000, openId: 'oq5lv5vSyLcFDE5CJbxa_2c_8wAw' })).toEqual({
      status: 'failed',
      code: 'SENDNUM_LIMIT',
      message: expect.stringContaining('超过限制'),
    });
  });

  it('should call answers without codes uncertain', () => {
    expect(classifySendAnswer({}, { billNo: 'x', amountFen: 1, openId: SAMPLE_OPENID })).toMatchObject({ status: 'uncertain', code: 'UNPARSEABLE' });
    expect(classifySendAnswer({ return_code: 'FAIL', return_msg: 'busy' }, { billNo: 'x', amountFen: 1, openId: SAMPLE_OPENID })).toMatchObject({
      status: 'uncertain',
      code: 'RETURN_FAIL',
    });
  });

  it('should read the RECEIVED query sample with its hblist', () => {
    const v = byId['gethbinfo-received'];
    expect(parseQueryAnswer(parseXml(v.xml), '1473919402201801230145075410')).toEqual({
      status: 'found',
      info: {
        billNo: '1473919402201801230145075410',
        detailId: '1000041701201801233000139830103',
        status: 'RECEIVED',
        totalAmountFen: 100,
        hbType: 'NORMAL',
        totalNum: 1,
        sendTime: '2018-01-23 13:45:08',
        receivedBy: [{ openId: 'o3yHF0uHuckI3yE6lwWiFQBQdVDI', amountFen: 100, receivedAt: '2018-01-23 13:45:31' }],
      },
    });
  });

  it('should read NOT_FOUND as not_found', () => {
    expect(parseQueryAnswer(parseXml(byId['gethbinfo-not-found'].xml), '1617334655bac')).toEqual({ status: 'not_found' });
  });

  it('should refuse an unknown status or another bill number', () => {
    const fields = parseXml(byId['gethbinfo-received'].xml);
    expect(parseQueryAnswer({ ...fields, status: 'REFUNDING' }, '1473919402201801230145075410')).toMatchObject({ status: 'error', code: 'UNKNOWN_STATUS' });
    expect(parseQueryAnswer(fields, '1473919402201801230145075411')).toMatchObject({ status: 'error', code: 'BILLNO_MISMATCH' });
  });
});

describe('buildSendFields', () => {
  const base = {
    kind: 'normal' as const,
    billNo: '1900000109202611240000000001',
    openId: 'oTest000000000000000000001',
    amountFen: 100,
    totalNum: 1,
    sendName: 'shop',
    wishing: 'hi',
    actName: 'act',
    remark: 'r',
  };
  const ctx = { mchId: '1900000109', wxappid: 'wx0000sandbox0000', clientIp: '127.0.0.1' };

  it("should send the client's appid by default", () => {
    expect((buildSendFields(base, ctx) as Record<string, string>).wxappid).toBe('wx0000sandbox0000');
  });

  it("should send a campaign's own wxappid when it has one", () => {
    expect((buildSendFields({ ...base, wxAppId: 'wx1111campaign1111' }, ctx) as Record<string, string>).wxappid).toBe('wx1111campaign1111');
  });
});
