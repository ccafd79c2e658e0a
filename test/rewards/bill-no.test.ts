import {
  billNo,
  BillNoError,
  billNoPrefix,
  checkedLedgerTag,
  formatBillNo,
  isBillNo,
  isLedgerTag,
  ledgerTagRules,
  newLedgerTag,
  withLedgerTag,
} from '../../src/rewards/bill-no';

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

describe('ledger tags', () => {
  it('should draw three digits, 100-999', () => {
    for (let i = 0; i < 2000; i++) {
      const tag = newLedgerTag();
      expect(isLedgerTag(tag)).toBe(true);
      expect(Number(tag)).toBeGreaterThanOrEqual(100);
      expect(Number(tag)).toBeLessThanOrEqual(999);
    }
  });

  it('should put the tag between the date and a 7-digit sequence for a 10-digit mch_id', () => {
    const prefix = withLedgerTag(billNoPrefix('1900000109', NOW), '417');
    expect(prefix).toBe('190000010920260302417');
    expect(formatBillNo(prefix, 1)).toBe('1900000109202603024170000001');
    expect(() => formatBillNo(prefix, 10_000_000)).toThrow(BillNoError);
  });

  it('should never number a bill as an untagged ledger of the same day could (no leading zero)', () => {
    // An untagged sequence would need a billion bills in one day to reach the smallest tagged number.
    const smallestTagged = formatBillNo(withLedgerTag('190000010920260302', '100'), 1);
    expect(smallestTagged > formatBillNo('190000010920260302', 999_999_999)).toBe(true);
  });

  it('should leave the prefix as it is when the mch_id leaves no room for the tag and four digits', () => {
    const long = billNoPrefix('1'.repeat(14), NOW); // 22 characters: 6 left, the tag would leave 3
    expect(withLedgerTag(long, '417')).toBe(long);
    const fits = billNoPrefix('1'.repeat(13), NOW); // 21 characters: the tag leaves 4
    expect(withLedgerTag(fits, '417')).toBe(`${fits}417`);
  });

  it('should refuse a malformed tag, saying what to do', () => {
    for (const bad of ['', '42', '042', '1000', 'abc', undefined]) {
      expect(() => withLedgerTag('190000010920260302', bad as string)).toThrow(BillNoError);
      expect(() => checkedLedgerTag(bad)).toThrow(/bill_tag.*(missing|malformed).*Delete the row/);
    }
    expect(checkedLedgerTag('417')).toBe('417');
  });
});

describe('ledgerTagRules (what the store factory hands a ledger adapter)', () => {
  const others = (tags: Record<string, unknown>) => ({ here: 'staging', tags: new Map(Object.entries(tags)) });

  it('should refuse a malformed BOT_BILLNO_TAG when built, before any ledger is touched', () => {
    for (const bad of ['055', '1000', '12', 'abc']) expect(() => ledgerTagRules(bad)).toThrow(/BOT_BILLNO_TAG.*100–999/);
  });

  it('should give a new ledger the tag asked for, else draw one no other ledger uses (malformed ones ignored)', () => {
    expect(ledgerTagRules('555').forNewLedger()).toBe('555');
    // Other ledgers hold 100–549; a malformed tag of another ledger takes nothing.
    const taken = others({ ...Object.fromEntries(Array.from({ length: 450 }, (_, i) => [`s${i}`, String(100 + i)])), broken: '07' });
    for (let i = 0; i < 200; i++) expect(Number(ledgerTagRules().forNewLedger(taken))).toBeGreaterThanOrEqual(550);
  });

  it('should open with the stored tag, checked and equal to the one asked for', () => {
    expect(ledgerTagRules().opening('417')).toBe('417');
    expect(ledgerTagRules('417').opening('417')).toBe('417');
    expect(() => ledgerTagRules('555').opening('417')).toThrow(/BOT_BILLNO_TAG is 555 but this ledger numbers its bills with tag 417/);
    expect(() => ledgerTagRules().opening('07')).toThrow(/bill_tag.*malformed: "07"/);
  });

  it('should refuse a tag another visible ledger uses, naming where both are, whether asked for or stored', () => {
    const prod = others({ prod: '417', qa: '612' });
    expect(() => ledgerTagRules('417').forNewLedger(prod)).toThrow(/ledger in schema staging and the ledger in schema prod of the same database both use bill tag 417/);
    expect(() => ledgerTagRules().opening('612', prod)).toThrow(/schema staging and the ledger in schema qa .*bill tag 612/);
    expect(ledgerTagRules().opening('555', prod)).toBe('555');
  });
});
