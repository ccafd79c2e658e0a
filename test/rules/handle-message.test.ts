import { createMessageHandler, shanghaiTimeString } from '../../src/rules/handle-message';
import { DEFAULT_GRANT_TEXTS, type GrantOutcome, type RewardsPort } from '../../src/rules/actions';
import { loadConfig, type BotConfig } from '../../src/config/load-config';
import { formatIssue } from '../../src/lib/config-issue';
import { fixedClock, shanghaiToEpoch } from '../../src/lib/clock';
import { silentLogger } from '../../src/lib/logger';
import { parseInboundXml } from '../../src/wechat/parse-inbound';
import { dedupeKey } from '../../src/wechat/inbound';
import { clickXml, subscribeXml, textXml } from '../helpers/inbound';
import { CAMPAIGNS_YAML, writeConfig, type TempConfig } from '../config/write-config';

const RULES = `
rules:
  - id: hello
    match: { content: hello }
    actions: [ { reply: "Hi <%= openid %>, it is <%= now %>" } ]
  - id: order
    match: { content: { regex: "^order (?<no>\\\\d+)$" } }
    actions: [ { reply: { template: order, vars: { shop: Nanjing Road } } } ]
  - id: dice
    match: { content: dice }
    actions: [ { reply: { random: [one, two, three] } } ]
  - id: news
    match: { content: news }
    actions: [ { reply: { news: { title: "News for <%= openid %>", url: "https://e.com/?u=<%= openid %>" } } } ]
  - id: agent
    match: { content: agent }
    actions: [ { transfer_customer_service: { kfAccount: "kf1@gh_x" } } ]
  - id: first-reply-wins
    match: { content: both }
    actions:
      - reply: first
      - transfer_customer_service: true
  - id: coupon
    match: { content: coupon }
    actions: [ { grant: welcome-packet } ]
  - id: silent
    match: { event: CLICK, eventKey: SILENT }
    actions: []
  - id: follow-store
    continue: true
    match: { event: subscribe, sceneRegex: "^store-(\\\\w+)$" }
    actions:
      - grant: welcome-packet
        replies:
          granted: "Store <%= captures[1] %>: ¥<%= amount %> (<%= outcome %>)"
          failed: "Failed: <%= reason %>"
welcome:
  - reply: "Welcome!"
default:
  - reply: "Say hello"
`;

const NOW = shanghaiToEpoch(2026, 2, 2, 9, 30, 5);

describe('shanghaiTimeString', () => {
  it('should give each second its own Beijing time, whatever order the calls come in', () => {
    const t = shanghaiToEpoch(2026, 2, 2, 9, 30, 5);
    expect(shanghaiTimeString(t)).toBe('2026-02-02 09:30:05');
    expect(shanghaiTimeString(t + 999)).toBe('2026-02-02 09:30:05');
    expect(shanghaiTimeString(t + 1000)).toBe('2026-02-02 09:30:06');
    expect(shanghaiTimeString(t - 1)).toBe('2026-02-02 09:30:04');
    expect(shanghaiTimeString(t + 86_400_000)).toBe('2026-02-03 09:30:05');
    expect(shanghaiTimeString(t)).toBe('2026-02-02 09:30:05');
  });
});

