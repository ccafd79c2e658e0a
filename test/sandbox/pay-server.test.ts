import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SANDBOX_CREDENTIALS } from '../../src/config/settings';
import { fixedClock } from '../../src/lib/clock';
import { createPayClient, loadMerchantCert, type PayClient } from '../../src/pay/client';
import { signPayV2, verifyPayV2 } from '../../src/pay/sign';
import { startPaySandbox, SANDBOX_PAY_CERTS, type PaySandbox } from '../../src/sandbox/pay-server';
import { buildXml, parseXml } from '../../src/wechat/xml';
import { rawPost } from '../helpers/send-redpack';

const MCH = SANDBOX_CREDENTIALS.mchId;
const KEY = SANDBOX_CREDENTIALS.payKey;
const APP = SANDBOX_CREDENTIALS.appId;
const SEND = '/mmpaymkttransfers/sendredpack';
const GROUP = '/mmpaymkttransfers/sendgroupredpack';
const QUERY = '/mmpaymkttransfers/gethbinfo';

let seq = 0;
function billNo(): string {
  seq += 1;
  return `${MCH}20260102${String(seq).padStart(10, '0')}`;
}

function sendFields(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    mch_billno: billNo(),
    mch_id: MCH,
    wxappid: APP,
    send_name: '沙盒商户',
    re_openid: 'oSandboxFollower0001',
    total_amount: '100',
    total_num: '1',
    wishing: '恭喜发财',
    client_ip: '127.0.0.1',
    act_name: '活动',
    remark: '备注',
    ...overrides,
  };
}

function groupFields(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return sendFields({ client_ip: undefined, amt_type: 'ALL_RAND', total_num: '3', total_amount: '300', ...overrides });
}

function clientFor(sandbox: PaySandbox, timeoutMs = 2000): PayClient {
  return createPayClient({
    mchId: MCH,
    key: KEY,
    appId: APP,
    baseUrl: sandbox.url,
    clientIp: '127.0.0.1',
    cert: loadMerchantCert({ certPath: SANDBOX_PAY_CERTS.p12, mchId: MCH }),
    ca: sandbox.ca,
    timeoutMs,
  });
}

