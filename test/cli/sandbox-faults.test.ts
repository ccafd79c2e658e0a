import { faultsFromFlags } from '../../src/cli/commands/sandbox';
import { startPaySandbox } from '../../src/sandbox/pay-server';
import { sendRedpack } from '../helpers/send-redpack';

describe('sandbox serve fault flags', () => {
  it('maps each flag to its fault', () => {
    expect(
      faultsFromFlags({ systemErrorRate: '1', timeoutRate: '0.1', resetRate: '0', http5xxRate: '0.2', paidShare: '1', latencyMs: '5', errCode: 'NOTENOUGH' }),
    ).toEqual({
      systemErrorRate: 1,
      timeoutRate: 0.1,
      resetRate: 0,
      http5xxRate: 0.2,
      paidShare: 1,
      latencyMs: 5,
      errCode: 'NOTENOUGH',
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
        const answer = await sendRedpack(pay, bill, 'o-alice-0001');
        expect(answer.err_code).toBe('SYSTEMERROR');
      }
      expect(pay.payments.size).toBe(0);
    } finally {
      await pay.close();
    }
  });
});
