/**
 * The one place that reads `.env`: the file beside the project's `package.json`, whatever folder a
 * command runs from, so the bot (`npm start`) and every operator command (`npm run cli -- …`,
 * `npx wechat-bot …`) see the same settings. Variables already set in the environment win over the
 * file (dotenv's rule), so `WECHAT_TOKEN=x npm start` still overrides it.
 *
 * @example loadDotEnv(); const settings = loadSettings(process.env);
 * @see https://github.com/motdotla/dotenv#what-happens-to-environment-variables-that-were-already-set
 */
import fs from 'node:fs';
import path from 'node:path';
import dotenv from 'dotenv';

/**
 * The folder of the project's `package.json` (the one named `wechat-bot`), found by walking up from
 * `start` (default: this file's folder, which works from `src/` under tsx and from `dist/src/`).
 *
 * @example projectRoot() // '/srv/wechat-bot'
 */
export function projectRoot(start: string = __dirname): string {
  let dir = path.resolve(start);
  for (;;) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown };
      if (pkg.name === 'wechat-bot') return dir;
    } catch {
      /* no package.json here, or not ours: keep walking up */
    }
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(start, '..', '..');
    dir = parent;
  }
}

/**
 * Loads `<project root>/.env` into `env` (default `process.env`) without overriding what is set.
 * Returns the file's path when it was read, `undefined` when there is none. A file that exists but
 * cannot be read throws, naming it.
 */
export function loadDotEnv(env: NodeJS.ProcessEnv = process.env, root: string = projectRoot()): string | undefined {
  const file = path.join(root, '.env');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
  const parsed = dotenv.parse(text);
  for (const [key, value] of Object.entries(parsed)) if (env[key] === undefined) env[key] = value;
  return file;
}
