import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import request from 'supertest';
import { parseXml } from '../../../src/wechat/xml';
import { readMessage, type ReadMessageOptions } from '../../../src/wechat/koa/read-message';
import { textXml } from '../../helpers/inbound';
import { createTestWebhook, type TestWebhook } from '../../helpers/test-webhook';

/** A text message whose body is exactly `bytes` long (the padding goes into Content). */
function textOfSize(bytes: number): string {
  const base = textXml({ content: '' });
  const pad = bytes - Buffer.byteLength(base);
  if (pad < 0) throw new Error(`textOfSize: ${bytes} is below the smallest message`);
  return base.replace('<Content><![CDATA[]]></Content>', `<Content><![CDATA[${'x'.repeat(pad)}]]></Content>`);
}

/** POSTs `chunks` with Transfer-Encoding: chunked (no Content-Length) over a real loopback socket. */
async function postChunked(t: TestWebhook, chunks: Buffer[]): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  const server = http.createServer(t.callback);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: `/wechat?${t.query()}`,
        headers: { 'content-type': 'text/xml', 'transfer-encoding': 'chunked', connection: 'close' },
      });
      let answered = false;
      req.on('response', (res) => {
        answered = true;
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8'), headers: res.headers }));
      });
      // The server may close the socket while we are still writing: that is its right after a 413.
      req.on('error', (err) => {
        if (!answered) reject(err);
      });
      let i = 0;
      const writeNext = () => {
        while (i < chunks.length && !answered) {
          const ok = req.write(chunks[i++]);
          if (!ok) {
            req.once('drain', writeNext);
            return;
          }
        }
        req.end();
      };
      writeNext();
    });
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** readMessage as the body reader these tests exercise (the body is refused before any XML is read). */
function readBody(options: Omit<ReadMessageOptions, 'token'> = {}) {
  return readMessage({ token: 'BodyTestToken1', ...options });
}

