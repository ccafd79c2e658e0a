import { withClosing } from '../../src/lib/with-closing';

describe('withClosing', () => {
  function resource() {
    const r = { closed: 0, close: async () => void (r.closed += 1) };
    return r;
  }

  it('should give back what fn returns and close the resource once, after fn', async () => {
    const r = resource();
    let closedDuringFn = -1;
    await expect(
      withClosing(
        async () => r,
        async (x) => ((closedDuringFn = x.closed), 'done'),
      ),
    ).resolves.toBe('done');
    expect([closedDuringFn, r.closed]).toEqual([0, 1]);
  });

  it('should close the resource when fn throws, and pass the error on', async () => {
    const r = resource();
    await expect(
      withClosing(
        async () => r,
        async () => Promise.reject(new Error('boom')),
      ),
    ).rejects.toThrow('boom');
    expect(r.closed).toBe(1);
  });

  it('should not run fn when opening fails', async () => {
    let ran = false;
    await expect(
      withClosing(
        async () => Promise.reject(new Error('no db')),
        async () => void (ran = true),
      ),
    ).rejects.toThrow('no db');
    expect(ran).toBe(false);
  });
});
