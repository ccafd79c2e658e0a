import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { createConfigHolder, type ConfigHolder, type ReloadResult } from '../../src/config/config-holder';
import { ConfigError } from '../../src/lib/config-issue';
import { displayPath } from '../../src/config/load-templates';
import type { BotConfig } from '../../src/config/load-config';
import { fixedClock } from '../../src/lib/clock';
import { silentLogger } from '../../src/lib/logger';
import { createMessageHandler } from '../../src/rules/handle-message';
import { decide } from '../../src/rules/engine';
import { parseInboundXml } from '../../src/wechat/parse-inbound';
import { textXml } from '../helpers/inbound';
import { createTestWebhook } from '../helpers/test-webhook';
import { writeConfig, type TempConfig } from './write-config';

const rulesAnswering = (answer: string) => `rules:\n  - id: hello\n    match: { content: hello }\n    actions: [ { reply: "${answer}" } ]\n`;
const BAD_RULES = 'rules:\n  - id: hello\n    match: { event: subscrib }\n    actions: []\n';
const T0 = Date.parse('2026-02-02T01:00:00Z');

function nextChange(holder: ConfigHolder): Promise<BotConfig> {
  return new Promise((resolve) => {
    const off = holder.onChange((config) => {
      off();
      resolve(config);
    });
  });
}

function nextRefusal(holder: ConfigHolder): Promise<ReloadResult> {
  return new Promise((resolve) => {
    const off = holder.onReload((r) => {
      if (!r.ok) {
        off();
        resolve(r);
      }
    });
  });
}

const replyTo = (holder: ConfigHolder, text: string) =>
  decide(parseInboundXml(textXml({ content: text })), holder.current().rules, T0).actions.map((a) =>
    a.type === 'reply' && a.reply.kind === 'text' ? a.reply.text : a.type,
  );

