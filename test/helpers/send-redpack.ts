/** Signed WeChat Pay v2 calls to a Pay sandbox (in-process or another process), as the bot's client sends them. */
import fs from 'node:fs';
import https from 'node:https';
import { SANDBOX_CREDENTIALS } from '../../src/config/settings';
import { signPayV2 } from '../../src/pay/sign';
import { SANDBOX_PAY_CERTS } from '../../src/sandbox/pay-server';
import { buildXml, parseXml } from '../../src/wechat/xml';

const MCH = SANDBOX_CREDENTIALS.mchId;

/** Where a Pay sandbox listens and the CA of its certificate. */
export interface PayTarget {
  url: string;
  ca: Buffer;
}

/** Sends `body` as it is to `path` with the merchant certificate (no signing): the status and the answer's text. */
export function rawPost(pay: PayTarget, path: string, body: string, method = 'POST'): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${pay.url}${path}`,
      {
        method,
        ca: pay.ca,
        cert: fs.readFileSync(SANDBOX_PAY_CERTS.clientCert),
        key: fs.readFileSync(SANDBOX_PAY_CERTS.clientKey),
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Signs `fields` (MD5) and posts them to `/mmpaymkttransfers/ENDPOINT` with the merchant certificate. */
export async function postPay(pay: PayTarget, endpoint: string, fields: Record<string, string>): Promise<Record<string, unknown>> {
  const f = { nonce_str: 'n1', ...fields };
  const body = buildXml({ ...f, sign: signPayV2(f, SANDBOX_CREDENTIALS.payKey, 'MD5') });
  return parseXml((await rawPost(pay, `/mmpaymkttransfers/${endpoint}`, body)).text);
}

/** One sendredpack of 1.00 yuan. */
export function sendRedpack(pay: PayTarget, billNo: string, openId = 'oControlFollower1'): Promise<Record<string, unknown>> {
  return postPay(pay, 'sendredpack', {
    mch_billno: billNo,
    mch_id: MCH,
    wxappid: SANDBOX_CREDENTIALS.appId,
    send_name: 'Shop',
    re_openid: openId,
    total_amount: '100',
    total_num: '1',
    wishing: 'hi',
    client_ip: '127.0.0.1',
    act_name: 'a',
    remark: 'r',
  });
}

/** gethbinfo of one bill. */
export function queryRedpack(pay: PayTarget, billNo: string): Promise<Record<string, unknown>> {
  return postPay(pay, 'gethbinfo', { mch_billno: billNo, mch_id: MCH, appid: SANDBOX_CREDENTIALS.appId, bill_type: 'MCHT' });
}
