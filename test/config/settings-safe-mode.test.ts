import { loadSettings, SettingsError } from '../../src/config/settings';

const AES_KEY = 'kT9sQ2vX7mB4nR1pL6wZ3yC8dF5gH0jK2aE4uI7oP1s';

describe('loadSettings: WECHAT_SAFE_MODE_ONLY', () => {
  it.each([
    ['off without an AES key', {}, false],
    ['on by default with an AES key', { WECHAT_ENCODING_AES_KEY: AES_KEY }, true],
    ['off with an AES key when set to 0 (switching modes)', { WECHAT_ENCODING_AES_KEY: AES_KEY, WECHAT_SAFE_MODE_ONLY: '0' }, false],
    ['on when set to 1 with an AES key', { WECHAT_ENCODING_AES_KEY: AES_KEY, WECHAT_SAFE_MODE_ONLY: '1' }, true],
  ])('should be %s', (_what, env, expected) => {
    expect(loadSettings(env, '/tmp').wechat.safeModeOnly).toBe(expected);
  });

  it('should refuse WECHAT_SAFE_MODE_ONLY=1 without an AES key, naming the variable', () => {
    expect(() => loadSettings({ WECHAT_SAFE_MODE_ONLY: '1' }, '/tmp')).toThrow(SettingsError);
    expect(() => loadSettings({ WECHAT_SAFE_MODE_ONLY: '1' }, '/tmp')).toThrow(/^WECHAT_SAFE_MODE_ONLY: needs WECHAT_ENCODING_AES_KEY/);
  });

  it('should refuse a value that is not a boolean', () => {
    expect(() => loadSettings({ WECHAT_ENCODING_AES_KEY: AES_KEY, WECHAT_SAFE_MODE_ONLY: 'maybe' }, '/tmp')).toThrow(/WECHAT_SAFE_MODE_ONLY/);
  });
});
