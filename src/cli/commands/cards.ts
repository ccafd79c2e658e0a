/**
 * Operator commands for card coupons and the sub-merchants they are made for:
 *
 *   cards sync [NAME…]                 create missing cards, update changed fields, change stock, show review status
 *   cards list [--json]                every card of cards.yaml with its card_id and review status
 *   cards show NAME [--json]           one card: config, stored state, and WeChat's card/get
 *   cards whitelist OPENID…            let these followers receive cards still in review (test whitelist)
 *   cards consume CODE [--card NAME] [--encrypted]   check a code and redeem it
 *   cards report [--from D] [--to D] [--json]        issued / received / redeemed / deleted per card + WeChat's statistics;
 *                                                    quick pays (fee / original fee), member updates, views, sessions;
 *                                                    member cards also: members (activated / not), points sent / open / failed
 *   cards members | member | points add|set           member cards: see cards-members.ts
 *   submerchant categories             the categories a sub-merchant may choose (card/getapplyprotocol)
 *   submerchant submit NAME | update NAME             register or update a sub-merchant of submerchants.yaml
 *   submerchant status [NAME] [--json] review state (get, or batchget for all)
 *
 * They use the bot's store and ledger (so `cards sync` records card_ids the running bot uses).
 *
 * @example npx wechat-bot cards sync && npx wechat-bot cards consume 110201201245 --card coffee-cash
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Create_a_Coupon_Voucher_or_Card.html
 */
import type { Command } from 'commander';
import { cardsConfigOf, createCards, type Cards } from '../../cards/cards';
import { checkCardsConfig } from '../../cards/check-cards-config';
import { systemClock } from '../../lib/clock';
import { withClosing } from '../../lib/with-closing';
import { createCliContext, type CliContext } from '../context';
import { registerMemberCommands } from './cards-members';
import { loadConfigOrFail } from '../load-config-or-fail';

/** Injection points for tests. */
export interface CardsCommandDeps {
  createContext?: () => Promise<CliContext>;
  out?: (text: string) => void;
}

