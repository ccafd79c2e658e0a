import { rulesFileSchema } from '../../src/rules/schema';
import { configErrorMap } from '../../src/lib/schema-helpers';
import { compileYaml, schemaIssues } from './rules-from';

const EVENTS =
  'subscribe, unsubscribe, SCAN, LOCATION, CLICK, VIEW, scancode_push, scancode_waitmsg, pic_sysphoto, pic_photo_or_album, pic_weixin, location_select, view_miniprogram, MASSSENDJOBFINISH, TEMPLATESENDJOBFINISH, card_pass_check, card_not_pass_check, user_get_card, user_gifting_card, user_del_card, user_consume_card, user_pay_from_pay_cell, user_view_card, user_enter_session_from_card, update_member_card, card_sku_remind, card_pay_order, submit_membercard_user_info, card_merchant_check_result, unknown';

const one = (match: string, extra = '') => `rules:\n  - id: r\n    match: ${match}\n    actions: [ { reply: ok } ]${extra}\n`;

describe('rulesFileSchema', () => {
  it.each([
    ['an unknown event', one('{ event: subscrib }'), [`rules.yaml:3 rules[0].match.event: "subscrib" is not one of ${EVENTS} — did you mean "subscribe"?`]],
    [
      'an unknown msgType',
      one('{ msgType: txt }'),
      [
        'rules.yaml:3 rules[0].match.msgType: "txt" is not one of text, image, voice, video, shortvideo, location, link, miniprogrampage, event, unknown — did you mean "text"?',
      ],
    ],
    [
      'an unknown match key',
      one('{ contnet: hi }'),
      [
        'rules.yaml:3 rules[0].match.contnet: unknown key "contnet" — did you mean "content"?; allowed keys: msgType, event, eventKey, eventKeyRegex, content, scene, sceneRegex, hasScene, cardId',
      ],
    ],
    ['a bad regex', one('{ content: { regex: "a(" } }'), ['rules.yaml:3 rules[0].match.content.regex: "a(" is not a valid regular expression: Unterminated group']],
    [
      'a backreference',
      one('{ content: { regex: "(a)\\\\1" } }'),
      [
        'rules.yaml:3 rules[0].match.content.regex: "(a)\\\\1" uses a backreference "\\1", which cannot run in linear time; repeat the group\'s pattern instead of referring back to what it matched',
      ],
    ],
    [
      'a lookahead in an event-key pattern',
      one('{ event: CLICK, eventKeyRegex: "^(?=PROMO)" }'),
      [
        'rules.yaml:3 rules[0].match.eventKeyRegex: "^(?=PROMO)" uses a lookahead "(?=…)", which cannot run in linear time; match the text itself and capture the part you need with a group',
      ],
    ],
    [
      'a lookbehind in a scene pattern',
      one('{ sceneRegex: "(?<!b)a" }'),
      [
        'rules.yaml:3 rules[0].match.sceneRegex: "(?<!b)a" uses a lookbehind "(?<!…)", which cannot run in linear time; match the text itself and capture the part you need with a group',
      ],
    ],
    [
      'two content matchers',
      one('{ content: { equals: a, prefix: b } }'),
      ['rules.yaml:3 rules[0].match.content: has several matchers (equals, prefix); use one per rule, or split the rule'],
    ],
    [
      'no content matcher',
      one('{ content: { ignoreCase: true } }'),
      ['rules.yaml:3 rules[0].match.content: needs exactly one of equals, contains, prefix, regex, keywords'],
    ],
    ['an empty keyword list', one('{ content: { keywords: [] } }'), ['rules.yaml:3 rules[0].match.content.keywords: has 0 items; at least 1 required']],
    [
      'bad hours',
      one('{ content: a }', '\n    window: { hours: "9-18" }'),
      ['rules.yaml:5 rules[0].window.hours: "9-18" is not a range of hours like "09:00-18:00" (24-hour clock, Beijing time)'],
    ],
    [
      'a bad weekday',
      one('{ content: a }', '\n    window: { weekdays: [mon, funday] }'),
      ['rules.yaml:5 rules[0].window.weekdays[1]: "funday" is not a weekday (1 = Monday … 7 = Sunday, or mon, tue, wed, thu, fri, sat, sun)'],
    ],
    [
      'a bad date',
      one('{ content: a }', '\n    window: { from: "2026-02-30" }'),
      ['rules.yaml:5 rules[0].window.from: "2026-02-30" is not a date like "2026-02-01" or "2026-02-01 09:30" (Beijing time)'],
    ],
    [
      'a bad rule id',
      'rules:\n  - id: "hello world"\n    actions: []\n',
      ['rules.yaml:2 rules[0].id: "hello world" is not a valid rule id (letters, digits, "_", "-", "." — up to 64)'],
    ],
    ['missing actions', 'rules:\n  - id: a\n    match: { content: a }\n', ['rules.yaml:2 rules[0].actions: is required (expected a list)']],
    [
      'an unknown action',
      'rules:\n  - id: a\n    actions: [ { replyy: hi } ]\n',
      ['rules.yaml:3 rules[0].actions[0]: action needs exactly one of the keys reply, grant, transfer_customer_service (found "replyy") — did you mean "reply"?'],
    ],
    [
      'two actions in one item',
      'rules:\n  - id: a\n    actions: [ { reply: hi, grant: x } ]\n',
      ['rules.yaml:3 rules[0].actions[0]: action has several of the keys reply, grant; use one per action'],
    ],
    [
      'an unknown reply kind',
      'rules:\n  - id: a\n    actions: [ { reply: { txt: hi } } ]\n',
      [
        'rules.yaml:3 rules[0].actions[0].reply: reply needs exactly one of the keys text, template, random, image, voice, video, music, news, none (found "txt") — did you mean "text"?',
      ],
    ],
    [
      'an unknown grant outcome',
      'rules:\n  - id: a\n    actions: [ { grant: p, replies: { won: yay } } ]\n',
      [
        'rules.yaml:3 rules[0].actions[0].replies.won: unknown key "won"; allowed keys: granted, already_claimed, limit_reached, outside_hours, campaign_over, failed, deferred',
      ],
    ],
    [
      'too many news articles',
      'rules:\n  - id: a\n    actions: [ { reply: { news: [ { title: a }, { title: b } ] } } ]\n',
      ['rules.yaml:3 rules[0].actions[0].reply.news: has 2 articles; WeChat shows at most 1 in a passive reply'],
    ],
    [
      'a bad transfer',
      'rules:\n  - id: a\n    actions: [ { transfer_customer_service: yes } ]\n',
      ['rules.yaml:3 rules[0].actions[0].transfer_customer_service: expected true, or a mapping { kfAccount: "kf2001@gh_…" }'],
    ],
    ['an unknown top-level key', 'rulez: []\n', ['rules.yaml:1 rulez: unknown key "rulez" — did you mean "rules"?; allowed keys: rules, default, welcome']],
    ['a list at the top', '- a\n', ['rules.yaml:1: expected a mapping, got a list']],
  ])('should refuse %s with an exact message', (_n, text, expected) => {
    expect(schemaIssues(text)).toEqual(expected);
  });

  it.each([
    [
      'content on an image rule',
      one('{ msgType: image, content: a }'),
      ['rules.yaml:3 rules[0].match.content: content applies to text messages only (msgType is image)'],
    ],
    ['a scene on a CLICK rule', one('{ event: CLICK, scene: s }'), ['rules.yaml:3 rules[0].match.scene: scene applies only to subscribe, SCAN events (not CLICK)']],
    [
      'a card id on a follow rule',
      one('{ event: subscribe, cardId: p1 }'),
      [expect.stringContaining('rules.yaml:3 rules[0].match.cardId: cardId applies only to card_pass_check')],
    ],
    [
      'an event key on LOCATION',
      one('{ event: LOCATION, eventKey: k }'),
      [expect.stringContaining('rules.yaml:3 rules[0].match.eventKey: eventKey applies only to subscribe, SCAN, CLICK')],
    ],
    [
      'event conditions on a text rule',
      one('{ msgType: text, eventKey: k }'),
      ['rules.yaml:3 rules[0].match.msgType: event conditions need msgType event (msgType is text)'],
    ],
  ])('should refuse contradictory conditions: %s', (_n, text, expected) => {
    expect(schemaIssues(text)).toEqual(expected);
  });

  it('should refuse duplicate rule ids', () => {
    expect(compileYaml('rules:\n  - { id: a, actions: [] }\n  - { id: a, actions: [] }\n').errors).toEqual([
      { path: ['rules', 1, 'id'], message: 'duplicate rule id "a" (also rules[0])' },
    ]);
  });

  it('should normalise every shorthand', () => {
    const r = rulesFileSchema.parse(
      {
        rules: [
          {
            id: 'a',
            match: { content: 'hi', event: undefined, scene: 42 },
            actions: [
              { reply: 'text' },
              { reply: { template: 't', vars: { n: 1 } } },
              { reply: { random: ['x', { image: 'm' }] } },
              { reply: { news: { title: 'T' } } },
              { reply: { none: true } },
              { grant: 'c', replies: { failed: 'oops' } },
              { transfer_customer_service: true },
              { transfer_customer_service: { kfAccount: 'kf@gh' } },
            ],
          },
        ],
      },
      { error: configErrorMap },
    );
    expect(r.rules[0].match).toEqual({ content: { equals: ['hi'] }, scene: ['42'] });
    expect(r.rules[0].actions).toEqual([
      { type: 'reply', reply: { kind: 'text', text: 'text' } },
      { type: 'reply', reply: { kind: 'template', template: 't', vars: { n: '1' } } },
      {
        type: 'reply',
        reply: {
          kind: 'random',
          random: [
            { kind: 'text', text: 'x' },
            { kind: 'image', mediaId: 'm' },
          ],
        },
      },
      { type: 'reply', reply: { kind: 'news', articles: [{ title: 'T' }] } },
      { type: 'reply', reply: { kind: 'none' } },
      { type: 'grant', campaign: 'c', replies: { failed: { kind: 'text', text: 'oops' } } },
      { type: 'transfer_customer_service' },
      { type: 'transfer_customer_service', kfAccount: 'kf@gh' },
    ]);
    expect(r.default).toEqual([]);
    expect(r.welcome).toEqual([]);
  });

  it('should treat an empty file as no rules', () => {
    expect(rulesFileSchema.parse(null)).toEqual({ rules: [], default: [], welcome: [] });
  });
});

