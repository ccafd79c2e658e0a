/**
 * The rewards operator commands (src/cli/commands/rewards.ts), run in-process against a SQLite ledger
 * and the pay sandbox.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { createRewardsCliContext, register, type RewardsCliContext } from '../../src/cli/commands/rewards';
import { fixedClock } from '../../src/lib/clock';
import { silentLogger } from '../../src/lib/logger';
import { SendFileError } from '../../src/rewards/send-file';
import { payRigWorker } from '../helpers/pay-rig-worker';
import { makeConfig, MCH_ID, openIdOf, redCampaign, sqliteLedger, startPayRig, T0, tempDir, type PayRig } from './helpers';

const APPID = 'wx0000sandbox0000';
let pay: PayRig;
let s: ReturnType<typeof sqliteLedger>;
let tmp: ReturnType<typeof tempDir>;
let lines: string[];
const config = makeConfig({ bonus: redCampaign({ amount: 1, budget: 100, max_packets: 100, restore_budget_on_refund: true }) });
const clock = fixedClock(T0);

beforeEach(async () => {
  pay = await startPayRig();
  s = sqliteLedger();
  tmp = tempDir('cli-');
  lines = [];
});
afterEach(async () => {
  await pay.close();
  await s.close();
  tmp.remove();
  process.exitCode = undefined;
});

async function run(...args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  const ctx: RewardsCliContext = {
    ledger: s.ledger,
    config: () => config,
    clock,
    log: silentLogger(),
    mchId: MCH_ID,
    appId: APPID,
    redpack: () => pay.redpack,
    close: async () => undefined,
  };
  register(program, { createContext: async () => ctx, out: (t) => lines.push(t) });
  lines = [];
  await program.parseAsync(['node', 'wechat-bot', ...args]);
  return lines.join('\n');
}

function file(name: string, text: string): string {
  const f = path.join(tmp.dir, name);
  fs.writeFileSync(f, text);
  return f;
}

async function sendAll(): Promise<void> {
  await payRigWorker({ ledger: s.ledger, pay, clock, config }).runOnce();
}

/** The ledger's n-th bill of 2026-03-02: mch_id + date + the ledger's tag + 7 sequence digits. */
const billOf = (n: number) => `${MCH_ID}20260302${s.ledger.billTag}${String(n).padStart(7, '0')}`;

