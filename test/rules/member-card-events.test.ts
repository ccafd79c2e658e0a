/**
 * The member-card and quick-pay events (issue 17) as WeChat pushes them: parsed into their typed
 * variants with every documented field, and matchable by rules (`event`, `cardId`).
 */
import { decide } from '../../src/rules/engine';
import { isEventOf, type InboundMessage } from '../../src/wechat/inbound';
import { parseInboundXml } from '../../src/wechat/parse-inbound';
import { rulesFrom } from './rules-from';

const xml = (event: string, fields: Record<string, string>) =>
  `<xml><ToUserName><![CDATA[gh_a]]></ToUserName><FromUserName><![CDATA[oMember1]]></FromUserName><CreateTime>1714000000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[${event}]]></Event>${Object.entries(
    fields,
  )
    .map(([k, v]) => `<${k}><![CDATA[${v}]]></${k}>`)
    .join('')}</xml>`;

const CARD = { CardId: 'pMember1', UserCardCode: '110201201245' };
const SAMPLES: [string, Record<string, string>][] = [
  ['submit_membercard_user_info', { ...CARD }],
  ['user_pay_from_pay_cell', { ...CARD, TransId: '10022403432015000000000', LocationId: '291710', Fee: '10000', OriginalFee: '10000' }],
  ['update_member_card', { ...CARD, ModifyBonus: '3', ModifyBalance: '0' }],
  ['user_view_card', { ...CARD, OuterStr: '12b' }],
  ['user_enter_session_from_card', { ...CARD }],
];

const RULES = rulesFrom(`
rules:
  - id: activated-form
    match: { event: submit_membercard_user_info, cardId: pMember1 }
    actions: [ { reply: thanks } ]
  - id: paid
    match: { event: user_pay_from_pay_cell }
    actions: [ { reply: paid } ]
  - id: member-updated
    match: { event: update_member_card, cardId: [pMember1, pMember2] }
    actions: [ { reply: updated } ]
  - id: viewed
    match: { event: user_view_card, cardId: pMember1 }
    actions: [ { reply: viewed } ]
  - id: session
    match: { event: user_enter_session_from_card }
    actions: [ { reply: hello } ]
default:
  - reply: default
`);

describe('parseInbound: member-card events', () => {
  it.each(SAMPLES)('should type %s with every documented field', (event, fields) => {
    const m: InboundMessage = parseInboundXml(xml(event, fields));
    expect(m).toMatchObject({ MsgType: 'event', Event: event, FromUserName: 'oMember1', CreateTime: 1714000000, ...fields });
  });

  it('should narrow user_pay_from_pay_cell to its fee fields', () => {
    const m = parseInboundXml(xml(...SAMPLES[1]!));
    if (!isEventOf(m, 'user_pay_from_pay_cell')) throw new Error('not narrowed');
    const fee: string | undefined = m.Fee;
    expect([fee, m.OriginalFee, m.TransId, m.LocationId]).toEqual(['10000', '10000', '10022403432015000000000', '291710']);
  });
});

describe('decide: member-card events', () => {
  it.each([
    ['submit_membercard_user_info', 'activated-form'],
    ['user_pay_from_pay_cell', 'paid'],
    ['update_member_card', 'member-updated'],
    ['user_view_card', 'viewed'],
    ['user_enter_session_from_card', 'session'],
  ])('should match %s by its rule', (event, ruleId) => {
    const fields = SAMPLES.find(([e]) => e === event)![1];
    expect(decide(parseInboundXml(xml(event, fields)), RULES, 0).matched.map((x) => x.ruleId)).toEqual([ruleId]);
  });

  it('should not match a rule of another card', () => {
    const m = parseInboundXml(xml('user_view_card', { ...CARD, CardId: 'pOther' }));
    expect(decide(m, RULES, 0).matched.map((x) => x.ruleId)).toEqual([]);
  });
});
