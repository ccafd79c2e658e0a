/**
 * Entry point: load settings (the environment, then the `.env` beside package.json), build the bot,
 * listen on PORT (and ADMIN_PORT), start the workers, reload the operator config on SIGHUP, and shut
 * down cleanly on SIGINT/SIGTERM. Composition only: everything is wired in `src/bot/create-bot.ts`.
 */
import { createBot } from './src/bot/create-bot';
import { loadDotEnv } from './src/config/dotenv';
import { loadSettings, SettingsError } from './src/config/settings';
import { registerPid } from './src/lib/pid-file';

async function main(): Promise<void> {
  let settings;
  try {
    loadDotEnv();
    settings = loadSettings(process.env);
  } catch (err) {
    if (err instanceof SettingsError) {
      process.stderr.write(`wechat-bot: invalid setting ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const bot = await createBot({ settings });
  bot.config.installSighup();
  // Listens on PORT/HOST (and ADMIN_PORT/ADMIN_HOST) and logs the addresses actually bound.
  await bot.listen();
  // Names this process (not npm's) for `wechat-bot reload` and `kill -HUP $(cat data/wechat-bot.pid)`.
  const pidFile = registerPid(settings.dataDir);
  process.once('exit', () => pidFile.remove());
  bot.log.info({ pid: process.pid, pidFile: pidFile.path }, 'pid file written');
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    bot.log.info({ signal }, 'shutting down');
    bot.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`wechat-bot: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
