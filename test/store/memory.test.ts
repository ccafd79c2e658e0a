import { fixedClock } from '../../src/lib/clock';
import { createMemoryStore } from '../../src/store/memory';
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
});
