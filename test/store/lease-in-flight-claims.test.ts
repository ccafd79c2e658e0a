/**
 * leaseInFlightClaims: an in-flight claim lives only for its lease (so a claim left by a dead
 * instance stops blocking WeChat's next retry), a completed one for the full TTL.
 */
import { fixedClock } from '../../src/lib/clock';
import { leaseInFlightClaims } from '../../src/store/lease-in-flight-claims';
import { createMemoryStore } from '../../src/store/memory';

function setup() {
  const clock = fixedClock(1_700_000_000_000);
  const store = createMemoryStore({ clock });
  return { clock, inner: store.dedupe, dedupe: leaseInFlightClaims(store.dedupe, { seconds: 4.5 }) };
}

describe('leaseInFlightClaims', () => {
  it('should let a new claim win once the in-flight lease of an abandoned claim has run out', async () => {
    const { clock, dedupe } = setup();
    expect(await dedupe.claim('m1', 600)).toEqual({ state: 'new' });
    clock.advance(4_400);
    expect(await dedupe.claim('m1', 600)).toEqual({ state: 'in-flight' });
    clock.advance(200);
    expect(await dedupe.peek('m1')).toBeUndefined();
    expect(await dedupe.claim('m1', 600)).toEqual({ state: 'new' });
  });

  it('should keep a completed reply for the full TTL the caller asked for', async () => {
    const { clock, dedupe } = setup();
    await dedupe.claim('m2', 600);
    await dedupe.complete('m2', '<xml>first</xml>', 600);
    clock.advance(599_000);
    expect(await dedupe.claim('m2', 600)).toEqual({ state: 'done', reply: '<xml>first</xml>' });
    clock.advance(2_000);
    expect(await dedupe.claim('m2', 600)).toEqual({ state: 'new' });
  });

  it('should keep a TTL shorter than the lease as it is', async () => {
    const { clock, dedupe } = setup();
    await dedupe.claim('m3', 1);
    clock.advance(1_001);
    expect(await dedupe.claim('m3', 600)).toEqual({ state: 'new' });
  });

  it('should pass release through to the wrapped store', async () => {
    const { dedupe, inner } = setup();
    await dedupe.claim('m4', 600);
    await dedupe.release('m4');
    expect(await inner.peek('m4')).toBeUndefined();
  });

  it('should throw when built without a store or with a lease that is not a positive number', () => {
    const { inner } = setup();
    expect(() => leaseInFlightClaims(undefined as never, { seconds: 1 })).toThrow('leaseInFlightClaims: store must be a DedupeStore');
    for (const seconds of [0, -1, Number.NaN, Infinity, '4' as unknown as number])
      expect(() => leaseInFlightClaims(inner, { seconds })).toThrow('leaseInFlightClaims: seconds must be a finite number > 0');
  });
});
