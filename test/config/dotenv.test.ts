/**
 * `.env` beside package.json (src/config/dotenv.ts): the bot and every CLI command read the same file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadDotEnv, projectRoot } from '../../src/config/dotenv';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'dotenv-'));
  fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'wechat-bot', version: '1.2.3' }));
  fs.mkdirSync(path.join(root, 'src', 'cli'), { recursive: true });
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe('projectRoot', () => {
  it('should find the wechat-bot package.json above a nested folder, skipping other packages', () => {
    fs.writeFileSync(path.join(root, 'src', 'package.json'), JSON.stringify({ name: 'something-else' }));
    expect(projectRoot(path.join(root, 'src', 'cli'))).toBe(root);
  });

  it('should find this repository from the source folder', () => {
    expect(fs.existsSync(path.join(projectRoot(), 'app.ts'))).toBe(true);
  });
});

describe('loadDotEnv', () => {
  it('should load the file beside package.json, the environment winning over it', () => {
    fs.writeFileSync(path.join(root, '.env'), 'WECHAT_APPID=wxfromfile\nWECHAT_TOKEN=fileToken\n# comment\n');
    const env: NodeJS.ProcessEnv = { WECHAT_TOKEN: 'envToken' };
    expect(loadDotEnv(env, root)).toBe(path.join(root, '.env'));
    expect(env).toEqual({ WECHAT_APPID: 'wxfromfile', WECHAT_TOKEN: 'envToken' });
  });

  it('should say it read nothing when there is no .env', () => {
    const env: NodeJS.ProcessEnv = {};
    expect(loadDotEnv(env, root)).toBeUndefined();
    expect(env).toEqual({});
  });

  it('should name a .env it cannot read', () => {
    fs.mkdirSync(path.join(root, '.env'));
    expect(() => loadDotEnv({}, root)).toThrow(`cannot read ${path.join(root, '.env')}`);
  });
});
