import fs from 'node:fs';
import path from 'node:path';
import { classifyRedpackError, REDPACK_ERROR_HINTS, type RedpackErrorClass } from '../../src/pay/classify';

interface ErrCodeVector {
  code: string;
  classification: 'success' | 'unknown' | 'failed-retryable' | 'not-processed' | 'failed';
  retry_with_same_billno_safe: boolean | null;
}

const table: ErrCodeVector[] = JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/vectors/redpack-errcodes.json'), 'utf8'));

/** Which of our classes agree with the vector file's classification of a code. */
const ALLOWED: Record<ErrCodeVector['classification'], RedpackErrorClass[]> = {
  success: [],
  unknown: ['uncertain'],
  'failed-retryable': ['uncertain', 'config'],
  'not-processed': ['config'],
  failed: ['failed', 'config'],
};

/** The classes issue 5 names explicitly. */
const FROM_ISSUE: Record<string, RedpackErrorClass> = {
  SYSTEMERROR: 'uncertain',
  PROCESSING: 'uncertain',
  FREQ_LIMIT: 'uncertain',
  TIME_LIMITED: 'uncertain',
  CA_ERROR: 'config',
  SIGN_ERROR: 'config',
  NOTENOUGH: 'config',
  ILLEGAL_APPID: 'config',
  MSGAPPID_ERROR: 'config',
  ACCEPTMODE_ERROR: 'config',
  API_METHOD_CLOSED: 'config',
  SENDNUM_LIMIT: 'failed',
  RCVDAMOUNT_LIMIT: 'failed',
  MONEY_LIMIT: 'failed',
  OPENID_ERROR: 'failed',
  NO_AUTH: 'failed',
  FATAL_ERROR: 'failed',
  SEND_FAILED: 'failed',
};

const codes = table.filter((r) => r.code !== 'SUCCESS' && !r.code.startsWith('<'));

/**
 * Issue 14: a refusal about one grant (this follower, this amount, this request's fields) settles that
 * grant as failed; only merchant-wide refusals pause the campaign.
 */
const FROM_ISSUE_14: Record<string, RedpackErrorClass> = {
  PARAM_ERROR: 'failed',
  SENDAMOUNT_LIMIT: 'config',
  DAY_OVER_LIMITED: 'config',
  'DAY_ OVER_LIMITED': 'config',
  SECOND_OVER_LIMITED: 'uncertain',
};

describe('classifyRedpackError', () => {
  it('should have the whole error table to check', () => {
    expect(codes.length).toBeGreaterThanOrEqual(22);
  });

  it.each(codes.map((r) => [r.code, r] as const))('should classify %s consistently with the vector file', (code, row) => {
    const cls = classifyRedpackError(code);
    expect(ALLOWED[row.classification]).toContain(cls);
    // A code after which a same-billno retry is unsafe must never be retried automatically…
    if (row.retry_with_same_billno_safe === false) expect(cls).not.toBe('uncertain');
    // …and one after which it is safe must never be settled as failed (the follower would lose the packet).
    if (row.retry_with_same_billno_safe === true) expect(cls).not.toBe('failed');
  });

  it.each(Object.entries(FROM_ISSUE))('should put %s in the class issue 5 names (%s)', (code, cls) => {
    expect(classifyRedpackError(code)).toBe(cls);
  });

  it.each(Object.entries(FROM_ISSUE_14))('should put %s in the class issue 14 names (%s)', (code, cls) => {
    expect(classifyRedpackError(code)).toBe(cls);
  });

  it.each([['268458547'], ['SOMETHING_NEW'], [''], [undefined]])('should treat unknown code %p as uncertain', (code) => {
    expect(classifyRedpackError(code)).toBe('uncertain');
  });

  it('should ignore case and surrounding blanks', () => {
    expect(classifyRedpackError(' notenough ')).toBe('config');
  });

  it('should have an operator hint for every code of the table', () => {
    for (const r of codes.filter((c) => classifyRedpackError(c.code) !== 'uncertain')) {
      expect(REDPACK_ERROR_HINTS[r.code]).toEqual(expect.any(String));
    }
  });
});
