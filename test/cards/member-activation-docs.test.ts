/**
 * The README's member-card section (both languages) documents one-click activation: the defaults it
 * shows are the schema's, and the offline `simulate --activate` command is given.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_ACTIVATION_MESSAGES } from '../../src/cards/member-card-schema';

const ROOT = path.join(__dirname, '..', '..');

describe.each(['README.md', 'README.zh-CN.md'])('%s member-card activation paragraph', (file) => {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8').replace(/\n/g, ' ');

  it('should give the default activation messages of the config schema', () => {
    for (const message of Object.values(DEFAULT_ACTIVATION_MESSAGES)) expect(text.replace(/\s+/g, ' ')).toContain(message.replace(/\s+/g, ' '));
  });

  it('should show the simulate --activate command and the membership number', () => {
    expect(text).toMatch(/npx wechat-bot simulate --openid \S+ --activate <card_id>/);
    expect(text).toContain('00000001');
    expect(text).toContain('submit_membercard_user_info');
  });
});
