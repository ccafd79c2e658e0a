import { billNo, BillNoError, billNoPrefix, formatBillNo, isBillNo } from '../../src/rewards/bill-no';

const NOW = Date.parse('2026-03-02T23:59:59+08:00');

describe('billNo', () => {
  it('should be mch_id + Beijing yyyymmdd + 10 digits, 28 characters', () => {
    const b = billNo('1900000109', NOW, 42);
    expect(b).toBe('1900000109202603020000000042');
    expect(b).toHaveLength(28);
    expect(isBillNo(b)).toBe(true);
  });

  it('should use the Beijing date, not UTC', () => {
    // 2026-03-02T16:30Z is already 2026-03-03 00:30 in Beijing.
    expect(billNoPrefix('1900000109', Date.parse('2026-03-02T16:30:00Z'))).toBe('190000010920260303');
  });
});

describe('formatBillNo', () => {
  it('should pad to 28 characters for shorter merchant ids', () => {
    expect(formatBillNo('12345620260302', 7)).toBe('1234562026030200000000000007');
  });

  it('should refuse sequences out of range and merchant ids that leave no room', () => {
    expect(() => formatBillNo('190000010920260302', 0)).toThrow(BillNoError);
    expect(() => formatBillNo('190000010920260302', 10_000_000_000)).toThrow(BillNoError);
    expect(() => billNoPrefix('1'.repeat(19), NOW)).toThrow(BillNoError);
    expect(() => billNoPrefix('12ab', NOW)).toThrow(BillNoError);
  });
});
