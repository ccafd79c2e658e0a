import https from 'node:https';
import { faultsFromFlags } from '../../src/cli/commands/sandbox';
import { SANDBOX_CREDENTIALS } from '../../src/config/settings';
import { signPayV2 } from '../../src/pay/sign';
import { startPaySandbox, SANDBOX_PAY_CERTS, type PaySandbox } from '../../src/sandbox/pay-server';
import { buildXml, parseXml } from '../../src/wechat/xml';
import fs from 'node:fs';

function send(pay: PaySandbox, billNo: string): Promise<Record<string, unknown>> {
  const f: Record<string, string> = {
    nonce_str: 'n1', mch_billno: billNo, mch_id: SANDBOX_CREDENTIALS.mchId, wxappid: SANDBOX_CREDENTIALS.appId,
    send_name: 'Shop', re_openid: 'o-alice-0001', total_amount: '100', total_num: '1', wishing: 'hi', client_ip: '127.0.0.1', act_name: 'a', remark: 'r',
  };
  f.sign = signPayV2(f, SANDBOX_CREDENTIALS.payKey, 'MD5');
  return new Promise((resolve, reject) => {
    const req = https.request(`${pay.url}/mmpaymkttransfers/sendredpack`, {
      method: 'POST', ca: pay.ca, cert: fs.readFileSync(SANDBOX_PAY_CERTS.clientCert), key: fs.readFileSync(SANDBOX_PAY_CERTS.clientKey),
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(parseXml(Buffer.concat(chunks).toString('utf8'))));
    });
    req.on('error', reject);
    req.end(buildXml(f));
  });
}

describe('sandbox serve fault flags', () => {
  it('maps each flag to its fault', () => {
    expect(faultsFromFlags({ systemErrorRate: '1', timeoutRate: '0.1', resetRate: '0', http5xxRate: '0.2', paidShare: '1', latencyMs: '5', errCode: 'NOTENOUGH' })).toEqual({
      systemErrorRate: 1, timeoutRate: 0.1, resetRate: 0, http5xxRate: 0.2, paidShare: 1, latencyMs: 5, errCode: 'NOTENOUGH',
    });
    expect(faultsFromFlags({})).toEqual({});
  });

  it('refuses a bad value, naming the flag', () => {
    expect(() => faultsFromFlags({ systemErrorRate: '1.5' })).toThrow(/--system-error-rate "1.5" is not a rate/);
    expect(() => faultsFromFlags({ timeoutRate: '' })).toThrow(/--timeout-rate/);
    expect(() => faultsFromFlags({ latencyMs: '-1' })).toThrow(/--latency-ms/);
    expect(() => faultsFromFlags({ errCode: 'x<y' })).toThrow(/--err-code/);
  });

  it('a SYSTEMERROR rate of 1 makes every send answer SYSTEMERROR', async () => {
    const pay = await startPaySandbox();
    try {
      pay.faults.set(faultsFromFlags({ systemErrorRate: '1', paidShare: '0' }));
      for (const bill of ['1900000109202612020000000001', '1900000109202612020000000002']) {
        const answer = await send(pay, bill);
        expect(answer.err_code).toBe('SYSTEMERROR');
      }
      expect(pay.payments.size).toBe(0);
    } finally {
      await pay.close();
    }
  });
});
