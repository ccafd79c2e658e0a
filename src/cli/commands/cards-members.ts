/**
 * Member-card commands under `cards` (issue 17):
 *
 *   cards members [--card NAME] [--limit N]                  the members of the member cards
 *   cards member OPENID|CODE [--card NAME] [--query]         one member: points, balance, points history (and WeChat's view with --query)
 *   cards points add|set CODE N --reason TEXT [--by NAME] [--card NAME] [--dry-run]
 *                                                            an operator's points change, audited, through the ledger and the outbox
 *
 * Points are a count, never money: no command shows them in yuan or adds them to a money total.
 *
 * @example npx wechat-bot cards points add 100000000001 50 --reason "goodwill for order 42" --by alice --dry-run
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Membership_Cards/Manage_Member_Card.html
 */
import type { Command } from 'commander';
import { memberCardBonusApi } from '../../api/member-card-bonus';
import type { Cards } from '../../cards/cards';
import { changeMemberPoints, memberTotals, pointsHistory } from '../../cards/member-points';
import type { Member } from '../../cards/member-store';
import { memberPointsGrants } from '../../cards/points-sender';
import { systemClock } from '../../lib/clock';
import { fenToYuan } from '../../lib/money';
import type { CliContext } from '../context';
import { defaultOperator } from './rewards';

type Out = (text: string) => void;
type WithMembers = (fn: (ctx: CliContext, cards: Cards) => Promise<void>) => Promise<void>;

/** The member cards to look in: `--card NAME`, or every card that has a card_id. */
async function cardsToSearch(cards: Cards, name: string | undefined): Promise<{ name: string; cardId: string }[]> {
  const list = (await cards.list()).filter((r) => r.cardId && (name === undefined || r.name === name));
  if (name !== undefined && list.length === 0) throw new Error(`card "${name}" is not in cards.yaml or not created yet (run "cards sync")`);
  return list.map((r) => ({ name: r.name, cardId: r.cardId! }));
}

/** `1000…0001` → `1000****0001`: a code is shown in full only by `cards member`. */
function maskCode(code: string): string {
  return code.length <= 8 ? '****' : `${code.slice(0, 4)}****${code.slice(-4)}`;
}

/**
 * Adds `members`, `member` and `points` to the `cards` command.
 *
 * @example registerMemberCommands(cardsCmd, withMembers, out)
 */
export function registerMemberCommands(cardsCmd: Command, withMembers: WithMembers, out: Out): void {
  cardsCmd
    .command('members')
    .description('The members of the member cards (membership number, openid, masked code, activation)')
    .option('--card <name>', 'only this member card')
    .option('--limit <n>', 'at most this many', '100')
    .action((opts: { card?: string; limit: string }) =>
      withMembers(async (ctx, cards) => {
        const { members } = await ctx.durable();
        const limit = Math.max(1, Math.min(10_000, Number(opts.limit) || 100));
        const rows: string[][] = [['CARD', 'NUMBER', 'OPENID', 'CODE', 'ACTIVATED']];
        for (const c of await cardsToSearch(cards, opts.card))
          for (const m of await members.list({ cardId: c.cardId, limit, offset: 0 }))
            rows.push([c.name, m.membershipNumber, m.openId, maskCode(m.code), m.activatedAt ? new Date(m.activatedAt).toISOString() : 'no']);
        out(rows.map((r) => r.join('  ')).join('\n'));
        if (rows.length === 1) out('no members');
      }),
    );

  cardsCmd
    .command('member <who>')
    .description("One member (by openid or card code): points and balance from the ledger, the points history, and with --query WeChat's own figures")
    .option('--card <name>', 'only this member card')
    .option('--query', 'also read membercard/userinfo/get')
    .action((who: string, opts: { card?: string; query?: boolean }) =>
      withMembers(async (ctx, cards) => {
        const { members, ledger } = await ctx.durable();
        const found: { name: string; member: Member }[] = [];
        for (const c of await cardsToSearch(cards, opts.card)) {
          const byCode = await members.findByCode(c.cardId, who);
          for (const m of byCode ? [byCode] : await members.findByOpenId(who, c.cardId)) found.push({ name: c.name, member: m });
        }
        if (found.length === 0) {
          out(`no member with openid or code ${who}`);
          process.exitCode = 1;
          return;
        }
        for (const { name, member: m } of found) {
          const history = await memberPointsGrants(ledger, name, m.openId);
          const { total, projected } = memberTotals(m, history);
          out(`${name} #${m.membershipNumber}: ${m.openId}, code ${m.code}, ${m.activatedAt ? `activated ${new Date(m.activatedAt).toISOString()}` : 'not activated'}`);
          out(
            `points ${total}${projected !== total ? ` (${projected} once open grants are sent)` : ''}; balance ${fenToYuan(m.initialBalance)} yuan (given at activation)`,
          );
          if (opts.query) {
            const info = await memberCardBonusApi(ctx.api.card).userInfo(m.cardId, m.code);
            out(`WeChat shows: points ${info.bonus}, balance ${fenToYuan(info.balance)} yuan, ${info.userCardStatus}`);
          }
          for (const h of pointsHistory(history)) out(`  ${new Date(h.at).toISOString()}  ${h.ref}  ${h.status.padEnd(8)}  ${h.change.padStart(8)}  ${h.source}`);
        }
      }),
    );

  const points = cardsCmd.command('points').description("Change a member's points (audited; sent by the outbox as the new total, never twice)");
  for (const mode of ['add', 'set'] as const)
    points
      .command(`${mode} <code> <n>`)
      .description(mode === 'add' ? 'Add N points (negative: take away) to the member with this card code' : "Set the member's points to N")
      .requiredOption('--reason <text>', 'why (kept in the ledger; shown to the member as the points-change text, at most 42 characters)')
      .option('--by <name>', 'the operator (default: your OS user name)')
      .option('--card <name>', 'the member card (default: the one card holding this code)')
      .option('--dry-run', 'run the same checks and say what would happen; record nothing')
      .action((code: string, n: string, opts: { reason: string; by?: string; card?: string; dryRun?: boolean }) =>
        withMembers(async (ctx, cards) => {
          const { members, ledger } = await ctx.durable();
          const candidates = await cardsToSearch(cards, opts.card);
          const holding: string[] = [];
          for (const c of candidates) if (await members.findByCode(c.cardId, code)) holding.push(c.name);
          if (holding.length !== 1) {
            out(holding.length === 0 ? 'no member has that code' : `the code is on ${holding.join(', ')}: name one with --card`);
            process.exitCode = 1;
            return;
          }
          const r = await changeMemberPoints(
            { ledger, members, cardIdOf: async (name) => candidates.find((c) => c.name === name)?.cardId },
            {
              cardName: holding[0]!,
              code,
              mode,
              n: Number(n),
              by: opts.by ?? defaultOperator(),
              reason: opts.reason,
              now: systemClock.now(),
              dryRun: opts.dryRun === true,
            },
          );
          if (!r.ok) {
            out(`${opts.dryRun ? 'would not change' : 'did not change'} the points: ${r.message}`);
            process.exitCode = 1;
            return;
          }
          const what = `${r.member.openId} on ${holding[0]}: ${r.before} → ${r.after} points`;
          out(r.recorded ? `recorded ${r.grant!.billNo}: ${what}; the outbox sets the new total on WeChat` : `would record ${what}. Nothing was changed (--dry-run).`);
        }),
      );
}
