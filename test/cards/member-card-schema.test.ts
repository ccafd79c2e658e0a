import fs from 'node:fs';
import path from 'node:path';
import { cardsFileSchema, cardUpdateOf, toCardCreateBody } from '../../src/cards/card-schema';
import { DEFAULT_ACTIVATION_MESSAGES, DEFAULT_RECORD_BONUS, toActivateUserFormBody } from '../../src/cards/member-card-schema';
import { formatIssue } from '../../src/lib/config-issue';
import { readYamlFile } from '../../src/config/read-yaml-file';
import { configErrorMap, zodToIssues } from '../../src/lib/schema-helpers';
import { tempDir } from '../rewards/helpers';

const GOOD = fs.readFileSync(path.join(__dirname, 'fixtures', 'member-cards.yaml'), 'utf8');

/** Validates YAML text the way loadConfig does and returns the formatted issues. */
function issuesOf(yamlText: string): string[] {
  const tmp = tempDir('member-schema-');
  try {
    const abs = path.join(tmp.dir, 'cards.yaml');
    fs.writeFileSync(abs, yamlText);
    const read = readYamlFile(abs, 'config/cards.yaml');
    if (!read.ok) return read.issues.map(formatIssue);
    const r = cardsFileSchema.safeParse(read.data, { error: configErrorMap });
    return r.success ? [] : zodToIssues(r.error, 'config/cards.yaml', read.lineOf, read.data).map(formatIssue);
  } finally {
    tmp.remove();
  }
}

function parseGood(yamlText = GOOD) {
  const tmp = tempDir('member-schema-');
  try {
    const abs = path.join(tmp.dir, 'cards.yaml');
    fs.writeFileSync(abs, yamlText);
    const read = readYamlFile(abs, 'config/cards.yaml');
    if (!read.ok) throw new Error('unreadable');
    return cardsFileSchema.parse(read.data).cards['cafe-member']!;
  } finally {
    tmp.remove();
  }
}