describe('compileRules', () => {
  it('should warn about rules after a catch-all', () => {
    const r = compileYaml(`
rules:
  - { id: all-events, match: { msgType: event }, actions: [] }
  - { id: click, match: { event: CLICK, eventKey: A }, actions: [] }
  - { id: text, match: { content: a }, actions: [] }
  - { id: all, actions: [] }
  - { id: after, match: { content: b }, actions: [] }
`);
    expect(r.warnings).toEqual([
      { path: ['rules', 1], message: 'rule "click" can never match: rule "all-events" (rules[0]) above matches every event message first' },
      { path: ['rules', 4], message: 'rule "after" can never match: rule "all" (rules[3]) above matches every message first' },
    ]);
  });

  it('should not warn after a catch-all that continues or has a window', () => {
    const r = compileYaml(`
rules:
  - { id: log, continue: true, actions: [] }
  - { id: office, window: { hours: "09:00-18:00" }, actions: [] }
  - { id: text, match: { content: a }, actions: [] }
`);
    expect(r.warnings).toEqual([]);
  });

  it('should describe each rule in words', () => {
    const r = compileYaml(`
rules:
  - id: a
    match: { content: { keywords: [hi, yo], ignoreCase: true } }
    window: { weekdays: [sat, sun], hours: "09:00-18:00" }
    actions: []
`);
    expect(r.rules.list[0].conditions).toEqual(['text is "hi" or "yo" (ignoring case)', 'window: on Sat/Sun between 09:00-18:00 (Asia/Shanghai)']);
  });
});
