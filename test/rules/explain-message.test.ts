import path from 'node:path';
import { loadConfig, type BotConfig } from '../../src/config/load-config';
import { shanghaiToEpoch } from '../../src/lib/clock';
import { explainMessage } from '../../src/rules/explain-message';
import { followerMessage } from '../../src/wechat/follower-message';

const BASIC = path.join(__dirname, '..', 'fixtures', 'config', 'basic');
const NOW = shanghaiToEpoch(2026, 2, 2, 12, 0, 0);

function config(): BotConfig {
  const r = loadConfig(BASIC, { viewsDir: BASIC });
  if (!r.ok) throw new Error('fixture config is invalid');
  return r.config;
}

describe('explainMessage', () => {
  it('should name the matching rule with its place and conditions, and build the reply', async () => {
    const x = await explainMessage(followerMessage({ kind: 'text', text: 'HI' }, { openid: 'oFan', nowMs: NOW }), config(), NOW);
    expect(x.matched).toEqual([
      expect.objectContaining({ ruleId: 'hello', kind: 'rule', source: expect.objectContaining({ line: 3 }), conditions: ['text is "hello" or "hi" (ignoring case)'] }),
    ]);
    expect(x.reply).toEqual({ type: 'text', content: 'Hello oFan!' });
    expect(x.grants).toEqual([]);
  });

  it('should preview a grant (campaign, kind, amount) with the assumed outcome and record nothing', async () => {
    const x = await explainMessage(followerMessage({ kind: 'follow', scene: 'store-1' }, { openid: 'o1', nowMs: NOW }), config(), NOW);
    expect(x.grants).toEqual([{ ruleId: 'follow-store', campaign: 'welcome-packet', outcome: 'granted', kind: 'red_packet', minFen: 100, maxFen: 100 }]);
    expect(x.reply).toEqual({ type: 'text', content: 'Welcome from store 1! ¥1.00 is on its way.' });
    const refused = await explainMessage(followerMessage({ kind: 'follow', scene: 'store-1' }, { openid: 'o1', nowMs: NOW }), config(), NOW, {
      outcome: 'limit_reached',
    });
    expect(refused.grants[0]?.outcome).toBe('limit_reached');
  });

  it('should say when the top-level welcome or default actions apply, and when nothing does', async () => {
    const follow = await explainMessage(followerMessage({ kind: 'follow' }, { openid: 'o1', nowMs: NOW }), config(), NOW);
    expect(follow.matched).toEqual([expect.objectContaining({ ruleId: '#welcome', kind: 'welcome', conditions: [] })]);
    const other = await explainMessage(followerMessage({ kind: 'click', key: 'NOPE' }, { openid: 'o1', nowMs: NOW }), config(), NOW);
    expect(other).toEqual({ matched: [], grants: [], reply: { type: 'none' } });
  });
});
