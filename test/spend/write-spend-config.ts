/**
 * Writes a complete config folder for spend tests: one reply rule, the `spend-packet` campaign,
 * limits without quiet hours, and the given spend.yaml.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

/** The `spend-packet` campaign's packet (YAML shape), without its budget and caps. */
export const SPEND_PACKET = {
  kind: 'red_packet',
  amount: { min: 10, max: 30 },
  send_name: '沙盒商户',
  wishing: '感谢惠顾',
  act_name: '满额送',
  remark: '满100送10',
};

export const SPEND_CAMPAIGNS = {
  campaigns: {
    'spend-packet': {
      ...SPEND_PACKET,
      budget: 1000,
      max_packets: 100,
      per_user: 10,
    },
  },
};

export function writeSpendConfig(dir: string, spend: unknown, extra: { campaigns?: unknown; limits?: unknown } = {}): string {
  const configDir = path.join(dir, 'config');
  fs.mkdirSync(configDir, { recursive: true });
  fs.writeFileSync(path.join(configDir, 'rules.yaml'), YAML.stringify({ rules: [{ id: 'hi', match: { content: 'hi' }, actions: [{ reply: 'hello' }] }] }));
  const campaigns = extra.campaigns ?? { campaigns: { 'spend-packet': SPEND_CAMPAIGNS.campaigns['spend-packet'] } };
  fs.writeFileSync(path.join(configDir, 'campaigns.yaml'), YAML.stringify(campaigns));
  fs.writeFileSync(path.join(configDir, 'limits.yaml'), YAML.stringify(extra.limits ?? { quiet_hours: 'off' }));
  if (spend !== undefined) fs.writeFileSync(path.join(configDir, 'spend.yaml'), typeof spend === 'string' ? spend : YAML.stringify(spend));
  return configDir;
}