describe('startPaySandbox', () => {
  let sandbox: PaySandbox;
  let client: PayClient;
  beforeEach(async () => {
    sandbox = await startPaySandbox({ seed: 3, balanceFen: 100_000 });
    client = clientFor(sandbox);
  });
  afterEach(async () => {
    client.close();
    await sandbox.close();
  });

  it('should refuse options it cannot honour', async () => {
    await expect(startPaySandbox({ host: '0.0.0.0' as '127.0.0.1' })).rejects.toThrow(/127\.0\.0\.1 only/);
    await expect(startPaySandbox({ mchId: 'abc' })).rejects.toThrow(/mchId/);
  });

  it('should listen on loopback https and hand out its CA', () => {
    expect(sandbox.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(sandbox.ca.toString()).toContain('BEGIN CERTIFICATE');
    expect(sandbox.mchId).toBe(MCH);
  });

  it('should answer 404 to other paths and methods', async () => {
    expect((await rawPost(sandbox, '/pay/unifiedorder', '<xml/>')).status).toBe(404);
    expect((await rawPost(sandbox, SEND, '', 'GET')).status).toBe(404);
  });

  it('should answer XML_ERROR to a body that is not XML or is too large', async () => {
    const bad = parseXml((await rawPost(sandbox, SEND, 'mch_id=1900000109')).text);
    expect(bad).toMatchObject({ return_code: 'FAIL', err_code: 'XML_ERROR' });
    const huge = parseXml((await rawPost(sandbox, SEND, `<xml><a>${'x'.repeat(70_000)}</a></xml>`)).text);
    expect(huge.err_code).toBe('XML_ERROR');
  });

  it('should answer SIGN_ERROR to a wrong or unknown-type signature', async () => {
    const f = sendFields() as Record<string, string>;
    const wrong = parseXml((await rawPost(sandbox, SEND, buildXml({ ...f, nonce_str: 'n', sign: signPayV2(f, 'x'.repeat(32)) }))).text);
    expect(wrong).toMatchObject({ return_code: 'FAIL', err_code: 'SIGN_ERROR' });
    const g = { ...f, nonce_str: 'n', sign_type: 'SHA1' };
    const unknown = parseXml((await rawPost(sandbox, SEND, buildXml({ ...g, sign: signPayV2(g, KEY) }))).text);
    expect(unknown.err_code).toBe('SIGN_ERROR');
    expect(sandbox.payments.size).toBe(0);
  });

  it('should answer CA_ERROR when mch_id is not the merchant of the certificate', async () => {
    const answer = await client.request(SEND, sendFields({ mch_id: '1900000999' }));
    expect(answer).toMatchObject({ return_code: 'FAIL', err_code: 'CA_ERROR' });
  });

  it('should sign send answers (MD5) and re-enter with the first result', async () => {
    const f = sendFields();
    const first = await client.request(SEND, f);
    expect(verifyPayV2(first, KEY)).toBe(true);
    expect(first).toMatchObject({ return_code: 'SUCCESS', result_code: 'SUCCESS', mch_billno: f.mch_billno, total_amount: '100' });
    const again = await client.request(SEND, f);
    expect(again.send_listid).toBe(first.send_listid);
    expect(again.send_time).toBe(first.send_time);
    expect(sandbox.payments.get(f.mch_billno!)!.timesPaid).toBe(1);
    expect(sandbox.timesPaidTo(sandbox.payments.get(f.mch_billno!)!.openId)).toBe(1); // money left once for the follower, whatever the bill
    expect(sandbox.balanceFen).toBe(100_000 - 100);
    expect(sandbox.calls.map((c) => c.paid)).toEqual([true, false]);
  });

  it.each([
    ['a missing field', { wishing: undefined }, /wishing is required/],
    ['sub_appid', { sub_appid: APP }, /sub_appid is not a field of sendredpack/],
    ['a too long wishing', { wishing: '福'.repeat(129) }, /wishing is longer than 128/],
    ['a too long send_name', { send_name: 'x'.repeat(33) }, /send_name is longer than 32/],
    ['a bad client_ip', { client_ip: '999.1.1.1' }, /client_ip/],
    ['total_num 2', { total_num: '2' }, /total_num must be 1/],
    ['a bad scene_id', { scene_id: 'PRODUCT_0' }, /scene_id/],
    ['a bad bill number', { mch_billno: 'bill-1' }, /mch_billno/],
    ['msgappid without sub_mch_id', { msgappid: APP }, /only taken with sub_mch_id/],
    ['sub_mch_id without msgappid', { sub_mch_id: '1900000110' }, /msgappid is required/],
    ['amt_type on sendredpack', { amt_type: 'ALL_RAND' }, /amt_type is not a field of sendredpack/],
  ])('should answer PARAM_ERROR to sendredpack with %s', async (_label, overrides, des) => {
    const answer = await client.request(SEND, sendFields(overrides));
    expect(answer).toMatchObject({ return_code: 'SUCCESS', result_code: 'FAIL', err_code: 'PARAM_ERROR' });
    expect(String(answer.err_code_des)).toMatch(des);
    expect(sandbox.payments.size).toBe(0);
  });

  it('should check the signature before refusing sign_type as an undocumented field', async () => {
    const answer = await client.request(SEND, sendFields(), { signType: 'HMAC-SHA256' });
    expect(answer.err_code).toBe('PARAM_ERROR');
    expect(answer.err_code_des).toMatch(/sign_type is not a field/);
  });

  it.each([
    ['client_ip', { client_ip: '127.0.0.1' }, 'PARAM_ERROR'],
    ['total_num 2', { total_num: '2', total_amount: '200' }, 'PARAM_ERROR'],
    ['total_num 21', { total_num: '21', total_amount: '2100' }, 'PARAM_ERROR'],
    ['total_num 25', { total_num: '25', total_amount: '2500' }, 'PARAM_ERROR'],
    ['amt_type ALL_SAME', { amt_type: 'ALL_SAME' }, 'PARAM_ERROR'],
    ['too little money for 3 people', { total_amount: '250' }, 'MONEY_LIMIT'],
  ])('should refuse sendgroupredpack with %s', async (_label, overrides, code) => {
    const answer = await client.request(GROUP, groupFields(overrides));
    expect(answer.err_code).toBe(code);
  });

  it('should accept a valid group packet', async () => {
    const f = groupFields();
    expect(await client.request(GROUP, f)).toMatchObject({ result_code: 'SUCCESS' });
    expect(sandbox.payments.get(f.mch_billno!)).toMatchObject({ endpoint: 'sendgroupredpack', totalNum: 3, amountFen: 300 });
  });

  it.each([
    ['another openid', { re_openid: 'oSomebodyElse0002' }],
    ['another amount', { total_amount: '250' }],
    ['another openid and amount', { re_openid: 'oSomebodyElse0002', total_amount: '250' }],
  ])("should answer a repeated bill with %s with the FIRST packet's result, paying nothing", async (_label, overrides) => {
    const f = sendFields();
    const first = await client.request(SEND, f);
    const balance = sandbox.balanceFen;
    const again = await client.request(SEND, sendFields({ mch_billno: f.mch_billno, ...overrides }));
    expect(again).toMatchObject({
      result_code: 'SUCCESS',
      mch_billno: f.mch_billno,
      re_openid: 'oSandboxFollower0001',
      total_amount: '100',
      send_listid: first.send_listid,
    });
    expect(sandbox.balanceFen).toBe(balance);
    expect(sandbox.payments.get(f.mch_billno!)).toMatchObject({ openId: 'oSandboxFollower0001', amountFen: 100, timesPaid: 1 });
    const query = await client.request(QUERY, { mch_billno: f.mch_billno, mch_id: MCH, appid: APP, bill_type: 'MCHT' });
    expect(query).toMatchObject({ total_amount: '100', hb_type: 'NORMAL', total_num: '1' });
  });

  it("should answer a repeated group bill with the first group's seed user and whole amount", async () => {
    const f = groupFields();
    await client.request(GROUP, f);
    const again = await client.request(GROUP, groupFields({ mch_billno: f.mch_billno, re_openid: 'oSomebodyElse0003', total_amount: '600' }));
    expect(again).toMatchObject({ result_code: 'SUCCESS', re_openid: 'oSandboxFollower0001', total_amount: '300' });
    expect(sandbox.payments.size).toBe(1);
  });

  it('should answer FATAL_ERROR to a repeated bill with other parameters when told to', async () => {
    const strict = await startPaySandbox({ reentryMismatch: 'fatal_error' });
    const c = clientFor(strict);
    try {
      const f = sendFields();
      await c.request(SEND, f);
      expect((await c.request(SEND, sendFields({ mch_billno: f.mch_billno, re_openid: 'oSomebodyElse0002' }))).err_code).toBe('FATAL_ERROR');
      expect((await c.request(SEND, f)).result_code).toBe('SUCCESS');
      expect(strict.payments.size).toBe(1);
    } finally {
      c.close();
      await strict.close();
    }
    await expect(startPaySandbox({ reentryMismatch: 'other' as 'fatal_error' })).rejects.toThrow(/reentryMismatch/);
  });

  it('should answer FATAL_ERROR when a bill of sendredpack is re-sent to sendgroupredpack', async () => {
    const f = sendFields();
    await client.request(SEND, f);
    const answer = await client.request(GROUP, groupFields({ mch_billno: f.mch_billno }));
    expect(answer.err_code).toBe('FATAL_ERROR');
  });

  it('should validate gethbinfo and leave its answers unsigned, with hblist when received', async () => {
    expect((await client.request(QUERY, { mch_billno: billNo(), mch_id: MCH, appid: APP, bill_type: 'USER' })).err_code).toBe('PARAM_ERROR');
    const f = sendFields();
    await client.request(SEND, f);
    expect((await client.request(QUERY, { mch_billno: f.mch_billno, mch_id: MCH, appid: 'wx9999999999999999', bill_type: 'MCHT' })).err_code).toBe('PARAM_ERROR');
    sandbox.receive(f.mch_billno!);
    const answer = await client.request(QUERY, { mch_billno: f.mch_billno, mch_id: MCH, appid: APP, bill_type: 'MCHT' });
    expect(answer.sign).toBeUndefined();
    expect(answer).toMatchObject({ status: 'RECEIVED', hb_type: 'NORMAL', send_type: 'API', hblist: { hbinfo: { openid: f.re_openid, amount: '100' } } });
  });

  it('should refuse to receive unknown or settled packets', async () => {
    expect(() => sandbox.receive('nope')).toThrow(/no red packet/);
    const f = sendFields();
    await client.request(SEND, f);
    sandbox.receive(f.mch_billno!);
    expect(() => sandbox.receive(f.mch_billno!)).toThrow(/RECEIVED, not SENT/);
  });

  it('should record raw calls with their certificate and outcome', async () => {
    await client.request(QUERY, { mch_billno: billNo(), mch_id: MCH, appid: APP, bill_type: 'MCHT' });
    const [call] = sandbox.callsTo('gethbinfo');
    expect(call).toMatchObject({ endpoint: 'gethbinfo', certCn: MCH, outcome: 'NOT_FOUND', paid: false });
    expect(call.fields.sign).toMatch(/^[0-9A-F]{32}$/);
  });

  it('should close even while a request hangs on a timeout fault', async () => {
    const short = clientFor(sandbox, 100);
    sandbox.faults.set({ timeoutRate: 1, paidShare: 0 });
    await expect(short.request(SEND, sendFields())).rejects.toMatchObject({ failure: 'timeout' });
    short.close();
  });

  it('should apply rate faults only to the endpoints named', async () => {
    sandbox.faults.set({ systemErrorRate: 1, endpoints: ['gethbinfo'] });
    expect((await client.request(SEND, sendFields())).result_code).toBe('SUCCESS');
    expect((await client.request(QUERY, { mch_billno: billNo(), mch_id: MCH, appid: APP, bill_type: 'MCHT' })).err_code).toBe('SYSTEMERROR');
    expect(sandbox.faults.get()).toMatchObject({ systemErrorRate: 1 });
  });

  it('should model both "paid, answer lost" and "not paid" for SYSTEMERROR', async () => {
    sandbox.faults.set({ systemErrorRate: 1 });
    for (let i = 0; i < 20; i++) await client.request(SEND, sendFields({ re_openid: `oSysErr${String(i).padStart(6, '0')}` }));
    const paid = sandbox.calls.filter((c) => c.paid).length;
    expect(sandbox.calls.every((c) => c.outcome === 'SYSTEMERROR')).toBe(true);
    expect(paid).toBeGreaterThan(0);
    expect(paid).toBeLessThan(20);
    expect(sandbox.payments.size).toBe(paid);
  });
});

describe('PaySandbox faults', () => {
  async function outcomesFor(seed: number): Promise<string[]> {
    const sandbox = await startPaySandbox({ seed });
    const client = clientFor(sandbox);
    try {
      sandbox.faults.set({ systemErrorRate: 0.5, badSignatureRate: 0.3 });
      for (let i = 0; i < 12; i++) await client.request(SEND, sendFields({ re_openid: `oSeeded${String(i).padStart(6, '0')}` })).catch(() => undefined);
      return sandbox.calls.map((c) => `${c.outcome}:${c.paid}`);
    } finally {
      client.close();
      await sandbox.close();
    }
  }

  it('should repeat the same fault sequence for the same seed', async () => {
    const a = await outcomesFor(11);
    const b = await outcomesFor(11);
    const c = await outcomesFor(12);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(new Set(a.map((x) => x.split(':')[0]))).toEqual(new Set(['SYSTEMERROR', 'BAD_SIGNATURE', 'SUCCESS']));
  });
});

describe('PaySandbox send rate', () => {
  it('should answer FREQ_LIMIT past the merchant rate per minute, pay nothing, and take sends again the next minute', async () => {
    const clock = fixedClock(Date.parse('2026-05-01T12:00:00+08:00'));
    const sandbox = await startPaySandbox({ clock, sendRate: { perMinute: 3 } });
    const client = clientFor(sandbox);
    try {
      const follower = (i: number) => ({ re_openid: `oRateFollower0000${i}` });
      for (let i = 0; i < 3; i++) {
        expect(await client.request(SEND, sendFields(follower(i)))).toMatchObject({ result_code: 'SUCCESS' });
        clock.advance(10_000);
      }
      const over = sendFields(follower(3));
      expect(await client.request(SEND, over)).toMatchObject({ result_code: 'FAIL', err_code: 'FREQ_LIMIT' });
      expect(sandbox.payments.has(over.mch_billno!)).toBe(false);
      clock.advance(30_000); // 12:01:00
      expect(await client.request(SEND, over)).toMatchObject({ result_code: 'SUCCESS' });
    } finally {
      client.close();
      await sandbox.close();
    }
  });
});

describe('PaySandbox.refundUnclaimed', () => {
  it('should refund SENT packets older than the given age and restore the balance', async () => {
    const clock = fixedClock(Date.parse('2026-05-01T12:00:00+08:00'));
    const sandbox = await startPaySandbox({ clock, balanceFen: 1_000 });
    const client = clientFor(sandbox);
    try {
      const old = sendFields();
      await client.request(SEND, old);
      clock.advance(3_600_000);
      const young = sendFields({ re_openid: 'oYoungFollower001' });
      const got = sendFields({ re_openid: 'oReceiver00000001' });
      await client.request(SEND, young);
      await client.request(SEND, got);
      sandbox.receive(got.mch_billno!);
      expect(sandbox.balanceFen).toBe(700);
      expect(sandbox.refundUnclaimed(1_800_000)).toEqual([old.mch_billno]);
      expect(sandbox.payments.get(old.mch_billno!)).toMatchObject({ status: 'REFUND', refundedAt: clock.now() });
      expect(sandbox.payments.get(young.mch_billno!)!.status).toBe('SENT');
      expect(sandbox.payments.get(got.mch_billno!)!.status).toBe('RECEIVED');
      expect(sandbox.balanceFen).toBe(800);
      expect(sandbox.refundUnclaimed(1_800_000)).toEqual([]);
    } finally {
      client.close();
      await sandbox.close();
    }
  });

  it('should turn an unclaimed packet RFUND_ING at refundAfterMs and REFUND refundSettleMs later', async () => {
    const clock = fixedClock(Date.parse('2026-05-01T12:00:00+08:00'));
    const sandbox = await startPaySandbox({ clock, balanceFen: 1_000, refundAfterMs: 60_000, refundSettleMs: 30_000 });
    const client = clientFor(sandbox);
    try {
      const f = sendFields();
      const query = { mch_billno: f.mch_billno, mch_id: MCH, appid: APP, bill_type: 'MCHT' };
      await client.request(SEND, f);
      clock.advance(59_999);
      expect(await client.request(QUERY, query)).toMatchObject({ status: 'SENT' });
      clock.advance(1);
      const refunding = await client.request(QUERY, query);
      expect(refunding).toMatchObject({ status: 'RFUND_ING' });
      expect(refunding.refund_time).toBeUndefined();
      expect(sandbox.balanceFen).toBe(900);
      expect(() => sandbox.receive(f.mch_billno!)).toThrow(/RFUND_ING, not SENT/);
      clock.advance(30_000);
      const answer = await client.request(QUERY, query);
      expect(answer).toMatchObject({ status: 'REFUND', refund_amount: '100', refund_time: '2026-05-01 12:01:30' });
      expect(sandbox.balanceFen).toBe(1_000);
    } finally {
      client.close();
      await sandbox.close();
    }
  });
});

describe('PaySandbox payment counts', () => {
  it('should count each payout per bill and per follower, and not count an idempotent re-send', async () => {
    const sandbox = await startPaySandbox({ balanceFen: 10_000 });
    const client = clientFor(sandbox);
    try {
      const alice = 'oCountAlice000001';
      const first = sendFields({ re_openid: alice });
      await client.request(SEND, first);
      await client.request(SEND, first); // WeChat answers the same bill idempotently: not a payment
      expect(sandbox.payments.get(first.mch_billno!)!.timesPaid).toBe(1);
      expect(sandbox.timesPaidTo(sandbox.payments.get(first.mch_billno!)!.openId)).toBe(1); // money left once for the follower, whatever the bill
      expect(sandbox.timesPaidTo(alice)).toBe(1);
      const second = sendFields({ re_openid: alice }); // a new bill number: a real second payment
      await client.request(SEND, second);
      expect(sandbox.timesPaidTo(alice)).toBe(2);
      expect(sandbox.timesPaidTo('oCountNobody00001')).toBe(0);
      expect(sandbox.balanceFen).toBe(10_000 - 200);
    } finally {
      client.close();
      await sandbox.close();
    }
  });
});

describe('PaySandbox PROCESSING', () => {
  it('should settle a PROCESSING packet FAILED (with reason, money back, not counted) when processingFailShare says so', async () => {
    const sandbox = await startPaySandbox({ balanceFen: 1_000 });
    const client = clientFor(sandbox);
    try {
      sandbox.faults.set({ processingRate: 1, processingFailShare: 1 });
      const f = sendFields({ re_openid: 'oProcessingFail01' });
      expect(await client.request(SEND, f)).toMatchObject({ result_code: 'FAIL', err_code: 'PROCESSING' });
      expect(sandbox.payments.get(f.mch_billno!)).toMatchObject({ status: 'SENDING', timesPaid: 1 });
      sandbox.faults.clear();
      const answer = await client.request(QUERY, { mch_billno: f.mch_billno, mch_id: MCH, appid: APP, bill_type: 'MCHT' });
      expect(answer).toMatchObject({ result_code: 'SUCCESS', status: 'FAILED', reason: '发放失败,此请求可能存在风险,已被微信拦截' });
      expect(sandbox.balanceFen).toBe(1_000);
      expect(sandbox.timesPaidTo('oProcessingFail01')).toBe(0);
      expect(await client.request(SEND, f)).toMatchObject({ result_code: 'FAIL', err_code: 'NO_AUTH' });
      expect(sandbox.balanceFen).toBe(1_000);
    } finally {
      client.close();
      await sandbox.close();
    }
  });

  it('should settle a PROCESSING packet SENT by default', async () => {
    const sandbox = await startPaySandbox();
    const client = clientFor(sandbox);
    try {
      sandbox.faults.set({ processingRate: 1 });
      const f = sendFields();
      expect((await client.request(SEND, f)).err_code).toBe('PROCESSING');
      sandbox.faults.clear();
      expect(await client.request(QUERY, { mch_billno: f.mch_billno, mch_id: MCH, appid: APP, bill_type: 'MCHT' })).toMatchObject({ status: 'SENT' });
    } finally {
      client.close();
      await sandbox.close();
    }
  });
});

describe('PaySandbox documented limits', () => {
  it("should take 30 sends a second by default (the doc's 默认30/秒) and answer the 31st FREQ_LIMIT", async () => {
    const clock = fixedClock(Date.parse('2026-05-01T12:00:00+08:00'));
    const sandbox = await startPaySandbox({ clock });
    const client = clientFor(sandbox);
    try {
      for (let i = 0; i < 30; i++)
        expect((await client.request(SEND, sendFields({ re_openid: `oDefaultRate${String(i).padStart(5, '0')}` }))).result_code).toBe('SUCCESS');
      const over = sendFields({ re_openid: 'oDefaultRate99999' });
      expect(await client.request(SEND, over)).toMatchObject({ result_code: 'FAIL', err_code: 'FREQ_LIMIT' });
      clock.advance(1000);
      expect((await client.request(SEND, over)).result_code).toBe('SUCCESS');
    } finally {
      client.close();
      await sandbox.close();
    }
  });

  it('should answer SENDNUM_LIMIT to the 11th packet of a follower in one Beijing day, and take it the next day', async () => {
    const clock = fixedClock(Date.parse('2026-05-01T12:00:00+08:00'));
    const sandbox = await startPaySandbox({ clock });
    const client = clientFor(sandbox);
    try {
      for (let i = 0; i < 10; i++) {
        expect((await client.request(SEND, sendFields({ re_openid: 'oDailyCount000001' }))).result_code).toBe('SUCCESS');
        clock.advance(1000);
      }
      const over = sendFields({ re_openid: 'oDailyCount000001' });
      expect(await client.request(SEND, over)).toMatchObject({ err_code: 'SENDNUM_LIMIT', err_code_des: expect.stringContaining('该用户今日操作次数超过限制') });
      clock.set(Date.parse('2026-05-02T00:00:00+08:00'));
      expect((await client.request(SEND, over)).result_code).toBe('SUCCESS');
      expect(sandbox.timesPaidTo('oDailyCount000001')).toBe(11);
    } finally {
      client.close();
      await sandbox.close();
    }
  });
});

describe('PaySandbox state file', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pay-sandbox-state-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('should keep bills and balance across a restart: gethbinfo finds the bill, a re-send pays nothing', async () => {
    const stateFile = path.join(dir, 'sandbox-state.json');
    const first = await startPaySandbox({ stateFile, balanceFen: 1_000 });
    let client = clientFor(first);
    const f = sendFields({ re_openid: 'oRestartFollower1' });
    const sent = await client.request(SEND, f);
    client.close();
    await first.close();
    expect(fs.statSync(stateFile).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir)).toEqual(['sandbox-state.json']); // the temp file was renamed

    const second = await startPaySandbox({ stateFile, balanceFen: 1_000 });
    client = clientFor(second);
    try {
      const query = await client.request(QUERY, { mch_billno: f.mch_billno, mch_id: MCH, appid: APP, bill_type: 'MCHT' });
      expect(query).toMatchObject({ result_code: 'SUCCESS', status: 'SENT', total_amount: '100' });
      const again = await client.request(SEND, f);
      expect(again).toMatchObject({ result_code: 'SUCCESS', send_listid: sent.send_listid });
      expect(second.balanceFen).toBe(900);
      expect(second.timesPaidTo('oRestartFollower1')).toBe(1);
      const next = await client.request(SEND, sendFields({ re_openid: 'oRestartFollower2' }));
      expect(next.send_listid).not.toBe(sent.send_listid); // the id sequence goes on
      second.receive(f.mch_billno!);
    } finally {
      client.close();
      await second.close();
    }
    const third = await startPaySandbox({ stateFile });
    try {
      expect(third.payments.get(f.mch_billno!)!.status).toBe('RECEIVED');
      expect(third.payments.size).toBe(2);
    } finally {
      await third.close();
    }
  });

  it("should refuse a state file that is not a sandbox state, or is another merchant's, naming the file", async () => {
    const stateFile = path.join(dir, 'sandbox-state.json');
    fs.writeFileSync(stateFile, '{not json');
    await expect(startPaySandbox({ stateFile })).rejects.toThrow(/sandbox-state\.json is not JSON: move it away/);
    fs.writeFileSync(stateFile, JSON.stringify({ version: 1, mchId: '1900000999', balanceFen: 1, seq: 0, payments: [] }));
    await expect(startPaySandbox({ stateFile })).rejects.toThrow(/belongs to merchant 1900000999/);
    fs.writeFileSync(stateFile, '{}');
    await expect(startPaySandbox({ stateFile })).rejects.toThrow(/not a Pay sandbox state/);
  });
});
