import { fenToYuan, yuanToFen } from '../../src/lib/money';

describe('yuanToFen', () => {
  it.each([
    [1, 100],
    [1.88, 188],
    ['200.00', 20000],
    ['0.3', 30],
    [1000000, 100000000],
    ['1.880', 188],
  ])('should convert %p to %p fen', (yuan, fen) => {
    expect(yuanToFen(yuan)).toBe(fen);
  });

  it.each([[1.999], ['1.2.3'], [-1], ['abc'], [NaN], [null], ['1e3']])('should reject %p', (v) => {
    expect(yuanToFen(v)).toBeUndefined();
  });
});

describe('fenToYuan', () => {
  it('should format with two decimals', () => {
    expect([fenToYuan(188), fenToYuan(5), fenToYuan(100000000)]).toEqual(['1.88', '0.05', '1000000.00']);
  });
});
