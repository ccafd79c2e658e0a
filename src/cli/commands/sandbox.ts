/**
 * `npx wechat-bot sandbox [serve]`: runs the stand-in of WeChat's servers on its own — the
 * official-account API over HTTP and WeChat Pay over HTTPS with client certificates — and prints the
 * environment a bot needs to use them. Stops on Ctrl-C.
 *
 * @example npx wechat-bot sandbox --api-port 8081 --pay-port 8082
 */
import type { Command } from 'commander';
import { SANDBOX_CREDENTIALS } from '../../config/settings';
import { createLogger } from '../../lib/logger';
import { startApiSandbox } from '../../sandbox/api-server';
import { SANDBOX_PAY_CERTS, startPaySandbox } from '../../sandbox/pay-server';
import { addSandboxPayCommand } from './spend';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`"${value}" is not a port number (0–65535)`);
  return n;
}

export function register(program: Command): void {
  const sandbox = program.command('sandbox').description("WeChat's servers, stand-in: run them alone, or play WeChat towards a bot");
  sandbox
    .command('serve', { isDefault: true })
    .description('run the API and Pay stand-ins until Ctrl-C and print the env a bot needs to use them')
    .option('--api-port <port>', 'port of the API stand-in (0 = any)', port, 0)
    .option('--pay-port <port>', 'port of the Pay stand-in (0 = any)', port, 0)
    .action(async (opts: { apiPort: number; payPort: number }) => {
      const log = createLogger({ level: process.env.LOG_LEVEL ?? 'info' });
      const api = await startApiSandbox({ port: opts.apiPort, acceptAnyFollower: true });
      const pay = await startPaySandbox({ port: opts.payPort, log });
      process.stdout.write(
        [
          'Sandbox running. A bot uses it with:',
          `  WECHAT_API_BASE=${api.url}`,
          `  WECHAT_APPID=${SANDBOX_CREDENTIALS.appId}`,
          `  WECHAT_APPSECRET=${SANDBOX_CREDENTIALS.appSecret}`,
          `  WECHAT_PAY_API_BASE=${pay.url}`,
          `  WECHAT_MCH_ID=${SANDBOX_CREDENTIALS.mchId}`,
          `  WECHAT_PAY_KEY=${SANDBOX_CREDENTIALS.payKey}`,
          `  WECHAT_PAY_CERT=${SANDBOX_PAY_CERTS.p12}`,
          `  NODE_EXTRA_CA_CERTS=${SANDBOX_PAY_CERTS.ca}   (the Pay stand-in's certificate authority)`,
          'Press Ctrl-C to stop.',
          '',
        ].join('\n'),
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await Promise.all([api.close(), pay.close()]);
    });
  addSandboxPayCommand(sandbox);
}
