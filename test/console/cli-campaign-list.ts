/**
 * Runs the real CLI's `campaign list` in-process on a bot's folders (its own SQLite connection, as a
 * second process would), and returns what it printed.
 *
 * @example expect(await campaignList(sample.dir)).toMatch(/welcome-packet .* paused/);
 */
import path from 'node:path';
import { Command } from 'commander';
import { createRewardsCliContext, register } from '../../src/cli/commands/rewards';

export async function campaignList(dir: string): Promise<string> {
  const lines: string[] = [];
  const program = new Command().exitOverride();
  const env = { BOT_CONFIG_DIR: path.join(dir, 'config'), BOT_DATA_DIR: path.join(dir, 'data'), LOG_LEVEL: 'silent' };
  register(program, { createContext: () => createRewardsCliContext(env, dir, () => undefined), out: (t) => lines.push(t) });
  await program.parseAsync(['node', 'wechat-bot', 'campaign', 'list']);
  return lines.join('\n');
}