describe('redpack send-file', () => {
  it('should list every error with its line number and record nothing', async () => {
    const f = file('bad.txt', `${APPID}\n${openIdOf(1)} 1.234\nnot an openid here\n${openIdOf(1)}\n`);
    const error = await run('redpack', 'send-file', f, '--campaign', 'bonus').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SendFileError);
    expect((error as SendFileError).message).toMatch(/line 2:.*\n.*line 3:.*\n.*line 4: openid oFollower00000001 already on line 2/);
    expect(await s.ledger.listAll()).toEqual([]);
  });

  it('should refuse a file for another appid and an unknown campaign', async () => {
    const other = file('other.txt', `wx1111111111111111\n${openIdOf(1)}\n`);
    await expect(run('redpack', 'send-file', other, '--campaign', 'bonus')).rejects.toThrow(/not this account's appid/);
    await expect(run('redpack', 'send-file', other, '--campaign', 'nope')).rejects.toThrow(/no red-packet campaign named nope/);
  });

  it('should record each line once, and nothing new when the same file runs again', async () => {
    const f = file('ok.txt', `${APPID}\n${openIdOf(1)}\n${openIdOf(2)}\t2.00\n`);
    expect(await run('redpack', 'send-file', f, '--campaign', 'bonus', '--dry-run')).toBe(
      `${f} (batch ok.txt, campaign bonus): 2 line(s); 2 would be recorded (3.00 yuan), 0 granted by an earlier run, 0 would be refused\nNothing was recorded (--dry-run).`,
    );
    expect(await s.ledger.listAll()).toEqual([]);
    expect(await run('redpack', 'send-file', f, '--campaign', 'bonus')).toContain('2 recorded now (3.00 yuan), 0 granted by an earlier run');
    expect(await run('redpack', 'send-file', f, '--campaign', 'bonus')).toContain('0 recorded now (0.00 yuan), 2 granted by an earlier run');
    expect(await s.ledger.openCount()).toBe(2);
  });

  it('should key lines by batch name, so an edited copy of the file pays only the new followers', async () => {
    await run('redpack', 'send-file', file('v1.txt', `${APPID}\n${openIdOf(1)}\n`), '--campaign', 'bonus', '--batch', 'spring');
    const v2 = file('v2.txt', `${APPID}\n${openIdOf(2)} 3.00\n${openIdOf(1)}\n`);
    expect(await run('redpack', 'send-file', v2, '--campaign', 'bonus', '--batch', 'spring')).toContain(
      '1 recorded now (3.00 yuan), 1 granted by an earlier run, 0 refused',
    );
    const status = await run('redpack', 'batch', 'status', 'spring');
    expect(status).toMatch(/CAMPAIGN\s+STATUS\s+FOLLOWERS\s+AMOUNT \(yuan\)\nbonus\s+PENDING\s+2\s+4\.00/);
    expect(await run('redpack', 'batch', 'status', 'nope')).toBe('no batch named nope in the ledger');
    expect(process.exitCode).toBe(1);
  });

  it('should make --dry-run refuse what the real run refuses, with the true reason, and exit 1', async () => {
    const f = file('big.txt', `${APPID}\n${openIdOf(1)} 99.00\n${openIdOf(2)} 2.00\n`);
    const dry = await run('redpack', 'send-file', f, '--campaign', 'bonus', '--dry-run');
    expect(dry).toContain('1 would be recorded (99.00 yuan), 0 granted by an earlier run, 1 would be refused');
    expect(dry).toContain(
      `line 3: ${openIdOf(2)} campaign_over (campaign budget (100.00 yuan) or packets (100) used up: 99.00 yuan and 1 packet used, this grant's 2.00 yuan would exceed 100.00 yuan)`,
    );
    expect(process.exitCode).toBe(1);
    expect(await s.ledger.listAll()).toEqual([]);
  });
});

describe('ledger', () => {
  it('should summarise per campaign and status, as a table or CSV, and list grants', async () => {
    expect(await run('ledger')).toBe('The ledger is empty.');
    await run('redpack', 'send-file', file('a.txt', `${APPID}\n${openIdOf(1)}\n${openIdOf(2)} 3\n`), '--campaign', 'bonus');
    await sendAll();
    expect(await run('ledger')).toMatch(/CAMPAIGN\s+STATUS\s+COUNT\s+AMOUNT \(yuan\)\s+NOT PAID \(yuan\)\nbonus\s+SENT\s+2\s+4\.00\s+-/);
    expect(await run('ledger', '--csv')).toBe('campaign,status,count,amount_yuan,not_paid_yuan\nbonus,SENT,2,4.00,0.00');
    const grants = (await run('ledger', '--grants', '--csv')).split('\n');
    expect(grants[0]).toBe(
      'id,created_at,campaign,openid,amount_yuan,bill_no,status,outcome,reason,attempts,send_listid,last_error,operator_action,operator,operator_reason,reissue_of,reissued_as',
    );
    expect(grants).toHaveLength(3);
    expect(grants[2]).toContain(`bonus,${openIdOf(2)},3.00,${billOf(2)},SENT,granted`);
  });
});

describe('ledger money columns', () => {
  it('should never put what refused grants asked for into the paid amount', async () => {
    await run('redpack', 'send-file', file('big.txt', `${APPID}\n${openIdOf(1)} 99.00\n${openIdOf(2)} 2.00\n`), '--campaign', 'bonus');
    const text = await run('ledger');
    expect(text).toMatch(/bonus\s+PENDING\s+1\s+99\.00\s+-/);
    expect(text).toMatch(/bonus\s+REFUSED\s+1\s+-\s+2\.00/);
    expect(await run('ledger', '--csv')).toContain('bonus,REFUSED,1,0.00,2.00');
  });
});