describe('MEMBER_CARD in cards.yaml', () => {
  it('should parse a member card into the member_card object, the activation form and the typed view', () => {
    expect(issuesOf(GOOD)).toEqual([]);
    const def = parseGood();
    expect(def.member).toEqual({
      name: 'cafe-member',
      supplyBonus: true,
      supplyBalance: false,
      discount: 10,
      activation: {
        mode: 'wx_activate',
        form: {
          required: { commonFields: ['USER_FORM_INFO_FLAG_MOBILE', 'USER_FORM_INFO_FLAG_NAME'], customFields: ['常去门店'] },
          optional: { commonFields: ['USER_FORM_INFO_FLAG_BIRTHDAY'], customFields: [] },
          canModify: true,
        },
        messages: {
          activated: DEFAULT_ACTIVATION_MESSAGES.activated,
          missingFields: DEFAULT_ACTIVATION_MESSAGES.missing_fields,
          failed: DEFAULT_ACTIVATION_MESSAGES.failed,
        },
      },
      initialBonus: 100,
      initialBalance: 0,
      recordBonus: '消费积分到账',
    });
    expect(def).toMatchObject({ payCell: true, selfConsumeCell: { isOpen: true, needVerifyCod: true, needRemarkAmount: false } });
    const body = toCardCreateBody(def);
    expect(body).toMatchObject({
      card_type: 'MEMBER_CARD',
      member_card: {
        base_info: { title: '街角咖啡会员卡', sku: { quantity: 1000 }, location_id_list: [101] },
        supply_bonus: true,
        supply_balance: false,
        prerogative: '会员享全场九折，每消费1元积1分',
        wx_activate: true,
        discount: 10,
        bonus_rule: { cost_money_unit: 100, increase_bonus: 1, max_increase_bonus: 500, init_increase_bonus: 100 },
        custom_field1: { name_type: 'FIELD_NAME_TYPE_LEVEL', url: 'https://example.com/level' },
        custom_cell1: { name: '咖啡菜单', tips: '今天喝什么', url: 'https://example.com/menu' },
      },
    });
    // What the bot keeps for itself never goes to card/create.
    const mc = (body as { member_card: Record<string, unknown> }).member_card;
    for (const k of ['activation', 'record_bonus', 'pay_cell', 'self_consume_cell']) expect(mc).not.toHaveProperty(k);
    expect(toActivateUserFormBody('pX', def.member!)).toEqual({
      card_id: 'pX',
      required_form: { can_modify: true, common_field_id_list: ['USER_FORM_INFO_FLAG_MOBILE', 'USER_FORM_INFO_FLAG_NAME'], custom_field_list: ['常去门店'] },
      optional_form: { can_modify: true, common_field_id_list: ['USER_FORM_INFO_FLAG_BIRTHDAY'], custom_field_list: [] },
    });
  });

  it('should take the activation messages of cards.yaml', () => {
    const def = parseGood(
      GOOD.replace('      initial_balance: 0\n', '      initial_balance: 0\n      messages: { activated: "欢迎入会 {membership_number}", failed: 开卡失败 }\n'),
    );
    expect(def.member!.activation).toMatchObject({
      messages: { activated: '欢迎入会 {membership_number}', missingFields: DEFAULT_ACTIVATION_MESSAGES.missing_fields, failed: '开卡失败' },
    });
    expect((toCardCreateBody(def) as { member_card: object }).member_card).not.toHaveProperty('messages');
    expect(issuesOf(GOOD.replace('      initial_balance: 0\n', "      initial_balance: 0\n      messages: { failed: '' }\n")).join('\n')).toContain(
      'cards.cafe-member.activation.messages.failed',
    );
  });

  it('should take the merchant URL activation, the default points message and yuan balances', () => {
    const def = parseGood(
      GOOD.replace(/ {4}activation:[\s\S]*?initial_balance: 0\n/, '    activation: { mode: url, url: https://example.com/join, initial_balance: 20.5 }\n').replace(
        '    record_bonus: 消费积分到账\n',
        '',
      ),
    );
    expect(def.member).toMatchObject({
      activation: { mode: 'url', url: 'https://example.com/join' },
      initialBonus: 0,
      initialBalance: 2050,
      recordBonus: DEFAULT_RECORD_BONUS,
    });
    expect(toCardCreateBody(def)).toMatchObject({ member_card: { activate_url: 'https://example.com/join' } });
    expect((toCardCreateBody(def) as { member_card: object }).member_card).not.toHaveProperty('wx_activate');
    expect(toActivateUserFormBody('pX', def.member!)).toBeUndefined();
  });

  it('should refuse changing supply_bonus on an existing card, and turn wx_activate off for a URL', () => {
    const a = parseGood();
    const b = parseGood(GOOD.replace('supply_bonus: true', 'supply_bonus: false'));
    expect(cardUpdateOf(a, b).fixed).toEqual(['supply_bonus']);
    const c = parseGood(GOOD.replace('prerogative: 会员享全场九折，每消费1元积1分', 'prerogative: 会员享全场八折'));
    expect(cardUpdateOf(a, c)).toEqual({ fields: { prerogative: '会员享全场八折' }, fixed: [] });
    const d = parseGood(GOOD.replace(/ {4}activation:[\s\S]*?initial_balance: 0\n/, '    activation: { mode: url, url: https://example.com/join }\n'));
    expect(cardUpdateOf(a, d)).toEqual({ fields: { activate_url: 'https://example.com/join', wx_activate: false }, fixed: [] });
  });

  it.each([
    ['a missing supply_balance', ['    supply_balance: false\n', ''], 'config/cards.yaml:2 cards.cafe-member.supply_balance: is required (expected true or false)'],
    ['supply_bonus not a boolean', ['supply_bonus: true', 'supply_bonus: yes please'], 'config/cards.yaml:16 cards.cafe-member.supply_bonus: expected true or false'],
    [
      'a long prerogative',
      ['prerogative: 会员享全场九折，每消费1元积1分', `prerogative: ${'特'.repeat(1025)}`],
      'config/cards.yaml:18 cards.cafe-member.prerogative: is 1025 Chinese characters long; at most 1024 allowed',
    ],
    ['a discount over 100', ['discount: 10', 'discount: 101'], 'config/cards.yaml:24 cards.cafe-member.discount: 101 is more than the maximum 100'],
    ['a half bonus rule', ['      increase_bonus: 1\n', ''], 'config/cards.yaml:19 cards.cafe-member.bonus_rule: cost_money_unit and increase_bonus go together'],
    [
      'negative points',
      ['max_increase_bonus: 500', 'max_increase_bonus: -1'],
      'config/cards.yaml:22 cards.cafe-member.bonus_rule.max_increase_bonus: -1 is less than the minimum 0',
    ],
    [
      'an unknown custom field label',
      ['FIELD_NAME_TYPE_LEVEL', 'FIELD_NAME_TYPE_LEVELS'],
      'config/cards.yaml:25 cards.cafe-member.custom_field1.name_type: "FIELD_NAME_TYPE_LEVELS" is not one of FIELD_NAME_TYPE_LEVEL',
    ],
    [
      'a long custom cell tip',
      ['tips: 今天喝什么', 'tips: 看看今天喝点什么呢'],
      'config/cards.yaml:26 cards.cafe-member.custom_cell1.tips: is 9 Chinese characters long; at most 6 allowed',
    ],
    ['a custom cell without url', [', url: https://example.com/menu }', ' }'], 'config/cards.yaml:26 cards.cafe-member.custom_cell1.url: is required'],
    [
      'an unknown form field',
      ['USER_FORM_INFO_FLAG_NAME]', 'USER_FORM_INFO_FLAG_NAM]'],
      'config/cards.yaml:30 cards.cafe-member.activation.form.required.common_fields[1]: "USER_FORM_INFO_FLAG_NAM" is not one of USER_FORM_INFO_FLAG_MOBILE',
    ],
    [
      'a field both required and optional',
      ['[USER_FORM_INFO_FLAG_BIRTHDAY]', '[USER_FORM_INFO_FLAG_MOBILE]'],
      'config/cards.yaml:31 cards.cafe-member.activation.form.optional: USER_FORM_INFO_FLAG_MOBILE is both required and optional',
    ],
    ['an unknown activation mode', ['mode: wx_activate', 'mode: auto'], 'config/cards.yaml:28 cards.cafe-member.activation.mode: "auto" is not one of wx_activate, url'],
    [
      'a URL activation without url',
      [/ {4}activation:[\s\S]*?initial_balance: 0\n/, '    activation: { mode: url }\n'],
      'config/cards.yaml:27 cards.cafe-member.activation.url: is required',
    ],
    [
      'negative initial points',
      ['initial_bonus: 100', 'initial_bonus: -5'],
      'config/cards.yaml:32 cards.cafe-member.activation.initial_bonus: -5 is less than the minimum 0',
    ],
    [
      'quick pay without stores',
      ['      location_id_list: [101]\n', ''],
      'config/cards.yaml:34 cards.cafe-member.pay_cell: quick pay needs the stores it applies in: add base_info.location_id_list',
    ],
    [
      'a long points message',
      ['record_bonus: 消费积分到账', 'record_bonus: 您本次消费获得的积分已经到账了哦'],
      'config/cards.yaml:34 cards.cafe-member.record_bonus: is 16 Chinese characters long; at most 14 allowed',
    ],
    ['an unknown member field', ['    discount: 10\n', '    discount: 10\n    bonus: 5\n'], 'config/cards.yaml:25 cards.cafe-member.bonus: unknown key "bonus"'],
  ] as const)('should refuse %s with file, line, path and a fix', (_name, [from, to], expected) => {
    const issues = issuesOf(GOOD.replace(from, to));
    expect(issues.join('\n')).toContain(expected);
  });
});
