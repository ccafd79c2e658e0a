import { fixedClock } from '../../src/lib/clock';
import { createMemoryStore, MemoryDedupeStore } from '../../src/store/memory';
import { runStoreContract } from './contract';

runStoreContract('createMemoryStore', async (clock) => createMemoryStore({ clock }), undefined, { clockExpiry: true });

describe('createMemoryStore', () => {
  it('should reject a clock without now()', () => {
    expect(() => createMemoryStore({ clock: {} as never })).toThrow(TypeError);
  });

  it('should keep two stores apart (no shared state between instances)', async () => {
    const clock = fixedClock(0);
    const a = createMemoryStore({ clock });
    const b = createMemoryStore({ clock });
    await a.kv.set('k', 'v');
    expect(await b.kv.get('k')).toBeUndefined();
    expect(a.backends).toEqual({});
  });

  it('should forget expired messages as new ones arrive, not keep every message ever seen', async () => {
    const clock = fixedClock(0);
    const dedupe = new MemoryDedupeStore(clock);
    for (let i = 0; i < 5000; i++) {
      await dedupe.claim(`m${i}`, 600);
      await dedupe.complete(`m${i}`, 'reply', 600);
      clock.advance(1000); // one message a second
    }
    // Only the last ten minutes remain (600 messages, give or take the one being swept).
    expect(dedupe.size).toBeLessThanOrEqual(601);
    expect(await dedupe.peek('m4999')).toEqual({ state: 'done', reply: 'reply' });
    expect(await dedupe.peek('m0')).toBeUndefined();
  });

  it('should keep a completed reply for its own ttl even when the claim was shorter', async () => {
    const clock = fixedClock(0);
    const dedupe = new MemoryDedupeStore(clock);
    await dedupe.claim('a', 5);
    await dedupe.complete('a', 'first', 600);
    clock.advance(10_000);
    await dedupe.claim('b', 5); // a write sweeps: the claim's queue entry of 'a' is past, its entry is not
    expect(await dedupe.peek('a')).toEqual({ state: 'done', reply: 'first' });
  });
});