/** Builds the card service over a command context (config from the config folder, the bot's ledger). */
export async function cardsForContext(ctx: CliContext): Promise<{ cards: Cards; close(): Promise<void> }> {
  const { files } = loadConfigOrFail(ctx.settings);
  const cross = checkCardsConfig(files);
  if (cross.length > 0) throw new Error(`the card config is inconsistent:\n${cross.map((i) => `  ${i.file}.yaml ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  const config = cardsConfigOf(files);
  const { ledger, members } = await ctx.durable();
  const cards = createCards({ api: ctx.api, kv: ctx.store.kv, ledger, members, config: () => config, clock: systemClock, log: ctx.log });
  // The ledger closes with the context.
  return { cards, close: async () => undefined };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => (c ?? '').padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * Adds the `cards` and `submerchant` commands (loaded by `src/cli/main.ts`).
 *
 * @example register(new Command())
 * @see https://developers.weixin.qq.com/doc/offiaccount/Cards_and_Offer/Create_a_Coupon_Voucher_or_Card.html
 */
export function register(program: Command, deps: CardsCommandDeps = {}): void {
  const out = deps.out ?? ((text: string) => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`));
  const makeContext = deps.createContext ?? (() => createCliContext(process.env));

  /** Runs `fn` over the cards of a fresh CLI context; both are closed afterwards. */
  function withCards(fn: (cards: Cards) => Promise<void>): Promise<void> {
    return withClosing(makeContext, (ctx) =>
      withClosing(
        () => cardsForContext(ctx),
        ({ cards }) => fn(cards),
      ),
    );
  }

  const cardsCmd = program.command('cards').description('Make, maintain, redeem and report card coupons (config/cards.yaml)');
  registerMemberCommands(
    cardsCmd,
    (fn) =>
      withClosing(makeContext, (ctx) =>
        withClosing(
          () => cardsForContext(ctx),
          ({ cards }) => fn(ctx, cards),
        ),
      ),
    out,
  );
  cardsCmd
    .command('sync [names...]')
    .description('Create missing cards, update changed fields and stock, show review status')
    .action((names: string[]) =>
      withCards(async (cards) => {
        const results = await cards.sync({ only: names });
        out(table([['CARD', 'ACTION', 'CARD_ID', 'STATUS', 'DETAIL'], ...results.map((r) => [r.name, r.action, r.cardId ?? '-', r.status, r.message])]));
        if (results.some((r) => r.action === 'failed')) process.exitCode = 1;
      }),
    );
  cardsCmd
    .command('reconcile')
    .description('Check SENT card grants against card/user/getcardlist and record RECEIVED where the follower holds the card (missed events)')
    .option('--limit <n>', 'grants to check', '500')
    .action((opts: { limit: string }) =>
      withCards(async (cards) => {
        const limit = Number(opts.limit);
        if (!Number.isInteger(limit) || limit < 1) throw new Error('--limit must be a positive whole number');
        const r = await cards.reconcile({ limit });
        out(`checked ${r.checked} sent card grant${r.checked === 1 ? '' : 's'}: ${r.received} received, ${r.unchanged} unchanged, ${r.errors} errors`);
        if (r.errors > 0) process.exitCode = 1;
      }),
    );
  cardsCmd
    .command('list')
    .description('Every card of config/cards.yaml with its card_id, review status and sub-merchant')
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) =>
      withCards(async (cards) => {
        const list = await cards.list();
        if (opts.json)
          return out(
            JSON.stringify(
              list.map(({ synced: _s, ...r }) => r),
              null,
              2,
            ),
          );
        out(
          table([
            ['CARD', 'TYPE', 'CARD_ID', 'STATUS', 'SUB-MERCHANT', 'REASON'],
            ...list.map((r) => [r.name, r.type ?? '', r.cardId ?? '-', r.status, subMerchantCell(r), r.refuseReason ?? (r.cardId ? '' : (r.subMerchantReason ?? ''))]),
          ]),
        );
      }),
    );
  cardsCmd
    .command('show <name>')
    .description('One card: its card_id, review status, landing page and what WeChat has for it')
    .option('--json', 'machine-readable output')
    .action((name: string, opts: { json?: boolean }) =>
      withCards(async (cards) => {
        const s = await cards.show(name);
        if (opts.json) return out(JSON.stringify(s, null, 2));
        out(`${name}: ${s.record.cardId ?? 'not created'} — ${s.record.status}${s.record.refuseReason ? ` (${s.record.refuseReason})` : ''}`);
        if (s.definition)
          out(`type ${s.definition.type}, stock ${s.definition.stock}${s.definition.subMerchant ? `, for sub-merchant ${s.definition.subMerchant}` : ''}`);
        if (s.record.landingPage) out(`landing page: ${s.record.landingPage.url}`);
        if (s.wechat) out(JSON.stringify(s.wechat, null, 2));
      }),
    );
  cardsCmd
    .command('whitelist <openids...>')
    .description('Let these followers receive cards that are still in review')
    .action((openIds: string[]) =>
      withCards(async (cards) => {
        await cards.whitelist(openIds);
        out(`test whitelist set: ${openIds.join(', ')}`);
      }),
    );
  cardsCmd
    .command('consume <code>')
    .description('Redeem a card code at the counter (核销); refuses a used, expired or foreign code')
    .option('--card <name>', 'the card the code must belong to')
    .option('--encrypted', 'the code is an encrypt_code (decrypt it first)')
    .action((code: string, opts: { card?: string; encrypted?: boolean }) =>
      withCards(async (cards) => {
        const r = await cards.consume(code, { card: opts.card, encrypted: opts.encrypted });
        if (r.ok) out(`redeemed ${r.code} (${r.cardName ?? r.cardId}, holder ${r.openId})`);
        else {
          out(`refused: ${r.message} [${r.reason}]`);
          process.exitCode = 1;
        }
      }),
    );
  cardsCmd
    .command('report')
    .description("Per card: issued, received, gifted, redeemed and failed, beside WeChat's own statistics")
    .option('--from <date>', 'WeChat statistics from YYYY-MM-DD (default: 29 days ago)')
    .option('--to <date>', 'to YYYY-MM-DD (default: today)')
    .option('--json', 'machine-readable output')
    .action((opts: { from?: string; to?: string; json?: boolean }) =>
      withCards(async (cards) => {
        const rows = await cards.report({ beginDate: opts.from, endDate: opts.to });
        if (opts.json) return out(JSON.stringify(rows, null, 2));
        out(
          table([
            ['CARD', 'STATUS', 'ISSUED', 'RECEIVED', 'GIFTED', 'REDEEMED', 'DELETED', 'PENDING', 'FAILED', 'WECHAT recv/verify/given'],
            ...rows.map((r) => [
              r.name,
              r.status,
              ...[r.issued, r.received, r.gifted, r.redeemed, r.deleted, r.pending, r.failed].map(String),
              r.wechat ? `${r.wechat.receive}/${r.wechat.verify}/${r.wechat.given}` : '-',
            ]),
          ]),
        );
        const memberRows = rows.filter((r) => r.member);
        if (memberRows.length > 0)
          out(
            table([
              ['MEMBER CARD', 'ACTIVATED', 'NOT ACTIVATED', 'POINTS SENT', 'POINTS OPEN', 'POINTS FAILED'],
              ...memberRows.map(({ name, member: m }) => [
                name,
                m!.members ? String(m!.members.activated) : '-',
                m!.members ? String(m!.members.notActivated) : '-',
                ...(['sent', 'open', 'failed'] as const).map((k) => `${m!.points[k].points} (${m!.points[k].grants} grant${m!.points[k].grants === 1 ? '' : 's'})`),
              ]),
            ]),
          );
        const activityRows = rows.filter((r) => r.activity);
        if (activityRows.length > 0)
          out(
            table([
              ['CARD', 'QUICK PAYS', 'FEE (fen)', 'ORIGINAL FEE (fen)', 'MEMBER UPDATES', 'BONUS +/-', 'BALANCE +/-', 'VIEWS', 'SESSIONS'],
              ...activityRows.map(({ name, activity: a }) => [
                name,
                ...[
                  a!.payments.count,
                  a!.payments.fee,
                  a!.payments.originalFee,
                  a!.memberUpdates.count,
                  a!.memberUpdates.bonus,
                  a!.memberUpdates.balance,
                  a!.views,
                  a!.sessions,
                ].map(String),
              ]),
            ]),
          );
      }),
    );

  const sub = program.command('submerchant').description('Sub-merchants of developer-assisted coupon making (config/submerchants.yaml)');
  sub
    .command('categories')
    .description('The business categories WeChat accepts for a sub-merchant (primary and secondary ids)')
    .action(() =>
      withCards(async (cards) => {
        for (const c of await cards.submerchants.categories()) {
          out(`${c.primaryCategoryId} ${c.name}`);
          for (const s of c.secondary)
            out(`  ${s.secondaryCategoryId} ${s.name}${s.needQualificationStuffs.length ? ` (needs: ${s.needQualificationStuffs.join(', ')})` : ''}`);
        }
      }),
    );
  sub
    .command('submit <name>')
    .description('Submit a sub-merchant of config/submerchants.yaml to WeChat for review')
    .action((name: string) =>
      withCards(async (cards) => {
        const r = await cards.submerchants.submit(name);
        out(`${name}: submitted as merchant_id ${r.merchantId} — ${r.status}`);
      }),
    );
  sub
    .command('update <name>')
    .description("Send a sub-merchant's changed fields (or a renewed authorization letter) to WeChat")
    .action((name: string) =>
      withCards(async (cards) => {
        const r = await cards.submerchants.update(name);
        out(`${name}: updated (merchant_id ${r.merchantId}) — ${r.status}`);
      }),
    );
  sub
    .command('status [name]')
    .description("Review state of one sub-merchant, or of all, with WeChat's reason when refused")
    .option('--json', 'machine-readable output')
    .action((name: string | undefined, opts: { json?: boolean }) =>
      withCards(async (cards) => {
        const list = await cards.submerchants.status(name);
        if (opts.json) return out(JSON.stringify(list, null, 2));
        out(
          table([
            ['SUB-MERCHANT', 'MERCHANT_ID', 'STATUS', 'REASON'],
            ...list.map((r) => [r.name, r.merchantId === undefined ? '-' : String(r.merchantId), r.status, r.reason ?? '']),
          ]),
        );
      }),
    );
}

/** `corner-cafe (APPROVED)`: a card's sub-merchant with its review state, empty for a plain card. */
function subMerchantCell(r: { subMerchant?: string; subMerchantStatus?: string }): string {
  if (!r.subMerchant) return '';
  return r.subMerchantStatus ? `${r.subMerchant} (${r.subMerchantStatus})` : r.subMerchant;
}