describe('redpack status', () => {
  it('should show the ledger row and, with --query, what WeChat Pay says', async () => {
    await run('redpack', 'send-file', file('a.txt', `${APPID}\n${openIdOf(1)}\n`), '--campaign', 'bonus');
    const bill = billOf(1);
    expect(await run('redpack', 'status', bill)).toMatch(/status\s+PENDING/);
    await sendAll();
    const text = await run('redpack', 'status', bill, '--query');
    expect(text).toMatch(/status\s+SENT/);
    expect(text).toContain('WeChat Pay: SENT');
    const json = JSON.parse(await run('redpack', 'status', bill, '--query', '--json'));
    expect(json).toMatchObject({ ledger: { billNo: bill, status: 'SENT' }, wechatPay: { status: 'found', info: { status: 'SENT' } } });
    expect(await run('redpack', 'status', billOf(99))).toContain('not in the ledger');
    expect(process.exitCode).toBe(1);
  });
});

describe('redpack cancel', () => {
  it('should say what --dry-run would do, cancel with who/why, and the outbox never sends it', async () => {
    await run('redpack', 'send-file', file('a.txt', `${APPID}\n${openIdOf(1)}\n${openIdOf(2)} 2.00\n`), '--campaign', 'bonus');
    const dry = await run('redpack', 'cancel', billOf(1), '--reason', 'wrong follower', '--by', 'alice', '--dry-run');
    expect(dry).toBe(
      `would cancel ${billOf(1)}: 1.00 yuan to ${openIdOf(1)} (campaign bonus, PENDING) would never be sent, and its budget and limits would be given back. Nothing was changed (--dry-run).`,
    );
    expect(await s.ledger.findByBillNo(billOf(1))).toMatchObject({ status: 'PENDING', operatorAction: null });
    expect(await run('redpack', 'cancel', billOf(1), '--reason', 'wrong follower', '--by', 'alice')).toBe(
      `cancelled ${billOf(1)} by alice: 1.00 yuan to ${openIdOf(1)} (campaign bonus) will never be sent; its budget and limits were given back`,
    );
    expect(process.exitCode).toBeUndefined();
    await sendAll();
    expect(pay.sandbox.callsTo('sendredpack').map((c) => c.fields.mch_billno)).toEqual([billOf(2)]);
    const text = await run('ledger');
    expect(text).toMatch(/bonus\s+CANCELLED\s+1\s+-\s+1\.00/);
    expect(text).toMatch(/bonus\s+SENT\s+1\s+2\.00\s+-/);
    expect(text).toMatch(
      new RegExp(`CANCELLED bill ${billOf(1)} \\(bonus, 1\\.00 yuan to ${openIdOf(1)}\\) cancelled by alice at 2026-03-02T02:00:00.000Z: wrong follower`),
    );
    expect(await run('ledger', '--csv')).toContain('bonus,CANCELLED,1,0.00,1.00');
    expect(await run('redpack', 'status', billOf(1))).toMatch(/operator\s+cancelled by alice at .*: wrong follower/);
    expect(await run('redpack', 'batch', 'status', 'a.txt')).toMatch(/bonus\s+CANCELLED\s+1\s+-/);
    expect(await s.ledger.usage('budget:bonus')).toEqual({ count: 1, amountFen: 200 });
  });

  it('should refuse, exit 1 and change nothing: unknown bill, already cancelled, already sent, no reason', async () => {
    await run('redpack', 'send-file', file('a.txt', `${APPID}\n${openIdOf(1)}\n${openIdOf(2)}\n`), '--campaign', 'bonus');
    await run('redpack', 'cancel', billOf(1), '--reason', 'r', '--by', 'alice');
    await sendAll();
    expect(await run('redpack', 'cancel', billOf(99), '--reason', 'r')).toBe(`${billOf(99)} was not cancelled: no grant with bill number ${billOf(99)} in this ledger`);
    expect(process.exitCode).toBe(1);
    process.exitCode = undefined;
    expect(await run('redpack', 'cancel', billOf(1), '--reason', 'again', '--by', 'bob')).toBe(
      `${billOf(1)} was not cancelled: ${billOf(1)} is CANCELLED already: nothing to cancel`,
    );
    expect(process.exitCode).toBe(1);
    process.exitCode = undefined;
    expect(await run('redpack', 'cancel', billOf(2), '--reason', 'late', '--dry-run')).toBe(
      `would not cancel ${billOf(2)}: ${billOf(2)} was already sent (SENT): a paid red packet cannot be cancelled. Nothing was changed (--dry-run).`,
    );
    expect(process.exitCode).toBe(1);
    await expect(run('redpack', 'cancel', billOf(2))).rejects.toThrow(/required option '--reason <text>'/);
    await expect(run('redpack', 'cancel', billOf(2), '--reason', '  ')).rejects.toThrow('--reason is required: say why (it is kept in the ledger)');
    expect(await s.ledger.findByBillNo(billOf(1))).toMatchObject({ operatorAction: { by: 'alice', reason: 'r' } });
    expect(await s.ledger.findByBillNo(billOf(2))).toMatchObject({ status: 'SENT', operatorAction: null });
  });

  it('should name the OS user as the operator when --by is not given', async () => {
    await run('redpack', 'send-file', file('a.txt', `${APPID}\n${openIdOf(1)}\n`), '--campaign', 'bonus');
    await run('redpack', 'cancel', billOf(1), '--reason', 'test');
    expect((await s.ledger.findByBillNo(billOf(1)))!.operatorAction!.by).toBe(os.userInfo().username);
  });
});

