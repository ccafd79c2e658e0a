/**
 * `sandbox payments | receive | refund-unclaimed | faults` against a real sandbox found through its
 * data/sandbox.json, and what they say when no sandbox runs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildProgram } from '../../src/cli/main';
import { runSandboxFaults, runSandboxPayments, runSandboxReceive, runSandboxRefundUnclaimed } from '../../src/cli/commands/sandbox-control';
import { faultsFromFlags } from '../../src/cli/commands/sandbox';
import { SANDBOX_CREDENTIALS } from '../../src/config/settings';
import { startSandboxControl, type SandboxControl } from '../../src/sandbox/control-server';
import { startPaySandbox, type PaySandbox } from '../../src/sandbox/pay-server';
import { sandboxInfoFile, writeSandboxInfo } from '../../src/sandbox/sandbox-info';
import { sendRedpack } from '../helpers/send-redpack';

const MCH = SANDBOX_CREDENTIALS.mchId;
const BILL = `${MCH}202612030000000011`;

function captureIo() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

describe('sandbox control commands', () => {
  let dataDir: string;
  let pay: PaySandbox;
  let control: SandboxControl;
  beforeEach(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wechat-bot-sandbox-cli-'));
    pay = await startPaySandbox({ balanceFen: 10_000 });
    control = await startSandboxControl({ pay });
    writeSandboxInfo(sandboxInfoFile(dataDir), { pid: process.pid, api: 'http://127.0.0.1:1', pay: pay.url, control: control.url, token: control.token });
  });
  afterEach(async () => {
    await control.close();
    await pay.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('should write sandbox.json for the owner only', () => {
    expect(fs.statSync(sandboxInfoFile(dataDir)).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dataDir)).toEqual(['sandbox.json']);
  });

  it('payments: should print bill, openid, amount, times paid and state, or JSON', async () => {
    let c = captureIo();
    expect(await runSandboxPayments({}, c.io, { dataDir })).toBe(0);
    expect(c.out).toEqual(['no red packets paid by this sandbox yet']);
    await sendRedpack(pay, BILL);
    await sendRedpack(pay, BILL);
    c = captureIo();
    expect(await runSandboxPayments({}, c.io, { dataDir })).toBe(0);
    expect(c.out[0].split('\n')).toEqual([
      'BILL NUMBER                   OPENID             AMOUNT  TIMES PAID  STATE',
      `${BILL}  oControlFollower1  1.00    1           SENT`,
    ]);
    expect(c.out[1]).toBe('1 bill(s), 1 payment(s)');
    c = captureIo();
    expect(await runSandboxPayments({ json: true }, c.io, { dataDir })).toBe(0);
    expect(JSON.parse(c.out[0])).toEqual([expect.objectContaining({ billNo: BILL, openId: 'oControlFollower1', amountFen: 100, timesPaid: 1, status: 'SENT' })]);
  });

  it('receive: should open a SENT packet, and exit 1 with a clear message for an unknown bill', async () => {
    await sendRedpack(pay, BILL);
    let c = captureIo();
    expect(await runSandboxReceive(BILL, c.io, { dataDir })).toBe(0);
    expect(c.out).toEqual([`received: ${BILL} (1.00 to oControlFollower1) is now RECEIVED`]);
    expect(pay.payments.get(BILL)!.status).toBe('RECEIVED');
    c = captureIo();
    expect(await runSandboxReceive('1900000109202612039999999999', c.io, { dataDir })).toBe(1);
    expect(c.err).toEqual(['sandbox refused (HTTP 404): no red packet with bill number 1900000109202612039999999999 in this sandbox']);
  });

  it('refund-unclaimed: should say how many, and exit 1 saying so when there were none', async () => {
    let c = captureIo();
    expect(await runSandboxRefundUnclaimed({}, c.io, { dataDir })).toBe(1);
    expect(c.err).toEqual(['nothing refunded: no unclaimed (SENT or RFUND_ING) red packet']);
    await sendRedpack(pay, BILL);
    c = captureIo();
    expect(await runSandboxRefundUnclaimed({ olderThanMinutes: '60' }, c.io, { dataDir })).toBe(1);
    expect(c.err).toEqual(['nothing refunded: no unclaimed (SENT or RFUND_ING) red packet older than 60 minute(s)']);
    c = captureIo();
    expect(await runSandboxRefundUnclaimed({}, c.io, { dataDir })).toBe(0);
    expect(c.out).toEqual([`refunded 1 unclaimed red packet(s): ${BILL}`]);
    expect(pay.payments.get(BILL)!.status).toBe('REFUND');
    c = captureIo();
    expect(await runSandboxRefundUnclaimed({ olderThanMinutes: 'soon' }, c.io, { dataDir })).toBe(1);
    expect(c.err[0]).toMatch(/--older-than-minutes "soon"/);
  });

  it('faults: should change the running sandbox and print the faults in force', async () => {
    let c = captureIo();
    expect(await runSandboxFaults({ faults: faultsFromFlags({ systemErrorRate: '1', paidShare: '0' }) }, c.io, { dataDir })).toBe(0);
    expect(c.out).toEqual(['faults set: {"systemErrorRate":1,"paidShare":0}']);
    expect((await sendRedpack(pay, BILL)).err_code).toBe('SYSTEMERROR');
    c = captureIo();
    expect(await runSandboxFaults({ faults: faultsFromFlags({ processingRate: '1', processingFailShare: '1' }), clear: true }, c.io, { dataDir })).toBe(0);
    expect(c.out).toEqual(['faults set: {"processingRate":1,"processingFailShare":1}']);
    c = captureIo();
    expect(await runSandboxFaults({ faults: {} }, c.io, { dataDir })).toBe(0);
    expect(c.out).toEqual(['faults in force: {"processingRate":1,"processingFailShare":1}']);
    c = captureIo();
    expect(await runSandboxFaults({ faults: {}, clear: true }, c.io, { dataDir })).toBe(0);
    expect(c.out).toEqual(['faults set: none']);
  });

  it('should refuse with the token changed (the sandbox answers 401)', async () => {
    writeSandboxInfo(sandboxInfoFile(dataDir), { pid: process.pid, api: 'http://127.0.0.1:1', pay: pay.url, control: control.url, token: 'y'.repeat(43) });
    const c = captureIo();
    expect(await runSandboxPayments({}, c.io, { dataDir })).toBe(1);
    expect(c.err[0]).toMatch(/^sandbox refused \(HTTP 401\): missing or wrong token/);
  });

  it('should name the file it looked for and how to start a sandbox when none runs', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'wechat-bot-sandbox-none-'));
    try {
      for (const runOne of [
        (io: ReturnType<typeof captureIo>['io']) => runSandboxPayments({}, io, { dataDir: empty }),
        (io: ReturnType<typeof captureIo>['io']) => runSandboxReceive(BILL, io, { dataDir: empty }),
        (io: ReturnType<typeof captureIo>['io']) => runSandboxRefundUnclaimed({}, io, { dataDir: empty }),
        (io: ReturnType<typeof captureIo>['io']) => runSandboxFaults({ faults: {} }, io, { dataDir: empty }),
      ]) {
        const c = captureIo();
        expect(await runOne(c.io)).toBe(1);
        expect(c.err).toEqual([expect.stringContaining(`no running sandbox: looked for ${path.join(empty, 'sandbox.json')}`)]);
        expect(c.err[0]).toContain('npx wechat-bot sandbox');
      }
      // a file left by a process that is gone counts as none
      writeSandboxInfo(sandboxInfoFile(empty), {
        pid: 2 ** 22 + 12345,
        api: 'http://127.0.0.1:1',
        pay: 'https://127.0.0.1:1',
        control: control.url,
        token: control.token,
      });
      const c = captureIo();
      expect(await runSandboxPayments({}, c.io, { dataDir: empty })).toBe(1);
      expect(c.err[0]).toMatch(/no running sandbox/);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('sandbox command help', () => {
  it('should describe every sandbox subcommand', () => {
    const sandbox = buildProgram().commands.find((c) => c.name() === 'sandbox')!;
    const names = sandbox.commands.map((c) => c.name());
    expect(names).toEqual(expect.arrayContaining(['serve', 'payments', 'receive', 'refund-unclaimed', 'faults', 'pay']));
    for (const c of sandbox.commands) expect(c.description()).not.toBe('');
    const faults = sandbox.commands.find((c) => c.name() === 'faults')!.helpInformation();
    for (const flag of [
      '--system-error-rate',
      '--timeout-rate',
      '--reset-rate',
      '--http5xx-rate',
      '--paid-share',
      '--latency-ms',
      '--err-code',
      '--processing-fail-share',
      '--clear',
    ])
      expect(faults).toContain(flag);
  });
});
