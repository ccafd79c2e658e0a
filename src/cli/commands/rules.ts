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
import { GRANT_OUTCOMES, type GrantOutcome } from '../../rules/actions';
import { describeAction, describeMessage } from '../../rules/describe-action';
import { explainMessage } from '../../rules/explain-message';
import { describeReplyValue } from '../../reply/describe-reply-value';
import { followerMessage } from '../../wechat/follower-message';
import { parseAt } from '../parse-at';
import { processIo, type CliIo } from './config';
import { followerInput, type FollowerOptions } from './simulate';
import { runExplainOrder } from './spend';

export { parseAt } from '../parse-at';
export { describeAction } from '../../rules/describe-action';
export { describeReplyValue } from '../../reply/describe-reply-value';
import { loadConfigOrReport } from '../load-config-or-fail';

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
  const x = await explainMessage(message, config, now, { outcome, random: deps.random });
  io.out(`message: ${describeMessage(message)}`);
  if (x.matched.length === 0) {
    io.out('no rule matches: nothing is sent (WeChat gets "success")');
    return 0;
  }
  for (const m of x.matched) {
    if (m.kind === 'rule') {
      const src = m.source;
      io.out(`rule "${m.ruleId}" matches${src ? ` (${src.file}${src.line ? `:${src.line}` : ''})` : ''}${m.continues ? ' and continues' : ''}`);
      io.out(`  because: ${m.conditions.join('; ')}`);
      if (m.captures) io.out(`  captures: ${JSON.stringify(m.captures)}`);
      if (m.named) io.out(`  groups: ${JSON.stringify(m.named)}`);
    } else
      io.out(
        m.kind === 'welcome'
          ? 'no rule answers this follow: the top-level `welcome` actions apply'
          : 'no rule answers this message: the top-level `default` actions apply',
      );
    io.out('  actions:');
    if (m.kind === 'rule' && m.actions.length === 0) io.out('    (none)');
    for (const a of m.actions) io.out(`    - ${describeAction(a)}`);
  }
  const lines = describeReplyValue(x.reply);
  io.out(`reply (not sent${x.grants.length > 0 ? `; grant assumed ${outcome}, nothing granted` : ''}): ${lines[0]}`);
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
