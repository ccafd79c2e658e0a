import fs from 'node:fs';
import path from 'node:path';
import { formatIssue } from '../../src/lib/config-issue';
import { loadConfig, type BotConfig } from '../../src/config/load-config';
import { fixedClock } from '../../src/lib/clock';
import { silentLogger } from '../../src/lib/logger';
import { createMessageHandler } from '../../src/rules/handle-message';
import { createMessageRouter } from '../../src/rules/handle-message';
import type { InboundMessage } from '../../src/wechat/inbound';
import { parseInboundXml } from '../../src/wechat/parse-inbound';
import { textXml } from '../helpers/inbound';
import { writeConfig, type TempConfig } from '../config/write-config';

const RULES = `
rules:
  - id: hello
    match: { content: hello }
    actions: [ { reply: "Hi <%= openid %>" } ]
  - id: card-thanks
    match: { event: user_get_card }
    actions: [ { reply: "Thanks for taking the card" } ]
`;
const cardEvent = () => parseInboundXml(fs.readFileSync(path.join(__dirname, '../fixtures/inbound/card-user_get_card.xml'), 'utf8'));

describe('createMessageRouter', () => {
  let tmp: TempConfig;
  let config: BotConfig;
  beforeAll(() => {
    tmp = writeConfig({ 'rules.yaml': RULES });
    const r = loadConfig(tmp.dir, { viewsDir: tmp.dir });
    if (!r.ok) throw new Error(r.errors.map(formatIssue).join('\n'));
    config = r.config;
  });
  afterAll(() => tmp.remove());

  /** The real rules handler, noting in `seen` when it runs. */
  function router(seen: string[], cardEvents?: (e: InboundMessage) => Promise<unknown>) {
    const handler = createMessageHandler({ config: { current: () => config }, clock: fixedClock(0), log: silentLogger() });
    return createMessageRouter({
      followers: { touch: (openId) => void seen.push(`observe ${openId}`) },
      cards: cardEvents && { handleEvent: cardEvents },
      rules: async (m, d) => {
        seen.push('rules');
        return handler(m, d);
      },
    });
  }

  it('should apply a card event to the card ledger first, then let the rules answer it', async () => {
    const seen: string[] = [];
    const event = cardEvent();
    const reply = await router(seen, async (e) => void seen.push(`card ${e.MsgType === 'event' ? e.Event : ''}`))(event, { encrypted: false });
    expect(seen).toEqual([`observe ${event.FromUserName}`, 'card user_get_card', 'rules']);
    expect(reply).toEqual({ type: 'text', content: 'Thanks for taking the card' });
  });

  it('should send a message that is no card event straight to the rules', async () => {
    const seen: string[] = [];
    const reply = await router(seen, async () => void seen.push('card'))(parseInboundXml(textXml({ content: 'hello', from: 'oUser1' })), { encrypted: false });
    expect(seen).toEqual(['observe oUser1', 'rules']);
    expect(reply).toEqual({ type: 'text', content: 'Hi oUser1' });
  });

  it('should not run the rules when the card ledger could not take the event (WeChat re-sends it)', async () => {
    const seen: string[] = [];
    const route = router(seen, async () => {
      throw new Error('card ledger down');
    });
    await expect(route(cardEvent(), { encrypted: true })).rejects.toThrow('card ledger down');
    expect(seen).not.toContain('rules');
  });

  it('should refuse to be built without the rules handler', () => {
    expect(() => createMessageRouter({} as never)).toThrow(/deps.rules/);
  });
});
