/**
 * `wechat-bot rules explain`: which rule answers a follower action, why (its conditions), what it
 * does, and the reply it would build — without sending anything or granting anything (a grant is
 * previewed with an assumed outcome, `granted` unless `--outcome` says otherwise).
 *
 * @example npx wechat-bot rules explain "order 123456"
 * @example npx wechat-bot rules explain --click MENU_HELP
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
 */
import type { Command } from 'commander';
import { decide, DEFAULT_RULE_ID, WELCOME_RULE_ID } from '../../rules/engine';
import { createMessageHandler } from '../../rules/handle-message';
import { GRANT_OUTCOMES, type Action, type GrantOutcome, type ReplySpec } from '../../rules/actions';
import { parseAt } from '../parse-at';
import { silentLogger } from '../../lib/logger';
import type { InboundMessage } from '../../wechat/inbound';
import type { Reply } from '../../reply/reply';
import { processIo, type CliIo } from './config';
import { followerInput, followerMessage, type FollowerOptions } from './simulate';
import { runExplainOrder } from './spend';

export { parseAt } from '../parse-at';
import { loadConfigOrReport } from '../load-config-or-fail';

// === Describing

function describeSpec(spec: ReplySpec): string {
  switch (spec.kind) {
    case 'text':
      return `text ${JSON.stringify(spec.text.length > 60 ? `${spec.text.slice(0, 57)}...` : spec.text)}`;
    case 'template':
      return `template "${spec.template}"${spec.vars ? ` with ${Object.keys(spec.vars).join(', ')}` : ''}`;
    case 'random':
      return `one of ${spec.random.length} at random: ${spec.random.map(describeSpec).join(' | ')}`;
    case 'image':
    case 'voice':
    case 'video':
      return `${spec.kind} ${spec.mediaId}`;
    case 'music':
      return `music ${spec.title ?? spec.thumbMediaId}`;
    case 'news':
      return `news "${spec.articles[0]?.title ?? ''}"`;
    case 'none':
      return 'no reply';
  }
}

/**
 * One line per action, as shown by `rules explain`.
 *
 * @example describeAction({ type: 'grant', campaign: 'welcome-packet', replies: {} }) // 'grant from campaign "welcome-packet"'
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
export function describeAction(a: Action): string {
  switch (a.type) {
    case 'reply':
      return `reply: ${describeSpec(a.reply)}`;
    case 'grant': {
      const own = GRANT_OUTCOMES.filter((o) => a.replies[o]);
      return `grant from campaign "${a.campaign}"${own.length ? ` (own replies for ${own.join(', ')})` : ''}`;
    }
    case 'transfer_customer_service':
      return `transfer to customer service${a.kfAccount ? ` (agent ${a.kfAccount})` : ''}`;
  }
}

function describeMessage(m: InboundMessage): string {
  if (m.MsgType === 'text') return `text ${JSON.stringify(m.Content)}`;
  if (m.MsgType === 'event') {
    const key = (m as unknown as { EventKey?: string }).EventKey;
    return `event ${m.Event}${key ? ` with key ${JSON.stringify(key)}` : ''}`;
  }
  return m.MsgType;
}

/** Reply value → readable lines. */
export function describeReplyValue(r: Reply): string[] {
  switch (r.type) {
    case 'text':
      return ['text', ...r.content.split('\n').map((l) => `  ${l}`)];
    case 'news':
      return [
        `news (${r.articles.length} article${r.articles.length === 1 ? '' : 's'})`,
        ...r.articles.map((a, i) => `  ${i + 1}. ${a.title}${a.url ? ` — ${a.url}` : ''}`),
      ];
    case 'transfer_customer_service':
      return [`transfer to customer service${r.kfAccount ? ` (agent ${r.kfAccount})` : ''}`];
    case 'none':
      return ['none (WeChat gets "success")'];
    case 'image':
    case 'voice':
      return [`${r.type} ${r.mediaId}`];
    case 'video':
      return [`video ${r.mediaId}${r.title ? ` "${r.title}"` : ''}`];
    case 'music':
      return [`music ${r.title ?? ''} (${r.musicUrl ?? r.thumbMediaId})`];
  }
}

// === Running

export interface ExplainOptions extends FollowerOptions {
  dir?: string;
  views?: string;
  openid?: string;
  /** Beijing time to evaluate windows at (default now). */
  at?: string;
  /** The outcome a grant is assumed to have (default granted). */
  outcome?: string;
}

/**
 * Explains what the config does with one follower action; returns the exit code (1 when the config
 * is invalid or the command line is wrong).
 *
 * @example runExplain('hello', { dir: 'config' }, processIo, { random: () => 0 })
 * @see https://github.com/Wechat-Group/WxJava/blob/develop/weixin-java-mp/src/main/java/me/chanjar/weixin/mp/api/WxMpMessageRouter.java
 */
