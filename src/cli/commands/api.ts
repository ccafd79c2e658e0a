/**
 * Operator commands for the official-account API:
 *
 *   menu push [--yes]                  show the diff between WeChat's menu and config/menu.yaml, then create it
 *   menu show [--json]                 the menu WeChat has now
 *   menu delete [--yes]                remove the menu
 *   qrcode create --scene X [--expire S]   a scene QR code (temporary with --expire, else permanent); prints its URL
 *   token [--json]                     whether an access token is cached and until when (never the token)
 *
 * Changing the live menu asks for confirmation; without a terminal it refuses unless `--yes` is given.
 *
 * @example npx wechat-bot menu push --yes
 * @see https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Creating_Custom-Defined_Menu.html
 */
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import type { Menu } from '../../api/menu';
import { diffMenu, menuLines } from '../../api/menu-diff';
import { toWeChatMenu } from '../../config/to-wechat-menu';
import { withClosing } from '../../lib/with-closing';
import { createCliContext, type CliContext } from '../context';
import { loadConfigOrFail } from '../load-config-or-fail';

/** Injection points, so tests run the commands against a sandbox without a terminal. */
export interface ApiCommandDeps {
  createContext?: () => Promise<CliContext>;
  /** Writes command output (default: stdout). */
  out?: (text: string) => void;
  /** Writes notices that are not the command's output (default: stderr), so `--json` stays parseable. */
  note?: (text: string) => void;
  /** Asks a yes/no question (default: readline on the terminal). */
  confirm?: (question: string) => Promise<boolean>;
  /** Whether a person can be asked (default: stdin and stdout are terminals). */
  isInteractive?: () => boolean;
  /** Reads the menu to push from the config folder (default: `loadConfig` + `toWeChatMenu`). */
  loadMenu?: (ctx: CliContext) => Menu;
}

