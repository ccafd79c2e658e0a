import { WeChatApiError } from '../../src/api/errors';
import { caught, startHarness, type Harness } from './helpers/api-harness';

describe('api.user.info', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('should return a follower, a former follower and refuse a stranger', async () => {
    h = await startHarness();
    h.sandbox.follow('o_fan', Date.parse('2026-01-02T03:04:05Z'));
    await expect(h.api.user.info('o_fan')).resolves.toMatchObject({ subscribe: 1, openid: 'o_fan', subscribe_time: Date.parse('2026-01-02T03:04:05Z') / 1000 });
    h.sandbox.unfollow('o_fan');
    await expect(h.api.user.info('o_fan')).resolves.toMatchObject({ subscribe: 0, openid: 'o_fan' });
    const err = (await caught(() => h.api.user.info('o_stranger'))) as WeChatApiError;
    expect(err.errcode).toBe(40003);
    await expect(h.api.user.info('')).rejects.toThrow(TypeError);
  });
});
