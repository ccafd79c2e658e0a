/**
 * The CSV export's cells (quoting, CSV-injection escaping) and its streaming: a search larger than one
 * read of the ledger comes out in several chunks, every row exactly once, oldest first.
 */
import { BOM, csvCell, csvFileName, ledgerCsv } from '../../src/console/ledger-csv';
import { withLedgerRules } from '../../src/rewards/ledger-plans';
import { createMemoryLedger } from '../../src/store/memory-ledger';
import { grantInput } from '../rewards/ledger-contract';
import { ledgerTagRules } from '../../src/rewards/bill-no';

describe('csvCell', () => {
  it.each([
    ['=SUM(A1:A9)', `"'=SUM(A1:A9)"`],
    ['+86 138', `"'+86 138"`],
    ['-1', `"'-1"`],
    ['@cmd', `"'@cmd"`],
    ['\tx', `"'\tx"`],
    ['\rx', `"'\rx"`],
    ['\n=1+1', `"'\n=1+1"`],
    ['  =HYPERLINK("http://x")', `"'  =HYPERLINK(""http://x"")"`],
    ['\u3000=1+1', `"'\u3000=1+1"`],
    ['＝1+1', `"'＝1+1"`],
    ['＋86 138', `"'＋86 138"`],
    ['－1', `"'－1"`],
    ['＠cmd', `"'＠cmd"`],
    [' ok', '" ok"'],
    ['say "hi", ok', '"say ""hi"", ok"'],
    ['中文 = fine', '"中文 = fine"'],
    [12.5, '"12.5"'],
    [null, '""'],
  ])('should write %j as %s', (value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });
});

describe('ledgerCsv', () => {
  it('should stream a search larger than one read in chunks, each matching row once, oldest first', async () => {
    const ledger = withLedgerRules(createMemoryLedger({ tags: ledgerTagRules() }));
    for (let i = 0; i < 1203; i++) await ledger.recordGrant(grantInput({ campaign: i % 3 === 0 ? 'other' : 'c1' }));
    const chunks: string[] = [];
    for await (const chunk of ledgerCsv(ledger, { campaign: 'c1' })) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks[0]!.startsWith(BOM + '"id","bill_no"')).toBe(true);
    const ids = chunks
      .join('')
      .trim()
      .split('\r\n')
      .slice(1)
      .map((l) => Number(JSON.parse(l.split(',')[0]!)));
    expect(ids).toHaveLength(802);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(802);
  });
});

describe('csvFileName', () => {
  it('should date the file by the Beijing day', () => {
    expect(csvFileName(Date.parse('2026-12-04T17:30:00Z'))).toBe('ledger-20261205.csv');
  });
});