describe('createConfigHolder', () => {
  let tmp: TempConfig;
  let holder: ConfigHolder | undefined;
  beforeEach(() => {
    tmp = writeConfig({ 'rules.yaml': rulesAnswering('one'), 'templates/t.ejs': 'T1' });
  });
  afterEach(() => {
    holder?.close();
    holder = undefined;
    tmp.remove();
  });
  const make = (watch = false) => {
    holder = createConfigHolder({ dir: tmp.dir, viewsDir: tmp.dir, log: silentLogger(), watch, debounceMs: 10, clock: fixedClock(T0) });
    return holder;
  };

  it('should throw ConfigError with every error when the first load fails', () => {
    tmp.write('rules.yaml', BAD_RULES);
    tmp.write('menu.yaml', 'button: 3\n');
    let caught: unknown;
    try {
      make();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const e = caught as ConfigError;
    expect(e.issues).toHaveLength(2);
    expect(e.file).toBe(displayPath(path.join(tmp.dir, 'rules.yaml')));
    expect(e.path).toBe('rules[0].match.event');
    expect(e.message).toMatch(/^invalid config \(2 errors\):\n {2}.*rules\.yaml:3 rules\[0\] \(id "hello"\)\.match\.event: "subscrib" is not one of subscribe, /);
    expect(e.message).toContain(`menu.yaml:1 button: expected a list, got 3`);
  });

  it('should validate its options', () => {
    expect(() => createConfigHolder({ dir: '', viewsDir: 'v', log: silentLogger() })).toThrow('createConfigHolder: options.dir must be the config folder');
  });

  it('should report its status for /healthz', () => {
    const h = make();
    expect(h.status()).toEqual({ ok: true, version: h.current().version, loadedAt: '2026-02-02T01:00:00.000Z', warnings: 0 });
  });

  it('should pick up an edit while running (file watch) and swap the config', async () => {
    const h = make(true);
    const before = h.current();
    expect(replyTo(h, 'hello')).toEqual(['one']);
    const changed = nextChange(h);
    tmp.write('rules.yaml', rulesAnswering('two'));
    const after = await changed;
    expect(after).toBe(h.current());
    expect(after.version).not.toBe(before.version);
    expect(replyTo(h, 'hello')).toEqual(['two']);
    expect(before.rules.list[0].actions).toEqual([{ type: 'reply', reply: { kind: 'text', text: 'one' } }]); // the old snapshot is untouched
  });

  it('should see an editor that writes a temp file and renames it over the original', async () => {
    const h = make(true);
    const changed = nextChange(h);
    const tmpFile = path.join(tmp.dir, '.rules.yaml.swp');
    fs.writeFileSync(tmpFile, rulesAnswering('renamed'));
    fs.renameSync(tmpFile, path.join(tmp.dir, 'rules.yaml'));
    await changed;
    expect(replyTo(h, 'hello')).toEqual(['renamed']);
  });

  it('should see a template edit', async () => {
    const h = make(true);
    const changed = nextChange(h);
    tmp.write('templates/t.ejs', 'T2');
    const after = await changed;
    expect(after.templates.named.get('t')!({})).toBe('T2');
  });

  it('should refuse a bad edit, keep serving the last good config, and show the error in status', async () => {
    const h = make(true);
    const good = h.current();
    const refused = nextRefusal(h);
    tmp.write('rules.yaml', BAD_RULES);
    const r = await refused;
    expect(r.ok).toBe(false);
    expect(r.version).toBe(good.version);
    expect(h.current()).toBe(good);
    expect(replyTo(h, 'hello')).toEqual(['one']);
    const file = displayPath(path.join(tmp.dir, 'rules.yaml'));
    expect(h.status()).toEqual({
      ok: false,
      version: good.version,
      loadedAt: '2026-02-02T01:00:00.000Z',
      lastError: expect.stringMatching(
        new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3 rules\\[0\\] \\(id "hello"\\)\\.match\\.event: "subscrib" is not one of subscribe, unsubscribe, `),
      ),
      warnings: 0,
    });
    // A fix clears the error.
    const changed = nextChange(h);
    tmp.write('rules.yaml', rulesAnswering('fixed'));
    await changed;
    expect(h.status().ok).toBe(true);
    expect(h.status().lastError).toBeUndefined();
  });

  it('should reload on demand and report unchanged versions', () => {
    const h = make();
    expect(h.reload()).toEqual({ ok: true, changed: false, version: h.current().version, warnings: [] });
    tmp.write('rules.yaml', rulesAnswering('three'));
    const r = h.reload();
    expect(r).toMatchObject({ ok: true, changed: true });
    expect(replyTo(h, 'hello')).toEqual(['three']);
  });

  it('should keep the last refused edit with every error (file:line:path) after a later good load', () => {
    const clock = fixedClock(T0);
    holder = createConfigHolder({ dir: tmp.dir, viewsDir: tmp.dir, log: silentLogger(), clock });
    const h = holder;
    expect(h.reloads()).toEqual({});
    const good = h.current().version;
    clock.advance(60_000);
    tmp.write('rules.yaml', BAD_RULES);
    h.reload();
    const refusedAt = '2026-02-02T01:01:00.000Z';
    const file = displayPath(path.join(tmp.dir, 'rules.yaml'));
    expect(h.reloads()).toEqual({
      lastAttemptAt: refusedAt,
      lastAttemptOk: false,
      lastRefused: { at: refusedAt, version: good, errors: [expect.objectContaining({ file, line: 3, path: 'rules[0].match.event' })] },
    });
    clock.advance(60_000);
    tmp.write('rules.yaml', rulesAnswering('fixed'));
    h.reload();
    expect(h.reloads()).toMatchObject({ lastAttemptAt: '2026-02-02T01:02:00.000Z', lastAttemptOk: true, lastRefused: { at: refusedAt } });
  });

  it('should reload on SIGHUP once installed, and stop when removed', () => {
    const h = make();
    const listenersBefore = process.listenerCount('SIGHUP');
    const remove = h.installSighup();
    expect(process.listenerCount('SIGHUP')).toBe(listenersBefore + 1);
    tmp.write('rules.yaml', rulesAnswering('hup'));
    process.emit('SIGHUP', 'SIGHUP');
    expect(replyTo(h, 'hello')).toEqual(['hup']);
    remove();
    tmp.write('rules.yaml', rulesAnswering('ignored'));
    expect(process.listenerCount('SIGHUP')).toBe(listenersBefore);
    expect(replyTo(h, 'hello')).toEqual(['hup']);
  });
});

describe('live reload under a running webhook', () => {
  it('should answer with the new reply after an edit, and keep it after a bad edit', async () => {
    const tmp = writeConfig({ 'rules.yaml': rulesAnswering('before the edit') });
    const holder = createConfigHolder({ dir: tmp.dir, viewsDir: tmp.dir, log: silentLogger(), watch: true, debounceMs: 10 });
    try {
      const t = createTestWebhook({ crypto: null, handler: createMessageHandler({ config: holder, clock: { now: () => Date.now() }, log: silentLogger() }) });
      const ask = async () => {
        const res = await request(t.callback)
          .post(`/wechat?${t.query()}`)
          .type('text/xml')
          .send(textXml({ content: 'hello' }));
        expect(res.status).toBe(200);
        return res.text;
      };
      expect(await ask()).toContain('<Content><![CDATA[before the edit]]></Content>');

      const changed = nextChange(holder);
      tmp.write('rules.yaml', rulesAnswering('after the edit'));
      await changed;
      expect(await ask()).toContain('<Content><![CDATA[after the edit]]></Content>');

      const refused = nextRefusal(holder);
      tmp.write('rules.yaml', BAD_RULES);
      await refused;
      expect(await ask()).toContain('<Content><![CDATA[after the edit]]></Content>');
      expect(holder.status().ok).toBe(false);
    } finally {
      holder.close();
      tmp.remove();
    }
  });
});
