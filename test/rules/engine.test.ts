import fc from 'fast-check';
import { decide, DEFAULT_RULE_ID, WELCOME_RULE_ID } from '../../src/rules/engine';
import { parseInboundXml } from '../../src/wechat/parse-inbound';
import type { InboundMessage } from '../../src/wechat/inbound';
import { shanghaiToEpoch } from '../../src/lib/clock';
import { makeKeywordRules } from '../../src/rules/bench-rules';
import { clickXml, eventXml, subscribeXml, textXml } from '../helpers/inbound';
import { rulesFrom } from './rules-from';

const text = (content: string) => parseInboundXml(textXml({ content }));
const click = (key: string) => parseInboundXml(clickXml(key));
const follow = (scene?: string) => parseInboundXml(subscribeXml(scene));
const event = (name: string, key?: string, extra?: Record<string, string>) => parseInboundXml(eventXml({ event: name, eventKey: key, extra }));
const image = () =>
  parseInboundXml(
    `<xml><ToUserName>gh_a</ToUserName><FromUserName>o1</FromUserName><CreateTime>1714000000</CreateTime><MsgType>image</MsgType><PicUrl>http://x</PicUrl><MediaId>m1</MediaId><MsgId>42</MsgId></xml>`,
  );
const location = () =>
  parseInboundXml(
    `<xml><ToUserName>gh_a</ToUserName><FromUserName>o1</FromUserName><CreateTime>1714000000</CreateTime><MsgType>location</MsgType><Location_X>31.2</Location_X><Location_Y>121.4</Location_Y><Scale>15</Scale><Label>x</Label><MsgId>43</MsgId></xml>`,
  );

/** Monday 2026-02-02 12:00 Beijing. */
const NOON = shanghaiToEpoch(2026, 2, 2, 12, 0, 0);
const ids = (m: InboundMessage, rules = RULES, now = NOON) => decide(m, rules, now).matched.map((x) => x.ruleId);

const RULES = rulesFrom(`
rules:
  - id: exact
    match: { content: hello }
    actions: [ { reply: exact } ]
  - id: keywords-ci
    match: { content: { keywords: [Bonjour, Hola], ignoreCase: true } }
    actions: [ { reply: kw } ]
  - id: contains
    match: { content: { contains: [price, 价格] } }
    actions: [ { reply: contains } ]
  - id: prefix-ci
    match: { content: { prefix: "code-", ignoreCase: true } }
    actions: [ { reply: prefix } ]
  - id: regex
    match: { content: { regex: "^order (?<order>\\\\d+)$" } }
    actions: [ { reply: regex } ]
  - id: click-help
    match: { event: CLICK, eventKey: HELP }
    actions: [ { reply: click } ]
  - id: click-regex
    match: { event: CLICK, eventKeyRegex: "^PROMO_(\\\\w+)$" }
    actions: [ { reply: promo } ]
  - id: view
    match: { event: VIEW, eventKey: "https://example.com/" }
    actions: [ { reply: view } ]
  - id: follow-scene
    match: { event: subscribe, scene: store-1 }
    actions: [ { reply: store } ]
  - id: follow-scene-regex
    match: { event: subscribe, sceneRegex: "^ad-(\\\\d+)$" }
    actions: [ { reply: ad } ]
  - id: follow-any-scene
    match: { event: subscribe, hasScene: true }
    actions: [ { reply: anyscene } ]
  - id: scan
    match: { event: SCAN, scene: store-1 }
    actions: [ { reply: scan } ]
  - id: scancode
    match: { event: [scancode_push, scancode_waitmsg], eventKey: SC }
    actions: [ { reply: scancode } ]
  - id: pic
    match: { event: pic_weixin }
    actions: [ { reply: pic } ]
  - id: location-select
    match: { event: location_select, eventKey: WHERE }
    actions: [ { reply: where } ]
  - id: location-event
    match: { event: LOCATION }
    actions: []
  - id: card
    match: { event: user_get_card, cardId: pCARD1 }
    actions: [ { reply: card } ]
  - id: location-msg
    match: { msgType: location }
    actions: [ { reply: loc } ]
  - id: image
    match: { msgType: [image, voice] }
    actions: [ { reply: img } ]
welcome:
  - reply: welcome
default:
  - reply: default
`);