export async function runExplain(text: string | undefined, o: ExplainOptions, io: CliIo, deps: { random?: () => number; nowMs?: number } = {}): Promise<number> {
  let input;
  let now: number;
  try {
    input = followerInput(text, o);
    now = o.at ? parseAt(o.at) : (deps.nowMs ?? Date.now());
  } catch (err) {
    io.err((err as Error).message);
    return 1;
  }
  const outcome = (o.outcome ?? 'granted') as GrantOutcome;
  if (!GRANT_OUTCOMES.includes(outcome)) {
    io.err(`--outcome "${o.outcome}" is not one of ${GRANT_OUTCOMES.join(', ')}`);
    return 1;
  }
  const config = loadConfigOrReport(o, io);
  if (!config) return 1;
  const message = followerMessage(input, { openid: o.openid ?? 'o-explain', nowMs: now, msgId: '1' });
  const decision = decide(message, config.rules, now);
  io.out(`message: ${describeMessage(message)}`);
  if (decision.matched.length === 0) {
    io.out('no rule matches: nothing is sent (WeChat gets "success")');
    return 0;
  }
  for (const m of decision.matched) {
    if (m.ruleId === DEFAULT_RULE_ID || m.ruleId === WELCOME_RULE_ID) {
      io.out(
        m.ruleId === WELCOME_RULE_ID
          ? 'no rule answers this follow: the top-level `welcome` actions apply'
          : 'no rule answers this message: the top-level `default` actions apply',
      );
      const list = m.ruleId === WELCOME_RULE_ID ? config.rules.welcome : config.rules.default;
      io.out('  actions:');
      for (const a of list) io.out(`    - ${describeAction(a)}`);
      continue;
    }
    const rule = config.rules.list.find((x) => x.id === m.ruleId)!;
    const src = config.ruleSources.get(rule.id);
    io.out(`rule "${rule.id}" matches${src ? ` (${src.file}${src.line ? `:${src.line}` : ''})` : ''}${rule.continue ? ' and continues' : ''}`);
    io.out(`  because: ${rule.conditions.join('; ')}`);
    if (m.captures && m.captures.length > 0) io.out(`  captures: ${JSON.stringify(m.captures)}`);
    if (m.named) io.out(`  groups: ${JSON.stringify(m.named)}`);
    io.out('  actions:');
    if (rule.actions.length === 0) io.out('    (none)');
    for (const a of rule.actions) io.out(`    - ${describeAction(a)}`);
  }
  // Preview the reply with the real handler, a fixed clock and a rewards stand-in that grants nothing.
  const hasGrant = decision.actions.some((a) => a.type === 'grant');
  const handler = createMessageHandler({
    config: { current: () => config },
    clock: { now: () => now },
    random: deps.random,
    log: silentLogger(),
    rewards: {
      grant: async (req) => {
        const c = config.files.campaigns.campaigns[req.campaign] as { amount?: { minFen?: number } } | undefined;
        return { outcome, amountFen: c?.amount?.minFen, reason: outcome === 'granted' ? undefined : 'preview' };
      },
    },
  });
  const reply = await handler(message);
  const lines = describeReplyValue(reply);
  io.out(`reply (not sent${hasGrant ? `; grant assumed ${outcome}, nothing granted` : ''}): ${lines[0]}`);
  for (const l of lines.slice(1)) io.out(l);
  return 0;
}

/**
 * Registers `rules explain`.
 *
 * @example register(program)
 * @see https://github.com/tj/commander.js
 */
export function register(program: Command, io: CliIo = processIo): void {
  const rules = program.command('rules').description('inspect the reply rules');
  rules
    .command('explain')
    .description('show which rule answers a follower action and why, without sending anything')
    .argument('[text]', 'a text message')
    .option('--click <key>', 'a menu click with this key')
    .option('--follow [scene]', 'a follow (optionally from a QR scene)')
    .option('--scan <scene>', 'a QR scan by a follower')
    .option('--location <lat,lng>', 'a location message')
    .option('--event <name>', 'any event by name (with --key)')
    .option('--key <key>', 'the EventKey for --event')
    .option('--at <time>', 'evaluate windows at this Beijing time ("2026-02-01 09:30")')
    .option('--outcome <outcome>', `assume this grant outcome (${GRANT_OUTCOMES.join(', ')})`)
    .option('--openid <openid>', 'the follower openid', 'o-explain')
    .option('--order <yuan>', 'a paid order of this amount: which spend rule and tier applies (spend.yaml)')
    .option('--attach <text>', "with --order: the order's attach field")
    .option('--tag <tag>', 'with --order: a product tag of the order')
    .option('--dir <dir>', 'config folder (default $BOT_CONFIG_DIR or ./config)')
    .option('--views <dir>', 'views folder (default $BOT_VIEWS_DIR or ./views)')
    .action(async (text: string | undefined, opts: ExplainOptions & { order?: string; attach?: string; tag?: string }) => {
      if (opts.order !== undefined) {
        process.exitCode = runExplainOrder(opts.order, opts, io);
        return;
      }
      process.exitCode = await runExplain(text, opts, io);
    });
}