describe('readMessage: the body', () => {
  it('should refuse a limit that is not a positive integer, when built', () => {
    expect(() => readBody({ limitBytes: 0 })).toThrow(TypeError);
    expect(() => readBody({ limitBytes: 1.5 })).toThrow(TypeError);
    expect(() => readBody({ limitBytes: -1 })).toThrow(TypeError);
  });

  it('should accept a body of exactly the default 64 KiB', async () => {
    const t = createTestWebhook();
    const body = textOfSize(64 * 1024);
    expect(Buffer.byteLength(body)).toBe(64 * 1024);
    const res = await request(t.callback).post(`/wechat?${t.query()}`).type('text/xml').send(body);
    expect(res.status).toBe(200);
    expect(parseXml(res.text).Content).toMatch(/^x{65000,}$/);
  });

  it('should answer 413 to a Content-Length over the default 64 KiB, without calling the handler', async () => {
    const t = createTestWebhook();
    const body = textOfSize(64 * 1024 + 1);
    const res = await request(t.callback).post(`/wechat?${t.query()}`).type('text/xml').send(body);
    expect(res.status).toBe(413);
    expect(t.handlerCalls).toHaveLength(0);
  });

  it('should answer 413 to a declared Content-Length over a configured limit', async () => {
    const t = createTestWebhook({ maxBodyBytes: 512 });
    const res = await request(t.callback).post(`/wechat?${t.query()}`).type('text/xml').send(textOfSize(513));
    expect(res.status).toBe(413);
    expect((await request(t.callback).post(`/wechat?${t.query()}`).type('text/xml').send(textOfSize(512))).status).toBe(200);
  });

  it('should answer 413 to a chunked body without Content-Length once it passes the limit', async () => {
    const t = createTestWebhook();
    const xml = textOfSize(200 * 1024);
    const buf = Buffer.from(xml);
    const chunks: Buffer[] = [];
    for (let i = 0; i < buf.length; i += 8192) chunks.push(buf.subarray(i, i + 8192));
    const res = await postChunked(t, chunks);
    expect(res.status).toBe(413);
    expect(t.handlerCalls).toHaveLength(0);
  });

  it.each([
    ['chunked', { 'transfer-encoding': 'chunked' }],
    ['declared-huge', { 'content-length': '10000000000' }],
  ])('should cut off an endless %s upload after answering 413', async (_label, extraHeaders) => {
    const t = createTestWebhook({ maxBodyBytes: 4096 });
    const server = http.createServer(t.callback);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const outcome = await new Promise<{ status: number; closed: boolean }>((resolve) => {
        let status = 0;
        const req = http.request({
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: `/wechat?${t.query()}`,
          headers: { 'content-type': 'text/xml', ...extraHeaders },
        });
        req.on('response', (res) => {
          status = res.statusCode ?? 0;
          res.resume();
        });
        req.on('error', () => undefined);
        // Keep uploading for as long as the socket lives; the server must end it.
        req.on('close', () => resolve({ status, closed: true }));
        const chunk = Buffer.alloc(1024, 'a');
        const pump = () => {
          if (req.destroyed) return;
          while (req.write(chunk)) {
            if (req.destroyed) return;
          }
          req.once('drain', pump);
        };
        req.write('<xml><Content>');
        pump();
      });
      expect(outcome).toEqual({ status: 413, closed: true });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('should read a chunked body under the limit', async () => {
    const t = createTestWebhook();
    const buf = Buffer.from(textXml({ content: 'in pieces' }));
    const res = await postChunked(t, [buf.subarray(0, 10), buf.subarray(10, 50), buf.subarray(50)]);
    expect(res.status).toBe(200);
    expect(parseXml(res.body).Content).toBe('in pieces');
  });

  it('should keep multi-byte characters split across chunks intact', async () => {
    const t = createTestWebhook();
    const buf = Buffer.from(textXml({ content: '你好，世界 🎉' }));
    const cut = buf.indexOf(Buffer.from('好')) + 1; // in the middle of a 3-byte character
    const res = await postChunked(t, [buf.subarray(0, cut), buf.subarray(cut)]);
    expect(res.status).toBe(200);
    expect(parseXml(res.body).Content).toBe('你好，世界 🎉');
  });

  it.each([
    ['empty', ''],
    ['whitespace only', '  \n\t '],
  ])('should answer 400 to an %s body', async (_label, body) => {
    const t = createTestWebhook();
    const res = await request(t.callback).post(`/wechat?${t.query()}`).type('text/xml').send(body);
    expect(res.status).toBe(400);
    expect(t.handlerCalls).toHaveLength(0);
  });

  it('should answer 400 to a POST with no body at all', async () => {
    const t = createTestWebhook();
    const res = await request(t.callback).post(`/wechat?${t.query()}`);
    expect(res.status).toBe(400);
  });

  it('should answer 400 when the declared body never arrives (no hanging request)', async () => {
    const app = new Koa();
    app.use(async function funnel(ctx, next) {
      try {
        await next();
      } catch (err) {
        ctx.status = (err as { status?: number }).status ?? 500;
        ctx.body = (err as Error).message;
      }
    });
    app.use(readBody({ timeoutMs: 50 }));
    app.use(async function ok(ctx) {
      ctx.body = 'read';
    });
    const server = http.createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { 'content-length': '100' } });
        req.on('response', (r) => {
          let body = '';
          r.on('data', (c: Buffer) => (body += c.toString()));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.write('<xml>'); // 5 of the 100 bytes promised, then silence
      });
      expect(res.status).toBe(400);
      expect(res.body).toMatch(/not received in time/);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('should settle a request whose client went away mid-body, without calling the handler', async () => {
    const t = createTestWebhook();
    const server = http.createServer(t.callback);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const logged = t.waitForLog(/request aborted|could not read the body/);
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: `/wechat?${t.query()}`, headers: { 'content-length': '1000' } });
      req.on('error', () => undefined);
      req.write('<xml><ToUserName>', () => setImmediate(() => req.destroy()));
      await logged;
      expect(t.handlerCalls).toHaveLength(0);
      // A client hanging up is not a failure of ours: nothing at error level.
      await t.waitForLog('client closed the connection early');
      const levels = t.logLines.map((l) => (JSON.parse(l) as { level: number }).level);
      expect(levels.filter((level) => level >= 50)).toEqual([]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