describe('decide', () => {
  it.each([
    ['exact text', text('hello'), ['exact']],
    ['exact text is trimmed', text('  hello \n'), ['exact']],
    ['exact is case-sensitive without ignoreCase', text('Hello'), [DEFAULT_RULE_ID]],
    ['keyword list, ignoring case', text('HOLA'), ['keywords-ci']],
    ['keyword list, other keyword', text('bonjour'), ['keywords-ci']],
    ['contains', text('what is the price?'), ['contains']],
    ['contains, Chinese', text('这个价格多少'), ['contains']],
    ['contains is case-sensitive', text('PRICE'), [DEFAULT_RULE_ID]],
    ['prefix, ignoring case', text('CODE-123'), ['prefix-ci']],
    ['prefix must be at the start', text('my code-123'), [DEFAULT_RULE_ID]],
    ['regex', text('order 42'), ['regex']],
    ['regex anchored', text('order 42 now'), [DEFAULT_RULE_ID]],
    ['CLICK by key', click('HELP'), ['click-help']],
    ['CLICK by key regex', click('PROMO_SPRING'), ['click-regex']],
    ['CLICK with no rule', click('NOPE'), []],
    ['VIEW by url', event('VIEW', 'https://example.com/'), ['view']],
    ['follow from a QR scene (qrscene_ stripped)', follow('store-1'), ['follow-scene']],
    ['follow from a scene by regex', follow('ad-7'), ['follow-scene-regex']],
    ['follow from any other scene', follow('poster'), ['follow-any-scene']],
    ['follow without a scene gets the welcome', follow(), [WELCOME_RULE_ID]],
    ['SCAN with a scene', event('SCAN', 'store-1', { Ticket: 't' }), ['scan']],
    ['SCAN with another scene', event('SCAN', 'store-2', { Ticket: 't' }), []],
    ['scancode_waitmsg', event('scancode_waitmsg', 'SC'), ['scancode']],
    ['pic_weixin', event('pic_weixin', 'P'), ['pic']],
    ['location_select', event('location_select', 'WHERE'), ['location-select']],
    ['LOCATION event', event('LOCATION', undefined, { Latitude: '1', Longitude: '2', Precision: '3' }), ['location-event']],
    ['card event with the card id', event('user_get_card', undefined, { CardId: 'pCARD1', UserCardCode: '1' }), ['card']],
    ['card event with another card id', event('user_get_card', undefined, { CardId: 'pOTHER', UserCardCode: '1' }), []],
    ['location message', location(), ['location-msg']],
    ['image message by msgType list', image(), ['image']],
    ['unsubscribe: no rule, no default', event('unsubscribe'), []],
  ])('should match %s', (_name, message, expected) => {
    expect(ids(message)).toEqual(expected);
  });

  it('should return regex captures and named groups', () => {
    const d = decide(text('order 42'), RULES, NOON);
    expect(d.matched).toEqual([{ ruleId: 'regex', captures: ['order 42', '42'], named: { order: '42' } }]);
    expect(decide(follow('ad-7'), RULES, NOON).matched[0]).toEqual({ ruleId: 'follow-scene-regex', captures: ['ad-7', '7'] });
  });

  it('should tag every action with its rule id', () => {
    expect(decide(text('hello'), RULES, NOON).actions).toEqual([{ type: 'reply', reply: { kind: 'text', text: 'exact' }, ruleId: 'exact' }]);
    expect(decide(text('zzz'), RULES, NOON).actions).toEqual([{ type: 'reply', reply: { kind: 'text', text: 'default' }, ruleId: DEFAULT_RULE_ID }]);
  });
});

