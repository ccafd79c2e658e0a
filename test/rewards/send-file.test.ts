import { fixedClock } from '../../src/lib/clock';
import { silentLogger } from '../../src/lib/logger';
import { createRewards } from '../../src/rewards/rewards';
import { parseSendFile, SEND_FILE_MAX_LINES, sendFile, sendFileKey, SendFileError } from '../../src/rewards/send-file';
import { createMemoryLedger } from '../../src/store/memory-ledger';
import { makeConfig, MCH_ID, openIdOf, redCampaign, T0 } from './helpers';

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

describe('sendFile', () => {
  it('should record one grant per line, and nothing new when the same file runs again', async () => {
    const ledger = createMemoryLedger();
    const clock = fixedClock(T0);
    const config = makeConfig({ bonus: redCampaign({ amount: 1, budget: 100 }) });
    const rewards = createRewards({ ledger, config: () => config, clock, mchId: MCH_ID, log: silentLogger() });
    const parsed = parseSendFile(`${APPID}\n${openIdOf(1)}\n${openIdOf(2)} 2.50\n`);
    if (!parsed.ok) throw new Error('parse');
    const first = await sendFile({ rewards, clock }, parsed.file, { campaign: 'bonus' });
    expect(first).toMatchObject({ lines: 2, granted: 2, alreadyRecorded: 0, amountFen: 350, refused: [] });
    clock.advance(86_400_000);
    const again = await sendFile({ rewards, clock }, parsed.file, { campaign: 'bonus' });
    expect(again).toMatchObject({ granted: 0, alreadyRecorded: 2 });
    expect(await ledger.openCount()).toBe(2);
    expect(await ledger.findByKey(sendFileKey(parsed.file.hash, openIdOf(2)), 'send-file')).toMatchObject({ amountFen: 250 });
  });

  it('should report lines refused by a limit', async () => {
    const ledger = createMemoryLedger();
    const clock = fixedClock(T0);
    const config = makeConfig({ bonus: redCampaign({ amount: 1, budget: 1, max_packets: 1 }) });
    const rewards = createRewards({ ledger, config: () => config, clock, mchId: MCH_ID, log: silentLogger() });
    const parsed = parseSendFile(`${APPID}\n${openIdOf(1)}\n${openIdOf(2)}\n`);
    if (!parsed.ok) throw new Error('parse');
    const report = await sendFile({ rewards, clock }, parsed.file, { campaign: 'bonus' });
    expect(report).toMatchObject({ granted: 1, refused: [{ line: 3, openId: openIdOf(2), outcome: 'campaign_over' }] });
  });
});
