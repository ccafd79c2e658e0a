/**
 * Test helper: writes config files (and templates) into a fresh temporary folder and removes it
 * afterwards. Returns the folder, usable as both config dir and views dir.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TempConfig {
  dir: string;
  write(file: string, text: string): void;
  remove(): void;
}

export function writeConfig(files: Record<string, string>): TempConfig {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wechat-bot-config-'));
  const write = (file: string, text: string) => {
    const abs = path.join(dir, file);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, text);
  };
  for (const [f, t] of Object.entries(files)) write(f, t);
  return { dir, write, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export const CAMPAIGNS_YAML = `campaigns:
  welcome-packet:
    kind: red_packet
    amount: 1.88
    send_name: Test shop
    wishing: Thanks
    act_name: Welcome
    remark: Follow to receive
    budget: 100.00
    max_packets: 10
    replies:
      campaign_over: "Campaign <%= campaign %> has ended."
`;
