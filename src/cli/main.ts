#!/usr/bin/env node
/**
 * The operator CLI: `npx wechat-bot <command>`. Each file in `./commands/` registers one group of
 * commands (`export function register(program: Command): void`), so groups are added without editing
 * this file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('wechat-bot')
    .description('Operate the WeChat bot: check config, simulate followers, push menus, issue and audit rewards.')
    .showHelpAfterError();
  const dir = path.join(__dirname, 'commands');
  const files = fs
    .readdirSync(dir)
    .filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts') && !f.endsWith('.test.ts'))
    .sort();
  for (const f of files) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(path.join(dir, f)) as { register?: (p: Command) => void };
    if (typeof mod.register === 'function') mod.register(program);
  }
  return program;
}

if (require.main === module) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    });
}
