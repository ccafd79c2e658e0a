/**
 * Where this package's reply templates (`views/`) are, from TypeScript (`src/lib`) or from the build
 * (`dist/src/lib`) alike: the folder beside the nearest `package.json` named `wechat-bot` above this file.
 *
 * @example createReplyRenderer({ viewsDir: packageViewsDir() });
 * @see https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
import fs from 'node:fs';
import path from 'node:path';

export function packageViewsDir(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string }).name === 'wechat-bot') return path.join(dir, 'views');
    if (path.dirname(dir) === dir) throw new Error(`packageViewsDir: no wechat-bot package.json above ${__dirname}; pass viewsDir yourself`);
  }
}
