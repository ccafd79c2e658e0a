/**
 * LOG_LEVEL is checked like every other setting (src/config/settings.ts).
 */
import { LOG_LEVELS, loadSettings, SettingsError } from '../../src/config/settings';

describe('LOG_LEVEL', () => {
  it('should default to info and accept every pino level, in any case', () => {
    expect(loadSettings({}).logLevel).toBe('info');
    for (const level of LOG_LEVELS) expect(loadSettings({ LOG_LEVEL: level.toUpperCase() }).logLevel).toBe(level);
  });

  it('should refuse an unknown level, naming the allowed ones', () => {
    expect(() => loadSettings({ LOG_LEVEL: 'verbose' })).toThrow(SettingsError);
    expect(() => loadSettings({ LOG_LEVEL: 'verbose' })).toThrow('LOG_LEVEL: "verbose" is not one of fatal, error, warn, info, debug, trace, silent');
  });
});