describe('redpack reissue', () => {
  /** Records the lines, makes the first send fail with `code`, sends everything once. */
  async function failFirst(lines: string, code = 'OPENID_ERROR'): Promise<void> {
    await run('redpack', 'send-file', file('a.txt', `${APPID}\n${lines}`), '--campaign', 'bonus');
    pay.sandbox.faults.set({ errCode: code, errCodeTimes: 1 });
    await sendAll();
    pay.sandbox.faults.clear();
    expect(await s.ledger.findByBillNo(billOf(1))).toMatchObject({ status: 'FAILED', reason: expect.stringContaining(code) });
  }

  it('should reissue a failed packet once, as a new bill linked to the old, and the outbox pays it once', async () => {
    await failFirst(`${openIdOf(1)}\n${openIdOf(2)}\n`);
    expect(await run('redpack', 'reissue', billOf(1), '--reason', 'openid fixed', '--by', 'alice', '--dry-run')).toBe(
      `would reissue ${billOf(1)} as a new grant: 1.00 yuan to ${openIdOf(1)} (campaign bonus), with a new bill number drawn when it is recorded. Nothing was recorded (--dry-run).`,
    );
    expect(await s.ledger.openCount()).toBe(0);
    expect(await run('redpack', 'reissue', billOf(1), '--reason', 'openid fixed', '--by', 'alice')).toBe(
      `reissued ${billOf(1)} as ${billOf(3)} by alice: 1.00 yuan to ${openIdOf(1)} (campaign bonus), PENDING; the running bot sends it`,
    );
    expect(await run('redpack', 'reissue', billOf(1), '--reason', 'twice', '--by', 'bob')).toBe(
      `did not reissue ${billOf(1)}: ${billOf(1)} was already reissued as ${billOf(3)} by alice: a grant is reissued once`,
    );
    expect(process.exitCode).toBe(1);
    process.exitCode = undefined;
    await sendAll();
    expect(pay.sandbox.payments.get(billOf(3))).toMatchObject({ timesPaid: 1, openId: openIdOf(1), amountFen: 100 });
    expect(pay.sandbox.payments.has(billOf(1))).toBe(false);
    const text = await run('ledger');
    expect(text).toMatch(/bonus\s+FAILED\s+1\s+-\s+1\.00/);
    expect(text).toMatch(/bonus\s+SENT\s+2\s+2\.00\s+-/);
    expect(text).toContain(`REISSUED bill ${billOf(1)} as ${billOf(3)} (bonus, 1.00 yuan to ${openIdOf(1)}) reissued by alice at 2026-03-02T02:00:00.000Z: openid fixed`);
    expect(await run('redpack', 'status', billOf(3))).toMatch(new RegExp(`reissue_of\\s+${billOf(1)}`));
    expect(await run('redpack', 'status', billOf(1))).toMatch(new RegExp(`reissued_as\\s+${billOf(3)}`));
    const batch = await run('redpack', 'batch', 'status', 'a.txt');
    expect(batch).toMatch(/bonus\s+FAILED\s+1\s+-\n/); // what failed is not money paid
    expect(batch).toMatch(/bonus\s+SENT\s+1\s+1\.00/);
    expect(batch).toContain(`${openIdOf(1)} FAILED: OPENID_ERROR: forced by the sandbox: OPENID_ERROR (reissued as ${billOf(3)})`);
  });

  it('should refuse a grant that did not fail and one the budget no longer covers, in --dry-run as in the real run', async () => {
    await failFirst(`${openIdOf(1)} 2.00\n${openIdOf(2)} 98.00\n`);
    expect(await run('redpack', 'reissue', billOf(2), '--reason', 'x')).toBe(
      `did not reissue ${billOf(2)}: ${billOf(2)} is SENT, not FAILED: only a failed red packet can be reissued`,
    );
    expect(process.exitCode).toBe(1);
    process.exitCode = undefined;
    await run('redpack', 'send-file', file('b.txt', `${APPID}\n${openIdOf(3)} 2.00\n`), '--campaign', 'bonus');
    const why = 'the new grant would be refused (campaign_over): campaign budget (100.00 yuan) or packets (100) used up';
    expect(await run('redpack', 'reissue', billOf(1), '--reason', 'x', '--dry-run')).toContain(`would not reissue ${billOf(1)}: ${why}`);
    expect(process.exitCode).toBe(1);
    process.exitCode = undefined;
    expect(await run('redpack', 'reissue', billOf(1), '--reason', 'x')).toContain(`did not reissue ${billOf(1)}: ${why}`);
    expect(process.exitCode).toBe(1);
    expect((await s.ledger.listAll()).filter((g) => g.reissueOf !== null)).toEqual([]);
    expect(await s.ledger.findByBillNo(billOf(1))).toMatchObject({ reissuedAs: null, operatorAction: null });
  });
});

