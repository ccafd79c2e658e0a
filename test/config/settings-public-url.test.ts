/**
 * BOT_PUBLIC_URL (the console's Secure cookies) is checked like every other URL setting.
 */
import { loadSettings, SettingsError } from '../../src/config/settings';

describe('BOT_PUBLIC_URL', () => {
  it('should be unset by default and keep an http(s) URL without its trailing slash', () => {
    expect(loadSettings({}).publicUrl).toBeUndefined();
    expect(loadSettings({ BOT_PUBLIC_URL: 'https://bot.example.com/' }).publicUrl).toBe('https://bot.example.com');
  });

  it('should refuse what is not an http(s) URL', () => {
    expect(() => loadSettings({ BOT_PUBLIC_URL: 'bot.example.com' })).toThrow(SettingsError);
    expect(() => loadSettings({ BOT_PUBLIC_URL: 'ftp://bot.example.com' })).toThrow('BOT_PUBLIC_URL: "ftp://bot.example.com" is not an http(s) URL');
  });
});
