import fs from 'node:fs';
import path from 'node:path';
import { cardsFileSchema, cardUpdateOf, toCardCreateBody } from '../../src/cards/card-schema';
import { cjkLength } from '../../src/cards/cjk-length';
import { submerchantsFileSchema } from '../../src/cards/submerchant-schema';
import { campaignsFileSchema } from '../../src/config/reward-kinds';
import { formatIssue } from '../../src/lib/config-issue';
import { readYamlFile } from '../../src/config/read-yaml-file';
import { configErrorMap, zodToIssues } from '../../src/lib/schema-helpers';
import { tempDir } from '../rewards/helpers';
import { fixture } from './helpers';

/** Validates YAML text the way loadConfig does and returns the formatted issues. */
function issuesOf(yamlText: string, schema: { safeParse: typeof cardsFileSchema.safeParse } = cardsFileSchema): string[] {
  const tmp = tempDir('cards-schema-');
  try {
    const abs = path.join(tmp.dir, 'cards.yaml');
    fs.writeFileSync(abs, yamlText);
    const read = readYamlFile(abs, 'config/cards.yaml');
    if (!read.ok) return read.issues.map(formatIssue);
    const r = schema.safeParse(read.data, { error: configErrorMap });
    return r.success ? [] : zodToIssues(r.error, 'config/cards.yaml', read.lineOf, read.data).map(formatIssue);
  } finally {
    tmp.remove();
  }
}

const GOOD = fs.readFileSync(path.join(__dirname, 'fixtures', 'cards.yaml'), 'utf8');

describe('cardsFileSchema', () => {
  it('should parse every card type into WeChat-shaped bodies (yuan → fen, dates → epoch seconds)', () => {
    const { cards } = cardsFileSchema.parse(fixture('cards.yaml'));
    expect(toCardCreateBody(cards['coffee-cash']!)).toMatchObject({
      card_type: 'CASH',
      cash: {
        least_cost: 2000,
        reduce_cost: 500,
        base_info: { sku: { quantity: 1 }, date_info: { type: 'DATE_TYPE_FIX_TIME_RANGE', begin_timestamp: 1767196800, end_timestamp: 1798646400 } },
      },
    });
    expect(cards['cafe-gift']).toMatchObject({ subMerchant: 'corner-cafe', getLimit: 1 });
    expect(toCardCreateBody(cards['cafe-gift']!, { merchantId: 7 })).toMatchObject({ gift: { gift: '拿铁一杯', base_info: { sub_merchant_info: { merchant_id: 7 } } } });
    for (const [type, field, value] of [
      ['GROUPON', 'deal_detail', '双人套餐'],
      ['DISCOUNT', 'discount', 30],
      ['GENERAL_COUPON', 'default_detail', '全场通用'],
    ] as const) {
      const yaml = GOOD.replace(/type: GIFT\n/, `type: ${type}\n`).replace(/ {4}gift: 拿铁一杯\n/, `    ${field}: ${value}\n`);
      expect(issuesOf(yaml)).toEqual([]);
    }
  });

  it.each([
    [
      'a long brand name',
      ['brand_name: 街角咖啡', 'brand_name: 街角咖啡街角咖啡街角咖啡街'],
      'config/cards.yaml:6 cards.coffee-cash.base_info.brand_name: is 13 Chinese characters long; at most 12 allowed',
    ],
    ['a bad colour', ['color: Color010', 'color: Color011'], 'config/cards.yaml:9 cards.coffee-cash.base_info.color: "Color011" is not one of Color010, Color020'],
    ['a bad code type', ['code_type: CODE_TYPE_QRCODE', 'code_type: QRCODE'], 'cards.coffee-cash.base_info.code_type: "QRCODE" is not one of CODE_TYPE_TEXT'],
    ['stock 0', ['sku: { quantity: 1 }', 'sku: { quantity: 0 }'], 'cards.coffee-cash.base_info.sku.quantity: 0 is less than the minimum 1'],
    ['an end before the begin', ['end_timestamp: 2026-12-31', 'end_timestamp: 2025-12-31'], 'date_info.end_timestamp: end_timestamp must be after begin_timestamp'],
    ['a threshold below the reduction', ['least_cost: 20', 'least_cost: 4'], 'cards.coffee-cash.least_cost: least_cost (the threshold) must be above reduce_cost'],
    ['a field of another type', ['    gift: 拿铁一杯', '    discount: 30'], 'unknown key "discount"'],
    [
      'an unknown type',
      ['type: GIFT', 'type: BOARDING_PASS'],
      'config/cards.yaml:18 cards.cafe-gift.type: "BOARDING_PASS" is not one of GROUPON, CASH, DISCOUNT, GIFT, GENERAL_COUPON, MEMBER_CARD',
    ],
  ])('should refuse %s with file, line, path and the allowed values', (_name, [from, to], expected) => {
    const issues = issuesOf(GOOD.replace(from!, to!));
    expect(issues.join('\n')).toContain(expected);
  });
});

describe('cjkLength', () => {
  it('should count CJK as 1 and Latin as a half, rounded up', () => {
    expect(cjkLength('星巴克')).toBe(3);
    expect(cjkLength('Coffee')).toBe(3);
    expect(cjkLength('满100减20')).toBe(5);
    expect(cjkLength('ａ')).toBe(1);
  });
});

describe('cardUpdateOf', () => {
  it('should list changed updatable fields and refuse fixed ones', () => {
    const { cards } = cardsFileSchema.parse(fixture('cards.yaml'));
    const a = cards['coffee-cash']!;
    expect(cardUpdateOf(a, a)).toEqual({ fields: undefined, fixed: [] });
    expect(cardUpdateOf(a, { ...a, baseInfo: { ...a.baseInfo, title: '满30减8元' }, special: { ...a.special, reduce_cost: 800 } })).toEqual({
      fields: { base_info: { title: '满30减8元' }, reduce_cost: 800 },
      fixed: [],
    });
    expect(cardUpdateOf(a, { ...a, baseInfo: { ...a.baseInfo, brand_name: '新品牌' } }).fixed).toEqual(['base_info.brand_name']);
  });
});

describe('submerchantsFileSchema and the card campaign kind', () => {
  it('should parse sub-merchants and card campaigns', () => {
    expect(submerchantsFileSchema.parse(fixture('submerchants.yaml')).submerchants['corner-cafe']!.info).toMatchObject({
      brandName: '小咖啡馆',
      protocol: 'AUTH_LETTER_MEDIA_ID',
      endTime: 1830268799,
      primaryCategoryId: 1,
      secondaryCategoryId: 102,
    });
    expect(campaignsFileSchema.parse(fixture('campaigns.yaml')).campaigns['scan-coupon']).toMatchObject({
      kind: 'card',
      card: 'cafe-gift',
      delivery: 'qrcode',
      maxCards: 10,
      perUser: 1,
    });
    expect(campaignsFileSchema.safeParse({ campaigns: { x: { kind: 'card', card: 'c', max_cards: 1, delivery: 'email' } } }).success).toBe(false);
  });
});