describe('campaign pause|resume|list', () => {
  it('should pause and resume a campaign in the ledger', async () => {
    expect(await run('campaign', 'pause', 'bonus', '--reason', 'top-up pending')).toBe('campaign bonus paused');
    expect(await s.ledger.pausedCampaigns()).toEqual([expect.objectContaining({ campaign: 'bonus', by: 'operator', reason: 'top-up pending' })]);
    expect(await run('campaign', 'list')).toMatch(/bonus\s+normal\s+0\/100\s+0\.00\/100\.00\s+paused \(top-up pending\)/);
    expect(await run('campaign', 'resume', 'bonus')).toBe('campaign bonus resumed');
    expect(process.exitCode).toBeUndefined();
    expect(await run('campaign', 'resume', 'bonus')).toBe('campaign bonus was not paused: nothing changed');
    expect(process.exitCode).toBe(1);
  });

  it('should refuse to pause a campaign that campaigns.yaml does not define, naming the ones it does', async () => {
    await expect(run('campaign', 'pause', 'bonsu')).rejects.toThrow('no campaign "bonsu" in campaigns.yaml — did you mean "bonus"?; campaigns: bonus');
    await expect(run('campaign', 'pause', 'nope')).rejects.toThrow(/^no campaign "nope" in campaigns.yaml; campaigns: bonus$/);
    expect(await s.ledger.pausedCampaigns()).toEqual([]);
    await expect(run('campaign', 'resume', 'nope')).rejects.toThrow('no campaign "nope"');
  });

  it('should still resume a paused campaign that was since removed from campaigns.yaml', async () => {
    await s.ledger.pauseCampaign('retired', { reason: 'old', by: 'operator', now: T0 });
    expect(await run('campaign', 'resume', 'retired')).toBe('campaign retired resumed');
  });
});

