/**
 * A ledger for the ledger page's tests: grants of two campaigns on two Beijing days, in several
 * states, with Chinese text and a formula-looking reason (CSV injection), one grant with a history of
 * WeChat Pay answers.
 *
 * @example const seeded = await seedLedgerPage(bot, T0); // seeded.ids, seeded.failedId
 */
import type { Bot } from '../../src/bot/create-bot';

/** 2026-12-03 10:00 Beijing time. */
export const DAY1 = Date.parse('2026-12-03T10:00:00+08:00');
export const DAY2 = DAY1 + 86_400_000;
export const CHINESE_REASON = 'SENDNUM_LIMIT: 该用户今日领取红包个数超过限制';
export const FORMULA_REASON = '=HYPERLINK("http://evil.example","点我")';

export interface SeededLedger {
  /** Grant ids in recording order: welcome-packet ×3 on DAY1, spend-packet ×2 on DAY2, welcome-packet ×1 on DAY2. */
  ids: number[];
  /** The FAILED grant (DAY1, Chinese reason, with its Pay answer in the history). */
  failedId: number;
  /** The grant whose reason looks like a formula (DAY2, spend-packet). */
  formulaId: number;
}

export async function seedLedgerPage(bot: Pick<Bot, 'rewards' | 'ledger'>): Promise<SeededLedger> {
  const plan: [string, number, string][] = [
    ['welcome-packet', DAY1, 'oLedgerA0001'],
    ['welcome-packet', DAY1 + 60_000, 'oLedgerB0001'],
    ['welcome-packet', DAY1 + 120_000, 'oLedgerC0001'],
    ['spend-packet', DAY2, 'oLedgerA0001'],
    ['spend-packet', DAY2 + 60_000, 'oLedgerA0001'],
    ['welcome-packet', DAY2 + 120_000, 'oLedgerD0001'],
  ];
  const ids: number[] = [];
  for (const [i, [campaign, now, openId]] of plan.entries()) {
    const d = await bot.rewards.record({ campaign, openId, dedupeKey: `ledger-page-${i}`, ruleId: 'seed', now });
    if (d.outcome !== 'granted') throw new Error(`seed ${i}: ${d.outcome} ${d.reason ?? ''}`);
    ids.push((await bot.ledger.findByKey(`ledger-page-${i}`, 'seed'))!.id);
  }
  const answer = {
    ...{ call: 'sendredpack', outcome: 'failed', code: 'SENDNUM_LIMIT', message: '该用户今日领取红包个数超过限制', detail: null },
    ...{ returnCode: 'SUCCESS', resultCode: 'FAIL' },
  };
  await bot.ledger.settle(ids[1]!, { status: 'FAILED', now: DAY1 + 90_000, reason: CHINESE_REASON, release: ['budget'], answer });
  await bot.ledger.settle(ids[0]!, { status: 'SENT', now: DAY1 + 30_000, sendListId: '1000041701201412170000000001' });
  await bot.ledger.settle(ids[4]!, { status: 'FAILED', now: DAY2 + 90_000, reason: FORMULA_REASON });
  return { ids, failedId: ids[1]!, formulaId: ids[4]! };
}
