import { createMemoryStore } from '../../src/store/memory';
import { fixedClock } from '../../src/lib/clock';

describe('createMemoryStore', () => {
  it('should expire keys by the injected clock', async () => {
    const clock = fixedClock(0);
    const store = createMemoryStore({ clock });
    await store.kv.set('a', '1', 10);
    expect(await store.kv.get('a')).toBe('1');
    clock.advance(10_000);
    expect(await store.kv.get('a')).toBeUndefined();
  });
});
