/**
 * One bot instance as its own process, for the multi-instance test (`multi-instance.test.ts`) — the
 * same composition `app.ts` runs (`createBot` from `loadSettings(process.env)`), so REDIS_URL,
 * DATABASE_URL, BOT_REDIS_PREFIX, BOT_PG_SCHEMA, BOT_OUTBOX_LEASE_MS, WECHAT_API_BASE,
 * WECHAT_PAY_API_BASE (with NODE_EXTRA_CA_CERTS for the sandbox CA) … all come from the environment.
 *
 * Protocol (one line each):
 * - stdout `READY {"port":…,"pid":…,"owner":"<outbox worker lease owner>","driver":"redis+postgres"}` once listening;
 * - stdin `qrcode <scene>` → one `api.qrcode.create()` (which needs the access token) → stdout
 *   `QRCODE ok` or `QRCODE error <message>`;
 * - stdin `close` (or SIGTERM) → `bot.close()`, stdout `CLOSED`, exit 0.
 * Logs go to stderr at LOG_LEVEL (default warn).
 *
 * @example node --require tsx/cjs test/scale/bot-process.ts
 */
import readline from 'node:readline';
import pino from 'pino';
import { createBot, type Bot } from '../../src/bot/create-bot';
import { loadSettings } from '../../src/config/settings';
import { createLogger } from '../../src/lib/logger';

async function main(): Promise<void> {
  const settings = loadSettings(process.env);
  const log = createLogger({
    level: process.env.LOG_LEVEL ?? 'warn',
    secrets: settings.secrets,
    destination: pino.destination({ dest: 2, sync: true }),
  });
  const bot: Bot = await createBot({ settings, log, watchConfig: false });
  const server = await bot.listen(0, '127.0.0.1');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`READY ${JSON.stringify({ port, pid: process.pid, owner: bot.worker.owner, driver: bot.store.driver })}\n`);

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= bot
      .close()
      .then(() => {
        process.stdout.write('CLOSED\n');
      })
      .finally(() => process.exit(0)));
  process.once('SIGTERM', close);

  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', function onCommand(line: string) {
    const [command, arg] = line.trim().split(/\s+/, 2);
    if (command === 'close') void close();
    else if (command === 'qrcode') {
      bot.api.qrcode
        .create({ scene: arg || 'scale', expireSeconds: 600 })
        .then(() => process.stdout.write('QRCODE ok\n'))
        .catch((error: unknown) => process.stdout.write(`QRCODE error ${error instanceof Error ? error.message : String(error)}\n`));
    }
  });
  // The parent died without saying goodbye: do not linger.
  lines.on('close', () => void close());
}

main().catch((error: unknown) => {
  process.stderr.write(`bot-process failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
