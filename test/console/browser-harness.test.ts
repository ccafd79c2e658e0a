/**
 * The browser harness's rule: the e2e suite runs when chromium is installed, skips (with a message)
 * when it is not, and fails when it is not but CI is set.
 */
import { browserSuiteMode } from './browser';

test('run with chromium; without it skip, or fail under CI', () => {
  expect(browserSuiteMode(true, undefined)).toBe('run');
  expect(browserSuiteMode(true, 'true')).toBe('run');
  expect(browserSuiteMode(false, undefined)).toBe('skip');
  expect(browserSuiteMode(false, '')).toBe('skip');
  expect(browserSuiteMode(false, 'true')).toBe('fail');
});