/** Another ledger's packet already paid under this ledger's n-th bill number (a shared bill tag). */
async function paidElsewhere(n: number): Promise<void> {
  const outcome = await pay.redpack.send({
    kind: 'normal',
    billNo: billOf(n),
    openId: 'oElsewhere000001',
    amountFen: 100,
    totalNum: 1,
    sendName: '别处',
    wishing: '恭喜',
    actName: '活动',
    remark: '备注',
  });
  expect(outcome.status).toBe('sent');
}

describe('bill-number collisions in the ledger and reconcile commands', () => {
  it('should list a held grant under the ledger summary with its reason', async () => {
    await paidElsewhere(1);
    await run('redpack', 'send-file', file('a.txt', `${APPID}\n${openIdOf(1)}\n`), '--campaign', 'bonus');
    await sendAll();
    const text = await run('ledger');
    expect(text).toMatch(/bonus\s+HELD\s+1\s+1\.00/);
    expect(text).toContain(
      `HELD grant 1 (bonus, bill ${billOf(1)}, 1.00 yuan to ${openIdOf(1)}): billno_collision: sendredpack: the answer for this mch_billno says re_openid oElsewhere000001, not ${openIdOf(1)}`,
    );
  });

  it('should count a SENT grant that gethbinfo shows to be another packet, and exit 2', async () => {
    await paidElsewhere(1);
    pay.sandbox.receive(billOf(1));
    await run('redpack', 'send-file', file('a.txt', `${APPID}\n${openIdOf(1)}\n`), '--campaign', 'bonus');
    const g = (await s.ledger.findByBillNo(billOf(1)))!;
    await s.ledger.settle(g.id, { status: 'SENT', now: clock.now() }); // as an older version recorded it
    expect(await run('reconcile')).toBe('checked 1: 0 received, 0 refunded, 0 refunding, 0 unchanged, 0 query errors, 0 anomalies, 1 held as bill-number collisions');
    expect(process.exitCode).toBe(2);
    expect(await s.ledger.findByBillNo(billOf(1))).toMatchObject({ status: 'HELD' });
  });
});

describe('reconcile', () => {
  it('should record what WeChat Pay says about SENT packets', async () => {
    await run('redpack', 'send-file', file('a.txt', `${APPID}\n${openIdOf(1)}\n${openIdOf(2)}\n`), '--campaign', 'bonus');
    await sendAll();
    pay.sandbox.receive(billOf(1));
    pay.sandbox.refundUnclaimed(0);
    expect(await run('reconcile')).toBe('checked 2: 1 received, 1 refunded, 0 refunding, 0 unchanged, 0 query errors, 0 anomalies, 0 held as bill-number collisions');
    expect(await s.ledger.usage('budget:bonus')).toEqual({ count: 1, amountFen: 100 });
  });
});

describe('createRewardsCliContext', () => {
  it('should open the SQLite ledger under BOT_DATA_DIR and read the config folder', async () => {
    const ctx = await createRewardsCliContext({ BOT_DATA_DIR: tmp.dir, BOT_CONFIG_DIR: path.join(__dirname, '../../config') });
    try {
      expect(await ctx.ledger.summary()).toEqual([]);
      expect(ctx.config().campaigns['welcome-packet']).toBeDefined();
      expect(ctx.mchId).toBe(MCH_ID);
      expect(() => ctx.redpack()).toThrow(/no pay sandbox is running/);
    } finally {
      await ctx.close();
    }
    expect(fs.existsSync(path.join(tmp.dir, 'wechat-bot.sqlite'))).toBe(true);
  });
});
