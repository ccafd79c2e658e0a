import fs from 'node:fs';
import path from 'node:path';
import * as entry from '../../src/index';
import { startApiSandbox } from '../../src/sandbox/api-server';

const ROOT = path.join(__dirname, '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  main: string;
  types: string;
  exports: Record<string, { types: string; default: string } | string>;
  files: string[];
};

describe('src/index (the package entry)', () => {
  it.each(['createWebhookMiddleware', 'createApiClient', 'createPayClient', 'createStore', 'loadConfig', 'createReplyRenderer'] as const)(
    'should export %s as a function',
    (name) => {
      expect(typeof entry[name]).toBe('function');
    },
  );

  it("should be what package.json's exports, main and types name, as tsconfig.build.json emits it", () => {
    const build = JSON.parse(fs.readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8')) as { compilerOptions: { declaration?: boolean } };
    expect(build.compilerOptions.declaration).toBe(true);
    // rootDir "." and outDir "dist": src/index.ts becomes dist/src/index.js and dist/src/index.d.ts.
    expect(manifest.exports['.']).toEqual({ types: './dist/src/index.d.ts', default: './dist/src/index.js' });
    expect(manifest.main).toBe('dist/src/index.js');
    expect(manifest.types).toBe('dist/src/index.d.ts');
    expect(manifest.files).toEqual(expect.arrayContaining(['dist/', 'views/', 'LICENSE']));
  });
});

describe('packageViewsDir', () => {
  it("should find the package's reply templates", () => {
    expect(fs.existsSync(path.join(entry.packageViewsDir(), 'text.xml.ejs'))).toBe(true);
    expect(entry.packageViewsDir()).toBe(path.join(ROOT, 'views'));
  });
});

describe('createApiClient (of the package entry)', () => {
  it('should cache tickets in an in-process store of its own when given none, so a library user needs no store for them', async () => {
    const sandbox = await startApiSandbox();
    try {
      const store = await entry.createStore({ driver: 'memory', sqlitePath: '' });
      const tokens = entry.createTokenProvider({ ...sandbox.credentials, baseUrl: sandbox.url, store: store.kv });
      const api = entry.createApiClient({ baseUrl: sandbox.url, tokens });
      const ticket = await api.ticket.getCardTicket();
      expect(await api.ticket.getCardTicket()).toBe(ticket);
      expect(sandbox.calls.filter((c) => c.path === '/cgi-bin/ticket/getticket')).toHaveLength(1);
      expect(() => entry.createApiClient({ baseUrl: 'api.weixin.qq.com', tokens })).toThrow(/baseUrl/);
      await store.close();
    } finally {
      await sandbox.close();
    }
  });
});
