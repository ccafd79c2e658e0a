/**
 * The console's static route: our scripts and CSS and the chart library (from node_modules, no CDN),
 * served without a session and with the security headers; nothing outside the allow-list.
 */
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { fixedClock } from '../../src/lib/clock';
import { type ConsoleTestBot, startConsoleTestBot } from './console-bot';

describe('console static files', () => {
  let cb: ConsoleTestBot;
  beforeAll(async () => {
    cb = await startConsoleTestBot({ clock: fixedClock(Date.parse('2026-12-04T02:00:00Z')) });
  });
  afterAll(() => cb.close());

  test('the chart library is served from node_modules, our scripts and CSS from views/console/static', async () => {
    const vendor = await request(cb.app).get('/console/static/vendor/chart.umd.min.js').expect(200);
    expect(vendor.headers['content-type']).toBe('text/javascript; charset=utf-8');
    const dist = path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js');
    expect(vendor.text === fs.readFileSync(dist, 'utf8')).toBe(true);
    for (const file of ['console.js', 'overview.js'])
      expect((await request(cb.app).get(`/console/static/${file}`).expect(200)).headers['content-type']).toMatch(/javascript/);
    const css = await request(cb.app).get('/console/static/console.css').expect(200);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(css.headers['x-content-type-options']).toBe('nosniff');
  });

  test('nothing else: no other module, no path out of the folder', async () => {
    for (const p of [
      '/console/static/vendor/koa.js',
      '/console/static/../layout.ejs',
      '/console/static/%2e%2e%2flayout.ejs',
      '/console/static/layout.ejs',
      '/console/static/sub/x.js',
    ])
      expect((await request(cb.app).get(p)).status).not.toBe(200);
  });
});
