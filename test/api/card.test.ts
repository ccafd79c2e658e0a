import { SANDBOX_OK } from '../../src/sandbox/api-server';
import { startHarness, type Harness } from './helpers/api-harness';

describe('api.card.post', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('should POST to /card/<path> with the token, through a route the card issue adds to the sandbox', async () => {
    h = await startHarness();
    const seen: unknown[] = [];
    h.sandbox.route('POST', '/card/code/get', (req, sandbox) => {
      seen.push(req.json());
      expect(sandbox.isTokenValid(req.query.get('access_token') ?? '')).toBe(true);
      return { ...SANDBOX_OK, openid: 'o_holder', can_consume: true };
    });
    const res = await h.api.card.post<{ openid: string }>('code/get', { code: '110201201245', check_consume: true });
    expect(res.openid).toBe('o_holder');
    expect(seen).toEqual([{ code: '110201201245', check_consume: true }]);
    expect(() => h.api.card.post('', {})).toThrow(TypeError);
  });
});