describe('decide (order and continue)', () => {
  const rules = rulesFrom(`
rules:
  - id: log-all-text
    continue: true
    match: { msgType: text }
    actions: [ { grant: audit } ]
  - id: first
    match: { content: { contains: a } }
    actions: [ { reply: first } ]
  - id: second
    match: { content: { contains: ab } }
    actions: [ { reply: second } ]
  - id: follow-grant
    continue: true
    match: { event: subscribe }
    actions: [ { grant: welcome } ]
welcome: [ { reply: hi } ]
default: [ { reply: dflt } ]
`);

  it.each([
    ['the first matching rule wins over a later, more specific one', 'ab', ['log-all-text', 'first']],
    ['a continue rule adds its actions and keeps looking', 'a', ['log-all-text', 'first']],
    ['the default applies after continue rules when nothing terminal matched', 'zzz', ['log-all-text', DEFAULT_RULE_ID]],
  ])('should apply %s', (_n, content, expected) => {
    expect(ids(text(content), rules)).toEqual(expected);
  });

  it('should keep actions in rule order', () => {
    expect(decide(text('zzz'), rules, NOON).actions.map((a) => a.type)).toEqual(['grant', 'reply']);
  });

  it('should give a follow both a continue rule and the welcome', () => {
    const d = decide(follow(), rules, NOON);
    expect(d.matched.map((m) => m.ruleId)).toEqual(['follow-grant', WELCOME_RULE_ID]);
    expect(d.actions.map((a) => a.type)).toEqual(['grant', 'reply']);
  });

  it('should leave default and welcome out when the file has none', () => {
    const bare = rulesFrom('rules: []');
    expect(decide(text('x'), bare, NOON)).toEqual({ matched: [], actions: [] });
    expect(decide(follow(), bare, NOON)).toEqual({ matched: [], actions: [] });
  });
});

describe('decide (windows, Asia/Shanghai)', () => {
  const rules = rulesFrom(`
rules:
  - id: office
    match: { content: agent }
    window: { weekdays: [mon, tue, wed, thu, fri], hours: "09:00-18:00" }
    actions: [ { transfer_customer_service: true } ]
  - id: night
    match: { content: night }
    window: { hours: "22:00-06:00" }
    actions: [ { reply: night } ]
  - id: festival
    match: { content: festival }
    window: { from: "2026-02-16", to: "2026-02-22" }
    actions: [ { reply: festival } ]
  - id: launch
    match: { content: launch }
    window: { from: "2026-03-01 10:30", to: "2026-03-01 11:00" }
    actions: [ { reply: launch } ]
default: [ { reply: no } ]
`);
  const at = (y: number, mo: number, d: number, h: number, mi: number, s: number) => shanghaiToEpoch(y, mo, d, h, mi, s);

  it.each([
    ['08:59:59 Monday is before office hours', 'agent', at(2026, 2, 2, 8, 59, 59), DEFAULT_RULE_ID],
    ['09:00:00 Monday opens', 'agent', at(2026, 2, 2, 9, 0, 0), 'office'],
    ['17:59:59 Monday is still open', 'agent', at(2026, 2, 2, 17, 59, 59), 'office'],
    ['18:00:00 Monday is closed', 'agent', at(2026, 2, 2, 18, 0, 0), DEFAULT_RULE_ID],
    ['Saturday noon is not a weekday', 'agent', at(2026, 2, 7, 12, 0, 0), DEFAULT_RULE_ID],
    ['09:00 Beijing is 01:00 UTC (not 09:00 UTC)', 'agent', Date.UTC(2026, 1, 2, 1, 0, 0), 'office'],
    ['a night window wraps midnight (23:30)', 'night', at(2026, 2, 2, 23, 30, 0), 'night'],
    ['a night window wraps midnight (05:59:59)', 'night', at(2026, 2, 3, 5, 59, 59), 'night'],
    ['a night window ends at 06:00:00', 'night', at(2026, 2, 3, 6, 0, 0), DEFAULT_RULE_ID],
    ['the day before the from date', 'festival', at(2026, 2, 15, 23, 59, 59), DEFAULT_RULE_ID],
    ['the from date at midnight', 'festival', at(2026, 2, 16, 0, 0, 0), 'festival'],
    ['the whole to date is included', 'festival', at(2026, 2, 22, 23, 59, 59), 'festival'],
    ['the day after the to date', 'festival', at(2026, 2, 23, 0, 0, 0), DEFAULT_RULE_ID],
    ['a time bound: from is inclusive', 'launch', at(2026, 3, 1, 10, 30, 0), 'launch'],
    ['a time bound: to is exclusive', 'launch', at(2026, 3, 1, 11, 0, 0), DEFAULT_RULE_ID],
  ])('should treat %s', (_n, content, now, expected) => {
    expect(ids(text(content), rules, now)).toEqual([expected]);
  });

  it('should ignore windows when asked (tooling)', () => {
    expect(decide(text('agent'), rules, at(2026, 2, 7, 3, 0, 0), { ignoreWindows: true }).matched[0].ruleId).toBe('office');
  });
});

