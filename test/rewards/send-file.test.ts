import { fixedClock } from '../../src/lib/clock';
import { silentLogger } from '../../src/lib/logger';
import { createRewards } from '../../src/rewards/rewards';
import { batchKey, batchName, parseSendFile, SEND_FILE_MAX_LINES, sendFile, sendFileKey, SendFileError } from '../../src/rewards/send-file';
import { createMemoryLedger } from '../../src/store/memory-ledger';
import { makeConfig, MCH_ID, openIdOf, redCampaign, T0 } from './helpers';
import { withLedgerRules } from '../../src/rewards/ledger-plans';
import { ledgerTagRules } from '../../src/rewards/bill-no';

const APPID = 'wx0000sandbox0000';

describe('parseSendFile', () => {
  it('should read the appid line and openids with optional amounts separated by a space or tab', () => {
    const r = parseSendFile(`\uFEFF${APPID}\r\noAbcdef000001\r\noAbcdef000002 5.20\r\noAbcdef000003\t1\r\n\r\n`, { expectedAppId: APPID });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.file.appId).toBe(APPID);
    expect(r.file.lines).toEqual([
      { line: 2, openId: 'oAbcdef000001' },
      { line: 3, openId: 'oAbcdef000002', amountFen: 520 },
      { line: 4, openId: 'oAbcdef000003', amountFen: 100 },
    ]);
    expect(r.file.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('should hash the same content equally whatever the line endings', () => {
    const a = parseSendFile(`${APPID}\noAbcdef000001\n`);
    const b = parseSendFile(`${APPID}\r\noAbcdef000001`);
    expect(a.ok && b.ok && a.file.hash === b.file.hash).toBe(true);
  });

  it('should list every error with its line number', () => {
    const text = [APPID, 'oAbcdef000001 1.234', 'bad!', 'oAbcdef000001', '', 'oAbcdef000004 1 2', 'oAbcdef000005 500'].join('\n');
    const r = parseSendFile(text, { amountRangeFen: { min: 100, max: 20000 } });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => p.line)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(r.problems.find((p) => p.line === 4)?.message).toBe('openid oAbcdef000001 already on line 2');
    expect(r.problems.find((p) => p.line === 7)?.message).toBe('500.00 yuan is outside 1.00–200.00 yuan');
    expect(new SendFileError(r.problems).message).toContain('line 3: "bad!" is not an openid');
  });

  it('should refuse a wrong or missing appid, an empty file and more than 3,000 lines', () => {
    expect(parseSendFile('oAbcdef000001\n')).toMatchObject({ ok: false, problems: expect.arrayContaining([expect.objectContaining({ line: 1 })]) });
    expect(parseSendFile(`wx1111111111111111\noAbcdef000001`, { expectedAppId: APPID })).toMatchObject({ ok: false });
    expect(parseSendFile('')).toMatchObject({ ok: false });
    expect(parseSendFile(APPID)).toMatchObject({ ok: false, problems: [{ line: 2, message: 'no openid lines' }] });
    const many = [APPID, ...Array.from({ length: SEND_FILE_MAX_LINES + 1 }, (_, i) => openIdOf(i))].join('\n');
    expect(parseSendFile(many)).toMatchObject({ ok: false, problems: [{ line: 3002, message: 'more than 3000 openid lines (3001)' }] });
    const max = [APPID, ...Array.from({ length: SEND_FILE_MAX_LINES }, (_, i) => openIdOf(i))].join('\n');
    expect(parseSendFile(max).ok).toBe(true);
  });
});

describe('parseSendFile field rules', () => {
  it("should refuse an openid longer than WeChat Pay's 32 characters, saying so", () => {
    const long = `o${'A'.repeat(40)}`;
    const r = parseSendFile(`${APPID}\n${long}\n${'o'.repeat(32)}\n`);
    expect(r).toMatchObject({
      ok: false,
      problems: [{ line: 2, message: `"${long.slice(0, 40)}" is 41 characters: an openid has at most 32 (WeChat Pay's re_openid)` }],
    });
  });
});

describe('batchName', () => {
  it('should default to the file name and refuse names a key cannot hold', () => {
    expect(batchName(undefined, '/srv/in/winners-2026.txt')).toBe('winners-2026.txt');
    expect(batchName('spring', '/x/whatever name.txt')).toBe('spring');
    expect(() => batchName(undefined, '/x/whatever name.txt')).toThrow('batch name "whatever name.txt" (the file name) must be 1–64 letters');
    expect(() => batchName('a:b', 'f')).toThrow('name it with --batch NAME');
  });
});

describe('sendFile', () => {
  const setup = (campaign = redCampaign({ amount: 1, budget: 100 })) => {
    const ledger = withLedgerRules(createMemoryLedger({ tags: ledgerTagRules() }));
    const clock = fixedClock(T0);
    let config = makeConfig({ bonus: campaign });
    const rewards = createRewards({ ledger, config: () => config, clock, mchId: MCH_ID, log: silentLogger() });
    const run = (text: string, opts: { batch?: string; dryRun?: boolean } = {}) => {
      const parsed = parseSendFile(text);
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
      return sendFile({ rewards, ledger, clock }, parsed.file, { campaign: 'bonus', batch: opts.batch ?? 'winners', dryRun: opts.dryRun });
    };
    return { ledger, clock, run, setConfig: (c: ReturnType<typeof makeConfig>) => (config = c) };
  };

  it('should record one grant per line, and nothing new when the same file runs again', async () => {
    const { ledger, clock, run } = setup();
    const text = `${APPID}\n${openIdOf(1)}\n${openIdOf(2)} 2.50\n`;
    const first = await run(text);
    expect(first).toMatchObject({ lines: 2, granted: 2, alreadyRecorded: 0, amountFen: 350, refused: [] });
    clock.advance(86_400_000);
    const again = await run(text);
    expect(again).toMatchObject({ granted: 0, alreadyRecorded: 2, amountFen: 0 });
    expect(await ledger.openCount()).toBe(2);
    expect(await ledger.findByKey(batchKey('bonus', 'winners', openIdOf(2)), 'send-file')).toMatchObject({ amountFen: 250 });
  });

  it('should pay only the new followers when the batch file is edited, reordered and extended', async () => {
    const { ledger, run } = setup();
    await run(`${APPID}\n${openIdOf(1)}\n${openIdOf(2)}\n`);
    const edited = await run(`${APPID}\n${openIdOf(3)} 1.50\n${openIdOf(2)}\n${openIdOf(1)} 9.99\n`);
    expect(edited).toMatchObject({ lines: 3, granted: 1, alreadyRecorded: 2, amountFen: 150 });
    expect((await ledger.listAll()).map((g) => g.openId)).toEqual([openIdOf(1), openIdOf(2), openIdOf(3)]);
    // Another batch name is another batch, and the campaign's once-per-follower rule still holds across them.
    expect(await run(`${APPID}\n${openIdOf(1)}\n${openIdOf(4)}\n`, { batch: 'autumn' })).toMatchObject({
      granted: 1,
      refused: [{ openId: openIdOf(1), outcome: 'already_claimed' }],
    });
  });

  it('should still recognise a file recorded before batch names, by its content hash', async () => {
    const { ledger, run } = setup();
    const text = `${APPID}\n${openIdOf(1)}\n`;
    const parsed = parseSendFile(text);
    if (!parsed.ok) throw new Error('parse');
    await ledger.recordGrant({
      dedupeKey: sendFileKey(parsed.file.hash, openIdOf(1)),
      ruleId: 'send-file',
      campaign: 'bonus',
      openId: openIdOf(1),
      amountFen: 100,
      kind: 'red_packet',
      now: T0,
      billNoPrefix: `${MCH_ID}20260302`,
      payload: {},
      dueAt: T0,
      deferred: false,
      reservations: [],
    });
    expect(await run(text)).toMatchObject({ granted: 0, alreadyRecorded: 1 });
  });

  it('should report lines refused by a limit, never in the paid total, and try them again on the next run', async () => {
    const { ledger, run, setConfig } = setup(redCampaign({ amount: 1, budget: 1, max_packets: 1 }));
    const text = `${APPID}\n${openIdOf(1)}\n${openIdOf(2)}\n`;
    const report = await run(text);
    expect(report).toMatchObject({ granted: 1, amountFen: 100, refused: [{ line: 3, openId: openIdOf(2), outcome: 'campaign_over' }] });
    setConfig(makeConfig({ bonus: redCampaign({ amount: 1, budget: 2, max_packets: 2 }) }));
    expect(await run(text)).toMatchObject({ granted: 1, alreadyRecorded: 1, refused: [] });
    expect(await ledger.findByKey(batchKey('bonus', 'winners', openIdOf(2), 2), 'send-file')).toMatchObject({ outcome: 'granted' });
    expect(await run(text)).toMatchObject({ granted: 0, alreadyRecorded: 2 });
  });

  it('should make a dry run answer what the real run then does, budget and limits included, recording nothing', async () => {
    const { ledger, run } = setup(redCampaign({ amount: 1, budget: 5, max_packets: 100 }));
    const text = `${APPID}\n${openIdOf(1)} 2.00\n${openIdOf(2)} 2.50\n${openIdOf(3)} 1.00\n${openIdOf(4)} 0.50\n`;
    const dry = await run(text, { dryRun: true });
    expect(await ledger.listAll()).toEqual([]);
    const real = await run(text);
    const strip = (r: typeof dry) => r.results.map(({ billNo: _b, ...x }) => x);
    expect(strip(dry)).toEqual(strip(real));
    expect(dry).toMatchObject({ dryRun: true, granted: 2, amountFen: 450, refused: [{ openId: openIdOf(3), outcome: 'campaign_over' }, { openId: openIdOf(4) }] });
    expect(dry.refused[0]!.reason).toContain("4.50 yuan and 2 packets used, this grant's 1.00 yuan would exceed 5.00 yuan");
  });
});
