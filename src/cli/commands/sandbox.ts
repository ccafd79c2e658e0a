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

/**
 * The environment a bot needs to use the stand-ins at these URLs, as lines that paste into `.env`
 * unchanged (comments start with `#`, one KEY=value a line, nothing after a value).
 *
 * @example sandboxEnvText('http://127.0.0.1:8081', 'https://127.0.0.1:8082')
 */
export function sandboxEnvText(apiUrl: string, payUrl: string): string {
  return [
    '# Sandbox running. Paste these lines into the .env of a bot (beside its package.json) and start it:',
    `WECHAT_API_BASE=${apiUrl}`,
    `WECHAT_APPID=${SANDBOX_CREDENTIALS.appId}`,
    `WECHAT_APPSECRET=${SANDBOX_CREDENTIALS.appSecret}`,
    `WECHAT_TOKEN=${SANDBOX_CREDENTIALS.token}`,
    `WECHAT_PAY_API_BASE=${payUrl}`,
    `WECHAT_MCH_ID=${SANDBOX_CREDENTIALS.mchId}`,
    `WECHAT_PAY_KEY=${SANDBOX_CREDENTIALS.payKey}`,
    `WECHAT_PAY_CERT=${SANDBOX_PAY_CERTS.p12}`,
    "# the Pay stand-in's certificate authority (trusted for Pay calls only; never set it for the real server):",
    `WECHAT_PAY_CA=${SANDBOX_PAY_CERTS.ca}`,
    '# Press Ctrl-C to stop.',
    '',
  ].join('\n');
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
      process.stdout.write(sandboxEnvText(api.url, pay.url));
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await Promise.all([api.close(), pay.close()]);
    });
  addSandboxPayCommand(sandbox);
}