describe('decide (compiled index)', () => {
  const big = rulesFrom(makeKeywordRules(1000, 50));

  it.each([
    ['keyword 0', 'kw-0'],
    ['keyword 999', 'kw-999'],
    ['KW500', 'kw-500'],
    ['kw500', 'kw-500'],
    ['regex-49-7', 'rx-49'],
    ['keyword 1000', DEFAULT_RULE_ID],
  ])('should find %s among 1,050 rules', (content, rule) => {
    expect(ids(text(content), big)).toEqual([rule]);
  });

  it('should agree with a plain in-order scan of every rule (property)', () => {
    const rules = rulesFrom(`
rules:
  - { id: a, match: { content: x }, actions: [], continue: true }
  - { id: b, match: { content: { contains: x } }, actions: [] , continue: true }
  - { id: c, match: { content: { keywords: [X, y], ignoreCase: true } }, actions: [], continue: true }
  - { id: d, match: { content: { regex: "^[xy]+$" } }, actions: [], continue: true }
  - { id: e, match: { content: y }, actions: [] }
  - { id: f, match: { content: { prefix: x } }, actions: [] }
  - { id: g, match: { event: CLICK, eventKey: [x, y] }, actions: [], continue: true }
  - { id: h, match: { event: CLICK }, actions: [] }
`);
    const naive = (m: InboundMessage) => {
      const out: string[] = [];
      for (const r of rules.list) {
        if (!r.test(m, NOON)) continue;
        out.push(r.id);
        if (!r.continue) break;
      }
      return out;
    };
    fc.assert(
      fc.property(fc.stringMatching(/^ ?[xyXY]{0,3} ?$/), fc.boolean(), (s, isClick) => {
        const m = isClick ? click(s.trim() || 'x') : text(s);
        expect(ids(m, rules)).toEqual(naive(m));
      }),
      { numRuns: 300 },
    );
  });
});

describe('decide (operator patterns on the linear-time engine)', () => {
  const HOSTILE = rulesFrom(`
rules:
  - { id: only-a, match: { content: { regex: "^(a|a)*$" } }, actions: [] }
  - { id: ends-in-a, match: { content: { regex: "(a+)+$" } }, actions: [] }
  - { id: a-then-b, match: { content: { regex: "(a|aa)*b", ignoreCase: true } }, actions: [] }
  - { id: words, match: { content: { regex: "^(\\\\w+\\\\s?)*$" } }, actions: [] }
  - { id: promo, match: { event: CLICK, eventKeyRegex: "^(P_|PROMO_)*(?<code>\\\\d+)$" }, actions: [] }
  - { id: store, match: { sceneRegex: "^(store-?)+(?<store>\\\\w+)$" }, actions: [] }
default: [ { reply: nothing matched } ]
welcome: [ { reply: welcome } ]
`);
  const hostile = 'a'.repeat(50_000);

  it.each([
    ['a hostile text for every content rule', text(`${hostile}!`), [DEFAULT_RULE_ID]],
    ['a long run that one rule accepts', text(hostile), ['only-a']],
    ['a nested repetition that ends well', text(`b${hostile}`), ['ends-in-a']],
    ['an alternation bomb that matches at its end', text(`${'A'.repeat(50_000)}B`), ['a-then-b']],
    ['words and spaces, then a stop', text(`${'xy '.repeat(15_000)}。`), [DEFAULT_RULE_ID]],
    ['a hostile menu key', click(`${'P_'.repeat(20_000)}PROMO_x`), []],
    ['a hostile QR scene', follow(`${'store-'.repeat(8_000)}!`), [WELCOME_RULE_ID]],
  ])('should decide %s to completion', (_, message, expected) => {
    // Each of these takes exponential time on a backtracking engine.
    expect(ids(message, HOSTILE)).toEqual(expected);
  });

  it('should capture groups of a hostile-shaped pattern', () => {
    expect(decide(click('P_PROMO_P_42'), HOSTILE, NOON).matched).toEqual([{ ruleId: 'promo', captures: ['P_PROMO_P_42', 'P_', '42'], named: { code: '42' } }]);
    expect(decide(follow('store-store-nanjing'), HOSTILE, NOON).matched[0]).toMatchObject({ ruleId: 'store', named: { store: 'nanjing' } });
    // \w is ASCII, as in JavaScript: a Chinese store name is not a word character.
    expect(decide(follow('store-南京'), HOSTILE, NOON).matched[0].ruleId).toBe(WELCOME_RULE_ID);
  });
});
