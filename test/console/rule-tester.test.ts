import path from 'node:path';
import { loadConfig, type BotConfig } from '../../src/config/load-config';
import { shanghaiToEpoch } from '../../src/lib/clock';
import { createReplyRenderer } from '../../src/reply/render-reply';
import { clickKeysOf, runRuleTest } from '../../src/console/rule-tester';
import { translator } from '../../src/console/i18n';
import { MAX_TEST_TEXT, parseRuleTestInput } from '../../src/console/rule-test-input';
import { RULES_MESSAGES } from '../../src/console/rules-messages';

const ROOT = path.join(__dirname, '..', '..');
const NOW = shanghaiToEpoch(2026, 12, 4, 12, 0, 0);
const renderer = createReplyRenderer({ viewsDir: path.join(ROOT, 'views') });

function sampleConfig(): BotConfig {
  const r = loadConfig(path.join(ROOT, 'config'), { viewsDir: path.join(ROOT, 'views') });
  if (!r.ok) throw new Error('config/ is invalid');
  return r.config;
}

const english = translator(RULES_MESSAGES, 'en');

const run = (q: Record<string, unknown>) => {
  const config = sampleConfig();
  const parsed = parseRuleTestInput(
    q,
    clickKeysOf(config).map((k) => k.key),
  );
  if (!parsed.ok) throw new Error(english(parsed.error.key, parsed.error.vars));
  return runRuleTest(parsed.input, { config, renderer, now: NOW, random: () => 0 });
};

describe('parseRuleTestInput', () => {
  it.each([
    [{ kind: 'text', text: '' }, 'type the text a follower sends'],
    [{ kind: 'text', text: 'x'.repeat(MAX_TEST_TEXT + 1) }, `longer than ${MAX_TEST_TEXT}`],
    [{ kind: 'click', key: 'NOT_A_KEY' }, 'pick a menu key of config/menu.yaml: MENU_HELP'],
    [{ kind: 'follow', scene: 's'.repeat(65) }, 'at most 64'],
    [{ kind: 'order', amount: '1.234' }, 'yuan with at most 2 decimals'],
    [{ kind: 'order', amount: '0' }, 'yuan with at most 2 decimals'],
    [{ kind: 'text', text: 'hi', outcome: 'maybe' }, 'outcome must be one of granted'],
    [{ kind: 'drop table' }, 'kind must be one of text, click, follow, order'],
  ])('should refuse bad input %# with a clear message', (q, message) => {
    const r = parseRuleTestInput(q, ['MENU_HELP', 'MENU_TODAY']);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : english(r.error.key, r.error.vars)).toContain(message);
  });

  it('should take the first value of a repeated query field', () => {
    expect(parseRuleTestInput({ kind: 'text', text: ['hello', 'x'] }, [])).toEqual({ ok: true, input: { kind: 'text', text: 'hello', outcome: 'granted' } });
  });
});

describe('runRuleTest', () => {
  it('should show the rule for "hello" in the sample config, where it is written and the reply rendered from the views', async () => {
    const r = await run({ kind: 'text', text: 'hello' });
    if (r.kind !== 'message') throw new Error('expected a message result');
    expect(r.matched[0]).toMatchObject({ ruleId: 'hello', kind: 'rule', where: expect.stringMatching(/config\/rules\.yaml:\d+$/) });
    expect(r.reply.lines[0]).toBe('text');
    expect(r.reply.xml).toContain('<MsgType><![CDATA[text]]></MsgType>');
    expect(r.reply.xml).toContain('Hello! 👋');
    expect(r.grants).toEqual([]);
  });

  it('should preview the welcome packet of a follow without granting it', async () => {
    const r = await run({ kind: 'follow' });
    if (r.kind !== 'message') throw new Error('expected a message result');
    expect(r.grants).toEqual([expect.objectContaining({ campaign: 'welcome-packet', kind: 'red_packet', amountYuan: '1.00–2.88', outcome: 'granted' })]);
  });

  it('should offer the menu click keys and explain a click', async () => {
    expect(clickKeysOf(sampleConfig()).map((k) => k.key)).toEqual(expect.arrayContaining(['MENU_TODAY', 'MENU_HELP']));
    const r = await run({ kind: 'click', key: 'MENU_HELP' });
    expect(r.kind === 'message' && r.matched.length).toBeGreaterThan(0);
  });

  it('should tell which spend rule and tier an order earns', async () => {
    const r = await run({ kind: 'order', amount: '320' });
    expect(r).toMatchObject({ kind: 'order', order: { amountYuan: '320.00' }, reward: { campaign: 'spend-packet', amountYuan: '30.00' } });
    expect(r.kind === 'order' && r.verdicts[0]).toMatchObject({ ruleId: 'spend-100', where: expect.stringMatching(/config\/spend\.yaml:\d+$/), state: 'applies' });
    const small = await run({ kind: 'order', amount: '5.00' });
    expect(small).toMatchObject({ kind: 'order', verdicts: [expect.objectContaining({ state: 'no', reason: expect.stringContaining('below the lowest tier') })] });
    expect(small.kind === 'order' && small.reward).toBeFalsy();
  });
});