async function askOnTerminal(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/**
 * The menu of `menu.yaml`, validated by the config loader together with the rest of the config (so a
 * click key is checked against the rules). Throws with every issue when the config is invalid.
 */
export function loadConfiguredMenu(ctx: CliContext): Menu {
  return toWeChatMenu(loadConfigOrFail(ctx.settings).files.menu) as Menu;
}

function formatDuration(ms: number): string {
  if (ms <= 0) return 'expired';
  const m = Math.floor(ms / 60000);
  return m >= 60 ? `${Math.floor(m / 60)}h ${m % 60}m` : `${m}m ${Math.floor((ms % 60000) / 1000)}s`;
}

/** A numeric scene when the text is a plain positive integer (no leading zero), else the string. */
export function parseScene(text: string): number | string {
  return /^[1-9]\d{0,9}$/.test(text) && Number(text) <= 4294967295 ? Number(text) : text;
}

/**
 * Adds the `menu`, `qrcode` and `token` commands (loaded by `src/cli/main.ts`).
 *
 * @example register(new Command()) // then: program.parseAsync(['node', 'wechat-bot', 'token'])
 * @see https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Creating_Custom-Defined_Menu.html
 */
export function register(program: Command, deps: ApiCommandDeps = {}): void {
  const out = deps.out ?? ((text: string) => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`));
  const note = deps.note ?? ((text: string) => void process.stderr.write(`${text}\n`));
  const makeContext = deps.createContext ?? (() => createCliContext(process.env));
  const confirm = deps.confirm ?? askOnTerminal;
  const interactive = deps.isInteractive ?? (() => Boolean(process.stdin.isTTY && process.stdout.isTTY));
  const loadMenu = deps.loadMenu ?? loadConfiguredMenu;

  function withContext<T>(fn: (ctx: CliContext) => Promise<T>): Promise<T> {
    return withClosing(makeContext, (ctx) => {
      if (ctx.sandbox) note(`(sandbox mode: talking to an in-process WeChat sandbox at ${ctx.sandbox.url}; its state ends with this command)`);
      return fn(ctx);
    });
  }

  async function confirmed(yes: boolean | undefined, question: string): Promise<boolean> {
    if (yes) return true;
    if (!interactive()) throw new Error('refusing to change the live account without confirmation: no terminal to ask, pass --yes');
    return confirm(question);
  }

  // === menu

  const menu = program.command('menu').description('Show, push or delete the custom menu of the official account');

  menu
    .command('push')
    .description('Show the difference between the menu on WeChat and config/menu.yaml, then create it')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (opts: { yes?: boolean }) =>
      withContext(async (ctx) => {
        const wanted = loadMenu(ctx);
        const file = path.join(ctx.settings.configDir, 'menu.yaml');
        if (wanted.button.length === 0) {
          out(`${file} has no buttons: nothing to push (use "menu delete" to remove the menu from WeChat).`);
          return;
        }
        const current = await ctx.api.menu.get();
        const diff = diffMenu(current, wanted);
        if (!diff.changed) {
          out(`The menu on WeChat already matches ${file}; nothing to push.`);
          return;
        }
        out(`Menu on WeChat (-) → ${file} (+):`);
        out(diff.lines.join('\n'));
        if (!(await confirmed(opts.yes, 'Push this menu to WeChat? [y/N] '))) {
          out('Not pushed.');
          return;
        }
        await ctx.api.menu.create(wanted);
        out('Menu pushed. Followers see it within about five minutes (at once after re-following).');
      }),
    );

  menu
    .command('show')
    .description('Print the menu WeChat has now')
    .option('--json', 'print the JSON WeChat returned (normalized)')
    .action(async (opts: { json?: boolean }) =>
      withContext(async (ctx) => {
        const current = await ctx.api.menu.get();
        if (opts.json) out(JSON.stringify(current ?? null, null, 2));
        else out(current ? menuLines(current).join('\n') : 'No menu is set on this account.');
      }),
    );

  menu
    .command('delete')
    .description('Remove the custom menu from the official account')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (opts: { yes?: boolean }) =>
      withContext(async (ctx) => {
        const current = await ctx.api.menu.get();
        if (!current) {
          out('No menu is set on this account; nothing to delete.');
          return;
        }
        out('The menu on WeChat now:');
        out(menuLines(current).join('\n'));
        if (!(await confirmed(opts.yes, 'Delete this menu? [y/N] '))) {
          out('Not deleted.');
          return;
        }
        await ctx.api.menu.delete();
        out('Menu deleted.');
      }),
    );

  // === qrcode

  const qrcode = program.command('qrcode').description('Make scene QR codes for campaigns');
  qrcode
    .command('create')
    .description('Create a scene QR code: temporary with --expire, permanent without; prints the image URL')
    .requiredOption('--scene <scene>', 'scene value: a positive integer or a string of 1–64 characters')
    .option('--expire <seconds>', 'temporary code valid this many seconds (max 2592000 = 30 days)')
    .action(async (opts: { scene: string; expire?: string }) => {
      let expireSeconds: number | undefined;
      if (opts.expire !== undefined) {
        if (!/^\d+$/.test(opts.expire)) throw new Error(`--expire: "${opts.expire}" is not a whole number of seconds`);
        expireSeconds = Number(opts.expire);
      }
      const scene = parseScene(opts.scene);
      await withContext(async (ctx) => {
        const qr = await ctx.api.qrcode.create({ scene, expireSeconds });
        out(qr.showUrl);
        out(
          `${qr.actionName} scene ${JSON.stringify(scene)}; ${
            qr.expireSeconds !== undefined ? `expires in ${formatDuration(qr.expireSeconds * 1000)}` : 'permanent'
          }; encodes ${qr.url}`,
        );
      });
    });

  // === token

  program
    .command('token')
    .description('Whether an access token is cached and until when (the token itself is never shown)')
    .option('--json', 'print the status as JSON')
    .action(async (opts: { json?: boolean }) =>
      withContext(async (ctx) => {
        const status = await ctx.tokens.status();
        if (opts.json) {
          out(JSON.stringify({ appId: ctx.tokens.appId, ...status }));
          return;
        }
        if (status.expiresAt === undefined) out(`No access token cached for ${ctx.tokens.appId}; the next API call fetches one.`);
        else
          out(
            `Access token for ${ctx.tokens.appId}: ${status.cached ? 'cached' : 'due for refresh'}, expires ${new Date(status.expiresAt).toISOString()} (in ${formatDuration(
              status.expiresAt - Date.now(),
            )}).`,
          );
      }),
    );
}
