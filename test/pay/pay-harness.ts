/**
 * Test harness: a real pay sandbox on loopback plus a client with the sandbox merchant certificate.
 */
import { SANDBOX_CREDENTIALS } from '../../src/config/settings';
import { createPayClient, loadMerchantCert, type PayClient, type PayClientOptions } from '../../src/pay/client';
import { createRedpackApi, type RedpackApiOptions } from '../../src/pay/redpack';
import type { RedpackApi, RedpackRequest } from '../../src/pay/types';
import { startPaySandbox, SANDBOX_PAY_CERTS, type PaySandbox, type PaySandboxOptions } from '../../src/sandbox/pay-server';

export interface PayHarness {
  sandbox: PaySandbox;
  client: PayClient;
  redpacks: RedpackApi;
  close(): Promise<void>;
}

export async function startPayHarness(opts: { sandbox?: PaySandboxOptions; client?: Partial<PayClientOptions>; redpack?: RedpackApiOptions } = {}): Promise<PayHarness> {
  const sandbox = await startPaySandbox({ seed: 42, ...opts.sandbox });
  const client = createPayClient({ ...payClientOptionsFor(sandbox), ...opts.client });
  const redpacks = createRedpackApi(client, opts.redpack);
  return {
    sandbox,
    client,
    redpacks,
    close: async () => {
      client.close();
      await sandbox.close();
    },
  };
}

/** Options for a real mutual-TLS client of `sandbox` (2 s timeout). */
export function payClientOptionsFor(sandbox: PaySandbox): PayClientOptions {
  return {
    mchId: sandbox.mchId,
    key: sandbox.key,
    appId: SANDBOX_CREDENTIALS.appId,
    baseUrl: sandbox.url,
    clientIp: '127.0.0.1',
    cert: loadMerchantCert({ certPath: SANDBOX_PAY_CERTS.p12, mchId: sandbox.mchId }),
    ca: sandbox.ca,
    timeoutMs: 2000,
  };
}

let counter = 0;

/** A fresh 28-character bill number: mch_id + yyyymmdd + 10 digits. */
export function newBillNo(): string {
  counter += 1;
  return `${SANDBOX_CREDENTIALS.mchId}20260101${String(counter).padStart(10, '0')}`;
}

export function redpackRequest(overrides: Partial<RedpackRequest> = {}): RedpackRequest {
  return {
    kind: 'normal',
    billNo: newBillNo(),
    openId: 'oSandboxFollower0000000000001',
    amountFen: 100,
    totalNum: 1,
    sendName: '沙盒商户',
    wishing: '恭喜发财，大吉大利',
    actName: '关注有礼',
    remark: '感谢关注',
    ...overrides,
  };
}

/** The error a promise rejects with; fails the test when it resolves. */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}