describe('createMessageHandler', () => {
  let tmp: TempConfig;
  let config: BotConfig;
  beforeAll(() => {
    tmp = writeConfig({
      'rules.yaml': RULES,
      'campaigns.yaml': CAMPAIGNS_YAML,
      'templates/order.ejs': 'Order <%= groups.no %> from <%= shop %>\n',
    });
    const r = loadConfig(tmp.dir, { viewsDir: tmp.dir });
    if (!r.ok) throw new Error(r.errors.map(formatIssue).join('\n'));
    config = r.config;
  });
  afterAll(() => tmp.remove());

  function handler(options: { rewards?: RewardsPort; random?: () => number } = {}) {
    return createMessageHandler({ config: { current: () => config }, clock: fixedClock(NOW), log: silentLogger(), ...options });
  }
  const text = (content: string) => parseInboundXml(textXml({ content, from: 'oUser1' }));

  it('should render inline EJS with the message variables', async () => {
    await expect(handler()(text('hello'))).resolves.toEqual({ type: 'text', content: 'Hi oUser1, it is 2026-02-02 09:30:05' });
  });

  it('should render a named template with regex groups and rule vars, trimming the final newline', async () => {
    await expect(handler()(text('order 77'))).resolves.toEqual({ type: 'text', content: 'Order 77 from Nanjing Road' });
  });

  it.each([
    [0, 'one'],
    [0.5, 'two'],
    [0.999, 'three'],
  ])('should pick a random reply (random() = %s → %s)', async (r, expected) => {
    await expect(handler({ random: () => r })(text('dice'))).resolves.toEqual({ type: 'text', content: expected });
  });

  it('should render EJS inside news articles', async () => {
    await expect(handler()(text('news'))).resolves.toEqual({
      type: 'news',
      articles: [{ title: 'News for oUser1', url: 'https://e.com/?u=oUser1' }],
    });
  });

  it('should transfer to a named agent', async () => {
    await expect(handler()(text('agent'))).resolves.toEqual({ type: 'transfer_customer_service', kfAccount: 'kf1@gh_x' });
  });

  it('should use the first reply-producing action', async () => {
    await expect(handler()(text('both'))).resolves.toEqual({ type: 'text', content: 'first' });
  });

  it('should answer none when the matched rule has no actions', async () => {
    await expect(handler()(parseInboundXml(clickXml('SILENT')))).resolves.toEqual({ type: 'none' });
  });

  it('should answer none for an event nothing matched (no default for events)', async () => {
    await expect(handler()(parseInboundXml(clickXml('OTHER')))).resolves.toEqual({ type: 'none' });
  });

  it('should use the default for an unmatched user message', async () => {
    await expect(handler()(text('zzz'))).resolves.toEqual({ type: 'text', content: 'Say hello' });
  });

  it('should call the rewards port with the dedupe key and rule id, and reply with the outcome variant', async () => {
    const calls: unknown[] = [];
    const rewards: RewardsPort = {
      grant: async (req) => {
        calls.push(req);
        return { outcome: 'granted', amountFen: 188 };
      },
    };
    const message = parseInboundXml(subscribeXml('store-nj', { from: 'oFan' }));
    await expect(handler({ rewards })(message)).resolves.toEqual({ type: 'text', content: 'Store nj: ¥1.88 (granted)' });
    expect(calls).toEqual([{ campaign: 'welcome-packet', openId: 'oFan', dedupeKey: dedupeKey(message), ruleId: 'follow-store', now: NOW, via: 'plain' }]);
  });

  it('should tell the rewards port how the message arrived: encrypted only when the webhook says so', async () => {
    const vias: unknown[] = [];
    const rewards: RewardsPort = {
      grant: async (req) => {
        vias.push(req.via);
        return { outcome: 'granted', amountFen: 188 };
      },
    };
    const h = handler({ rewards });
    await h(parseInboundXml(subscribeXml('store-nj', { from: 'oA' })), { encrypted: true });
    await h(parseInboundXml(subscribeXml('store-nj', { from: 'oB' })), { encrypted: false });
    await h(parseInboundXml(subscribeXml('store-nj', { from: 'oC' })));
    expect(vias).toEqual(['encrypted', 'plain', 'plain']);
  });

  it.each<[GrantOutcome, string]>([
    ['already_claimed', DEFAULT_GRANT_TEXTS.already_claimed],
    ['limit_reached', DEFAULT_GRANT_TEXTS.limit_reached],
    ['outside_hours', DEFAULT_GRANT_TEXTS.outside_hours],
    ['campaign_over', 'Campaign welcome-packet has ended.'],
    ['failed', 'Failed: budget exhausted'],
  ])('should reply to outcome %s with its variant (rule, then campaign, then default text)', async (outcome, expected) => {
    const rewards: RewardsPort = { grant: async () => ({ outcome, reason: 'budget exhausted' }) };
    await expect(handler({ rewards })(parseInboundXml(subscribeXml('store-nj')))).resolves.toEqual({ type: 'text', content: expected });
  });

  it("should answer a grant deferred by quiet hours with the deferred text, never the rule's 'on its way'", async () => {
    const deferredUntil = shanghaiToEpoch(2026, 2, 3, 8, 0, 0);
    const rewards: RewardsPort = { grant: async () => ({ outcome: 'granted', amountFen: 188, deferredUntil }) };
    await expect(handler({ rewards })(parseInboundXml(subscribeXml('store-nj')))).resolves.toEqual({
      type: 'text',
      content: '🎉 A reward is yours (¥1.88). It will be sent after 08:00 Beijing time.',
    });
  });

  it('should never say ¥0.00 for a reward without money (a coupon)', async () => {
    const rewards: RewardsPort = { grant: async () => ({ outcome: 'granted', amountFen: 0 }) };
    const h = handler({ rewards });
    const reply = await h(parseInboundXml(textXml({ content: 'coupon' })));
    expect(reply).toEqual({ type: 'text', content: '🎉 A reward is on its way to you. Please check your WeChat messages shortly.' });
  });

  it('should answer failed with a reason when no rewards are wired', async () => {
    await expect(handler()(parseInboundXml(subscribeXml('store-nj')))).resolves.toEqual({
      type: 'text',
      content: 'Failed: rewards are not configured',
    });
  });

  it('should treat a throwing rewards port as failed without leaking the error', async () => {
    const rewards: RewardsPort = {
      grant: async () => {
        throw new Error('db password=hunter2 refused');
      },
    };
    await expect(handler({ rewards })(parseInboundXml(subscribeXml('store-nj')))).resolves.toEqual({ type: 'text', content: 'Failed: internal error' });
  });

  it('should fall through to the welcome after a continue rule', async () => {
    const rewards: RewardsPort = { grant: async () => ({ outcome: 'granted', amountFen: 100 }) };
    // follow-store continues, so the welcome also applies; the grant's reply came first and wins.
    await expect(handler({ rewards })(parseInboundXml(subscribeXml('store-a')))).resolves.toEqual({ type: 'text', content: 'Store a: ¥1.00 (granted)' });
    await expect(handler({ rewards })(parseInboundXml(subscribeXml()))).resolves.toEqual({ type: 'text', content: 'Welcome!' });
  });

  it('should use one config snapshot per message', async () => {
    let calls = 0;
    const h = createMessageHandler({
      config: {
        current: () => {
          calls++;
          return config;
        },
      },
      clock: fixedClock(NOW),
      log: silentLogger(),
    });
    await h(text('hello'));
    expect(calls).toBe(1);
  });

  it('should refuse missing dependencies when built', () => {
    expect(() => createMessageHandler({ config: undefined as never, clock: fixedClock(0), log: silentLogger() })).toThrow(
      'createMessageHandler: deps.config must have current()',
    );
    expect(() => createMessageHandler({ config: { current: () => config }, clock: undefined as never, log: silentLogger() })).toThrow(
      'createMessageHandler: deps.clock is required',
    );
  });
});
