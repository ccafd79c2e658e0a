/**
 * Seeds a bot's ledger with the grants the overview counts: six red packets of `welcome-packet`, one
 * per hour over the last six hours; five sent a minute after their grant, three of those claimed
 * (RECEIVED) and one refunded two minutes after, one still pending.
 *
 * @example await seedLedger(bot, clock.now()); // grants 6, sends 5, claims 3, refunds 1
 */
import type { Bot } from '../../src/bot/create-bot';

export const SEEDED = { grants: 6, sends: 5, claims: 3, refunds: 1 } as const;

export async function seedLedger(bot: Pick<Bot, 'rewards' | 'ledger'>, now: number): Promise<void> {
  for (let i = 0; i < SEEDED.grants; i++) {
    const at = now - (i + 1) * 3_600_000;
    const details = await bot.rewards.record({ campaign: 'welcome-packet', openId: `oSeedFollower${i}`, dedupeKey: `seed-${i}`, ruleId: 'seed', now: at });
    if (details.outcome !== 'granted') throw new Error(`seed grant ${i} was not granted: ${details.outcome} ${details.reason ?? ''}`);
    const g = (await bot.ledger.findByKey(`seed-${i}`, 'seed'))!;
    if (i >= SEEDED.sends) continue;
    await bot.ledger.settle(g.id, { status: 'SENT', now: at + 60_000, sendListId: `seed-list-${i}` });
    if (i < SEEDED.claims) await bot.ledger.settle(g.id, { status: 'RECEIVED', now: at + 120_000 });
    else if (i < SEEDED.claims + SEEDED.refunds) await bot.ledger.settle(g.id, { status: 'REFUND', now: at + 120_000, release: ['budget'] });
  }
}
