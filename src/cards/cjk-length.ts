/**
 * WeChat states card text limits "in Chinese characters" (`brand_name` ≤ 12 汉字, `title` ≤ 9 …).
 * We count a CJK / full-width character as 1 and any other character as ½ (two Latin letters or
 * digits take the room of one Chinese character), rounded up. **[derived]**: WeChat does not publish
 * its counting rule; this one never lets through a text that has more than N Chinese characters.
 *
 * @example cjkLength('星巴克') === 3; cjkLength('Coffee') === 3; cjkLength('满100减20') === 5
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Create_a_Coupon_Voucher_or_Card.html
 */
export function cjkLength(text: string): number {
  let halves = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    halves += isWide(cp) ? 2 : 1;
  }
  return Math.ceil(halves / 2);
}

/** CJK ideographs, kana, hangul, full-width forms and CJK punctuation count as wide. */
function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}
