#!/usr/bin/env node
/**
 * The operator CLI: `npm run cli -- <command>` (or `npx wechat-bot <command>` inside the project).
 * Each file in `./commands/` registers one group of commands
 * (`export function register(program: Command): void`), so groups are added without editing this file.
 *
 * {@link runCli} is what the `wechat-bot` binary runs: it reads the `.env` beside package.json (the
 * bot reads the same file), so a command uses the same account and store as the bot; it ends quietly
 * when the reader of its output goes away (`… | head`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { loadDotEnv, projectRoot } from '../config/dotenv';

/** The version in package.json. */
export function cliVersion(root: string = projectRoot()): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('wechat-bot')
    .description('Operate the WeChat bot: check config, simulate followers, push menus, issue and audit rewards.')
    .version(cliVersion(), '-V, --version', 'print the version and exit')
    .showHelpAfterError();
  const dir = path.join(__dirname, 'commands');
  const files = fs
    .readdirSync(dir)
    .filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts') && !f.endsWith('.test.ts'))
    .sort();
  for (const f of files) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- each command module is found at run time, by file name
    const mod = require(path.join(dir, f)) as { register?: (p: Command) => void };
    if (typeof mod.register === 'function') mod.register(program);
  }
  return program;
}

/**
 * A closed output pipe (`wechat-bot ledger --grants | head`) ends the command with status 0 instead of
 * an EPIPE stack trace; any other write error is reported and exits 1.
 */
export function exitQuietlyOnClosedPipe(stream: NodeJS.WriteStream, exit: (code: number) => void = process.exit): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') return exit(0);
    process.stderr.write(`wechat-bot: cannot write output: ${err.message}\n`);
    exit(1);
  });
}

/** Runs the CLI on `argv` with the project's `.env` loaded; the process exits 1 on an error. */
export function runCli(argv: string[] = process.argv): Promise<void> {
  exitQuietlyOnClosedPipe(process.stdout);
  return Promise.resolve()
    .then(() => {
      loadDotEnv();
      return buildProgram().parseAsync(argv);
    })
    .then(
      () => undefined,
      (err: unknown) => {
        process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
}

if (require.main === module) void runCli();
