/**
 * Issue 17: the member-card commands (`cards points add|set`, `cards members`, `cards member`) and the
 * member figures of `cards report`, run in-process through commander against the API sandbox, with the
 * repository's config (the `corner-member` card and the `member-points` campaign) and a fresh SQLite data
 * dir (the store and the ledger outlive each command, as for an operator).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { recordCardActivity, type CardActivityEvent } from '../../src/cards/card-activity';
import { register } from '../../src/cli/commands/cards';
import { createCliContext } from '../../src/cli/context';
import { silentLogger } from '../../src/lib/logger';
import { startApiSandbox, type ApiSandbox } from '../../src/sandbox/api-server';

const REPO = path.join(__dirname, '..', '..');
const CODE = '100000000001';
const OTHER = '100000000002';

describe('cards member commands', () => {
  let sandbox: ApiSandbox;
  let dataDir: string;
  let output: string[];
  let cardId: string;

  const env = () => ({ WECHAT_API_BASE: sandbox.url, BOT_DATA_DIR: dataDir, BOT_CONFIG_DIR: path.join(REPO, 'config'), BOT_VIEWS_DIR: path.join(REPO, 'views') });
  const context = () => createCliContext(env(), { cwd: REPO, log: silentLogger(), note: () => undefined });

  async function run(...args: string[]): Promise<{ text: string; exitCode: number }> {
    output = [];
    process.exitCode = 0;
    const program = new Command().exitOverride();
    register(program, { createContext: context, out: (t) => void output.push(t) });
    await program.parseAsync(['node', 'wechat-bot', ...args]);
    const exitCode = Number(process.exitCode ?? 0);
    process.exitCode = 0;
    return { text: output.join('\n'), exitCode };
  }

  async function withDurable<T>(fn: (d: Awaited<ReturnType<Awaited<ReturnType<typeof context>>['durable']>>) => Promise<T>): Promise<T> {
    const ctx = await context();
    try {
      return await fn(await ctx.durable());
    } finally {
      await ctx.close();
    }
  }

  beforeEach(async () => {
    sandbox = await startApiSandbox();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wechat-bot-cli-members-'));
    await run('cards', 'sync', 'corner-member');
    const list = JSON.parse((await run('cards', 'list', '--json')).text) as { name: string; cardId?: string }[];
    cardId = list.find((c) => c.name === 'corner-member')!.cardId!;
    expect(cardId).toBeTruthy();
    await withDurable(async ({ members }) => {
      await members.upsert({ cardId, code: CODE, openId: 'oMember1', membershipNumber: '000001', fields: {}, initialBonus: 100, initialBalance: 0 });
      await members.markActivated(cardId, CODE, Date.parse('2026-03-02T02:00:00Z'));
      await members.upsert({ cardId, code: OTHER, openId: 'oMember2', membershipNumber: '000002', fields: {}, initialBonus: 0, initialBalance: 0 });
    });
  });
  afterEach(async () => {
    await sandbox.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const pointsGrants = () => withDurable(async ({ ledger }) => (await ledger.listAll({ limit: 100 })).filter((g) => g.kind === 'points'));

  it('should say what `points add --dry-run` would do and record nothing', async () => {
    const r = await run('cards', 'points', 'add', CODE, '50', '--reason', 'goodwill', '--by', 'alice', '--dry-run');
    expect(r).toEqual({ exitCode: 0, text: expect.stringContaining('would record oMember1 on corner-member: 100 → 150 points. Nothing was changed (--dry-run).') });
    expect(await pointsGrants()).toEqual([]);
  });

  it('should record `points add` and `points set` in the ledger, audited, and show them in `cards member`', async () => {
    expect(await run('cards', 'points', 'add', CODE, '50', '--reason', 'goodwill', '--by', 'alice')).toMatchObject({
      exitCode: 0,
      text: expect.stringMatching(/^recorded \S+: oMember1 on corner-member: 100 → 150 points; the outbox sets the new total on WeChat$/),
    });
    expect(await run('cards', 'points', 'set', CODE, '500', '--reason', 'migration', '--by', 'bob')).toMatchObject({
      exitCode: 0,
      text: expect.stringContaining('150 → 500 points'),
    });
    const grants = await pointsGrants();
    expect(grants.map((g) => [g.status, g.payload.by, g.payload.reason])).toEqual([
      ['PENDING', 'alice', 'goodwill'],
      ['PENDING', 'bob', 'migration'],
    ]);

    const member = await run('cards', 'member', CODE);
    expect(member.exitCode).toBe(0);
    expect(member.text).toContain(`corner-member #000001: oMember1, code ${CODE}, activated 2026-03-02T02:00:00.000Z`);
    expect(member.text).toMatch(/points 100 \(500 once open grants are sent\)/);
    expect(member.text).toContain('alice: goodwill');
    expect((await run('cards', 'member', 'oMember1')).text).toContain('corner-member #000001');
  });

  it('should exit non-zero with a clear message for an unknown code or a refused change, and record nothing', async () => {
    expect(await run('cards', 'points', 'add', '999999999999', '5', '--reason', 'x')).toEqual({ exitCode: 1, text: 'no member has that code' });
    expect(await run('cards', 'points', 'set', '999999999999', '5', '--reason', 'x', '--dry-run')).toEqual({ exitCode: 1, text: 'no member has that code' });
    expect(await run('cards', 'member', 'oNobody')).toEqual({ exitCode: 1, text: 'no member with openid or code oNobody' });
    await expect(run('cards', 'points', 'add', CODE, '5', '--reason', 'x', '--card', 'no-such-card')).rejects.toThrow(/card "no-such-card" is not in cards.yaml/);
    expect(await pointsGrants()).toEqual([]);
  });

  it('should list the members with masked codes, activated or not', async () => {
    const r = await run('cards', 'members', '--card', 'corner-member');
    expect(r.exitCode).toBe(0);
    const lines = r.text.split('\n');
    expect(lines[0]).toBe('CARD  NUMBER  OPENID  CODE  ACTIVATED');
    expect(lines).toEqual(
      expect.arrayContaining(['corner-member  000001  oMember1  1000****0001  2026-03-02T02:00:00.000Z', 'corner-member  000002  oMember2  1000****0002  no']),
    );
    expect(r.text).not.toContain(CODE);
  });

  it('should show the member figures in `cards report`: members activated / not and points sent / open / failed', async () => {
    await run('cards', 'points', 'add', CODE, '50', '--reason', 'goodwill');
    await run('cards', 'points', 'add', CODE, '7', '--reason', 'more');
    await run('cards', 'points', 'add', CODE, '3', '--reason', 'sent one');
    await run('cards', 'points', 'add', CODE, '2', '--reason', 'failed one');
    await withDurable(async ({ ledger }) => {
      const [, , sent, failed] = (await ledger.listAll({ limit: 100 })).filter((g) => g.kind === 'points');
      await ledger.settle(sent!.id, { status: 'SENT', now: Date.now() });
      await ledger.settle(failed!.id, { status: 'FAILED', now: Date.now(), reason: 'test' });
    });
    const json = JSON.parse((await run('cards', 'report', '--json')).text) as { name: string; member?: unknown }[];
    expect(json.find((r) => r.name === 'corner-member')!.member).toEqual({
      members: { activated: 1, notActivated: 1 },
      points: { sent: { grants: 1, points: 3 }, open: { grants: 2, points: 57 }, failed: { grants: 1, points: 2 } },
    });
    expect(json.find((r) => r.name === 'coffee-cash')!.member).toBeUndefined();
    const text = (await run('cards', 'report')).text;
    expect(text).toMatch(/MEMBER CARD\s+ACTIVATED\s+NOT ACTIVATED\s+POINTS SENT\s+POINTS OPEN\s+POINTS FAILED/);
    expect(text).toMatch(/corner-member\s+1\s+1\s+3 \(1 grant\)\s+57 \(2 grants\)\s+2 \(1 grant\)/);
  });

  it('should show the quick pays, member updates, views and sessions of a card in `cards report`', async () => {
    const ev = (CreateTime: number, fields: Record<string, string>) =>
      ({ ToUserName: 'gh_x', FromUserName: 'oMember1', CreateTime, MsgType: 'event', CardId: cardId, UserCardCode: CODE, ...fields }) as unknown as CardActivityEvent;
    const ctx = await context();
    try {
      const pay = ev(1772420000, { Event: 'user_pay_from_pay_cell', TransId: '4200000001', Fee: '1800', OriginalFee: '2000' });
      for (const e of [pay, pay, ev(1772420100, { Event: 'update_member_card', ModifyBonus: '18', ModifyBalance: '0' }), ev(1772420200, { Event: 'user_view_card' })])
        await recordCardActivity(ctx.store.kv, e, `k${e.CreateTime}`);
    } finally {
      await ctx.close();
    }
    const json = JSON.parse((await run('cards', 'report', '--json')).text) as { name: string; activity?: unknown }[];
    expect(json.find((r) => r.name === 'corner-member')!.activity).toEqual({
      payments: { count: 1, fee: 1800, originalFee: 2000 },
      memberUpdates: { count: 1, bonus: 18, balance: 0 },
      views: 1,
      sessions: 0,
    });
    expect(json.find((r) => r.name === 'coffee-cash')!.activity).toBeUndefined();
    const text = (await run('cards', 'report')).text;
    expect(text).toMatch(/CARD\s+QUICK PAYS\s+FEE \(fen\)\s+ORIGINAL FEE \(fen\)\s+MEMBER UPDATES\s+BONUS \+\/-\s+BALANCE \+\/-\s+VIEWS\s+SESSIONS/);
    expect(text).toMatch(/corner-member\s+1\s+1800\s+2000\s+1\s+18\s+0\s+1\s+0/);
  });
});
